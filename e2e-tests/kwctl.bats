#!/usr/bin/env bats
# The case tables of tests/cases/ through `kwctl run`: the same cases the repository's runner checks
# in `make wasm-tests`, judged by the same Rust (`hostcases judge`), so both hosts must agree case
# by case. kwctl comes from $KWCTL (the Makefile resolves it from $KWCTL or PATH).

setup_file() {
  [ -n "${KWCTL:-}" ] || skip "no kwctl"
  [ -n "${HOSTCASES:-}" ] || skip "no hostcases (make hostcases)"
  export DIR="$BATS_TEST_DIRNAME"
  export POLICY="${POLICY:-$BATS_TEST_DIRNAME/../policy.wasm}"
  export HOME="$BATS_FILE_TMPDIR/home"
  export CASES="$BATS_FILE_TMPDIR/cases" SETTINGS_CASES="$BATS_FILE_TMPDIR/settings-cases"
  mkdir -p "$HOME"
  "$HOSTCASES" write --host kwctl --module "$POLICY" "$CASES"
  "$HOSTCASES" write-settings --module "$POLICY" "$SETTINGS_CASES"
}

setup() { load lib; }

# kwctl_run ARGS...: `kwctl run` with an offline Sigstore trust root (sigstore-offline.json: a
# test CA and log key that sign nothing). Without one, every run first tries to fetch Sigstore's
# TUF root, which a registry-only network refuses after about a second of DNS retries; no case
# verifies a signature, so nothing else changes.
kwctl_run() { "$KWCTL" run --sigstore-trust-config "$DIR/sigstore-offline.json" "$@"; }

# kwctl_case MODE CASE_DIR: `kwctl run` of the case's request with its settings in MODE (mutate or
# validate), replaying its registry answers: the answer in MODE.json, or why there is none in
# MODE.error.
kwctl_case() {
  local mode="$1" at="$2" settings=settings.json replay=()
  [ "$mode" = mutate ] || settings=settings-validate.json
  [ ! -e "$at/session.yml" ] || replay=(--replay-host-capabilities-interactions "$at/session.yml")
  kwctl_run "${replay[@]}" --request-path "$at/review.json" --settings-json "$(cat "$at/$settings")" "$POLICY" \
    >"$at/$mode.json" 2>"$at/$mode.err" \
    || echo "kwctl run failed: $(grep -m1 -i error "$at/$mode.err")" >"$at/$mode.error"
}

# kwctl_settings_case CASE_DIR: `kwctl run` of a Pod with the case's settings document: its exit
# status in `status`, what it printed in `output`.
kwctl_settings_case() {
  local at="$1" status=0
  kwctl_run --request-path "$DIR/../tests/cases/requests/pod-create.json" --settings-path "$at/document" \
    "$POLICY" >"$at/output" 2>&1 || status=$?
  echo "$status" >"$at/status"
}

@test "every admission case of admission.json in validate mode through kwctl run" {
  run_cases "$CASES" kwctl_case validate
  "$HOSTCASES" judge --mode validate "$CASES"
}

@test "every admission case of admission.json through kwctl run" {
  run_cases "$CASES" kwctl_case mutate
  "$HOSTCASES" judge --mode mutate "$CASES"
}

@test "every settings case of validate-settings.json through kwctl run" {
  run_cases "$SETTINGS_CASES" kwctl_settings_case
  "$HOSTCASES" judge-settings --says "Provided settings are not valid: " "$SETTINGS_CASES"
}

# kwctl_example FILE: the manifest, its module pointed at the module under test, through `kwctl run`
# on a sample Pod that the seed maps swap: it must answer as the module does with the manifest's
# settings, reject in validate mode (the Pod needs swaps) and accept otherwise; in Kubewarden's
# monitor mode (`spec.mode: monitor`) it must accept without a patch, whatever the module says.
# Registry lookups (checkTargetExists) are replayed from the case that records them.
kwctl_example() {
  local file="$1" yml="$BATS_TEST_TMPDIR/$(basename "$1")" settings out direct replay=()
  policy_document "$file" | sed "s|^  module: .*|  module: file://$POLICY|" >"$yml"
  settings=$(yq_spec "$file" settings) || { echo "no settings in $file"; return; }
  if [ "$(jq '.checkTargetExists // false' <<<"$settings")" = true ]; then
    replay=(--replay-host-capabilities-interactions "$(case_named "$CASES" pod_swapped_only_where_target_exists)/session.yml")
  fi
  out=$(kwctl_run "${replay[@]}" --request-path "$DIR/../tests/cases/requests/pod-create.json" "$yml" 2>/dev/null) \
    || { echo "kwctl run $file failed"; return; }
  direct=$(kwctl_run "${replay[@]}" --request-path "$DIR/../tests/cases/requests/pod-create.json" --settings-json "$settings" \
    "$POLICY" 2>/dev/null) || { echo "kwctl run with the settings of $file failed"; return; }
  if [ "$(yq_spec "$file" mode)" = '"monitor"' ]; then
    [ "$(jq -c '[.allowed, .patch]' <<<"$out")" = '[true,null]' ] || echo "$file in monitor mode: $out"
    [ "$(jq .allowed <<<"$direct")" = true ] && [ "$(jq -r '.patch // ""' <<<"$direct")" != "" ] \
      || echo "with the settings of $file the Pod is not swapped, so monitor mode shows nothing: $direct"
    return
  fi
  [ "$(jq -S . <<<"$out")" = "$(jq -S . <<<"$direct")" ] || { echo "$file: $out differs from $direct"; return; }
  if [ "$(jq -r '.mode // "mutate"' <<<"$settings")" = validate ]; then
    [ "$(jq .allowed <<<"$out")" = false ] || echo "$file accepts a Pod that needs swaps: $out"
  else
    [ "$(jq .allowed <<<"$out")" = true ] || echo "$file rejects: $out"
  fi
}

@test "every manifest under examples/ runs through kwctl run on a sample Pod" {
  local file failures=0 count=0 why
  for file in "$DIR"/../examples/*.yml; do
    count=$((count + 1))
    why=$(kwctl_example "$file")
    [ -z "$why" ] || { failures=$((failures + 1)); echo "FAIL $(basename "$file"): $why"; }
  done
  echo "$count examples, $failures failed"
  [ "$count" -ge 9 ] && [ "$failures" -eq 0 ]
}
