#!/usr/bin/env bash
# Where a warm `validate` call spends its instructions inside the module, by wasm function:
# callgrind counts the instructions of wasmtime's compiled code (as addresses), and the perf map
# wasmtime writes with IMAGESWAP_PERFMAP names them.
#   bench/wasm-profile.sh PAYLOAD [CALLS] [TOP]   (PAYLOAD as for `imageswap-bench calls`: 0-3, pod,
#   deployment, worstN for the Nth worst-case shape, @FILE for a payload file)
# Builds the module with its names (the playground profile: the release profile, unstripped).
# Needs valgrind and `cargo build --profile host -p imageswap-bench`.
set -euo pipefail
payload=$1 calls=${2:-2} top=${3:-40}
bench=${BENCH:-target/host/imageswap-bench}
cargo build --locked --target wasm32-wasip1 --profile playground -p imageswap >&2
module=target/wasm32-wasip1/playground/imageswap.wasm
out=$(mktemp -d)
IMAGESWAP_PERFMAP=1 valgrind --tool=callgrind --smc-check=all --callgrind-out-file="$out/callgrind.out" \
    "$bench" calls "$module" "$payload" "$calls" 2>"$out/valgrind.log" &
pid=$!
wait $pid
callgrind_annotate --threshold=100 "$out/callgrind.out" >"$out/annotated.txt"
python3 bench/jit-functions.py "/tmp/perf-$pid.map" "$out/annotated.txt" "$calls" "$top"
rm -rf "$out" "/tmp/perf-$pid.map"
