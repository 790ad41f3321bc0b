#!/usr/bin/env bash
# Module size and speed per release profile tried, then what the chosen module is made of.
set -euo pipefail
BENCH=${BENCH:-target/host/imageswap-bench}
levels=(s z 2 3)
modules=()
for level in "${levels[@]}"; do
  dir=build/size/opt-$level
  cargo build -q --locked --release --target wasm32-wasip1 -p imageswap --target-dir "$dir" \
    --config "profile.release.opt-level=$( [[ $level =~ ^[0-9]$ ]] && echo "$level" || echo "\"$level\"" )"
  modules+=("$dir/wasm32-wasip1/release/imageswap.wasm")
done
# One interleaved run over the four modules (these machines are noisy; rows of separate runs
# would not compare).
mapfile -t times < <("$BENCH" eval "${modules[@]}")
echo "| opt-level | policy.wasm | warm Pod swapped | fresh Pod swapped |"
echo "|---|---:|---:|---:|"
for i in "${!levels[@]}"; do
  level=${levels[$i]}
  chosen=$([ "$level" = s ] && echo " (chosen)" || true)
  echo "| \`$level\`$chosen (LTO, 1 codegen unit, strip, panic=abort) | $(stat -c %s "${modules[$i]}") B | ${times[$i]} |"
done
echo
if command -v twiggy >/dev/null || cargo install -q --locked twiggy@0.8.0 2>/dev/null; then
  # strip removes the names twiggy reports, so analyse a build that keeps them (debug info dropped).
  dir=build/size/names
  cargo build -q --locked --release --target wasm32-wasip1 -p imageswap --target-dir "$dir" --config 'profile.release.strip="debuginfo"'
  echo "Biggest contributors (twiggy top, unstripped build of the chosen profile):"
  echo
  echo '```text'
  twiggy top -n 15 "$dir/wasm32-wasip1/release/imageswap.wasm"
  echo '```'
else
  echo "SKIPPED size breakdown: twiggy could not be installed from crates.io"
fi
