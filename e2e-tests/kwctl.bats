#!/usr/bin/env bats
# The case tables of e2e-tests/ through `kwctl run`: the same cases the repository's runner checks
# in `make wasm-tests`, so both hosts must agree case by case. kwctl comes from $KWCTL (the
# Makefile resolves it from $KWCTL or PATH).

setup_file() {
  [ -n "${KWCTL:-}" ] || skip "no kwctl"
  export DIR="$BATS_TEST_DIRNAME"
  export POLICY="${POLICY:-$BATS_TEST_DIRNAME/../policy.wasm}"
  export HOME="$BATS_FILE_TMPDIR/home"
  mkdir -p "$HOME"
}

setup() { load lib; }

# kwctl_run ARGS...: `kwctl run` with an offline Sigstore trust root (sigstore-offline.json: a
# test CA and log key that sign nothing). Without one, every run first tries to fetch Sigstore's
# TUF root, which a registry-only network refuses after about a second of DNS retries; no case
# verifies a signature, so nothing else changes.
kwctl_run() { "$KWCTL" run --sigstore-trust-config "$DIR/sigstore-offline.json" "$@"; }

# kwctl_answer CASE_JSON SETTINGS_JSON: the AdmissionResponse of `kwctl run` for the case's request
# with these settings, replaying the case's registry answers.
kwctl_answer() {
  local case="$1" replay=()
  if [ "$(jq '.lookups // [] | length' <<<"$case")" -gt 0 ]; then
    session_of "$case" >"$BATS_TEST_TMPDIR/session.yml"
    replay=(--replay-host-capabilities-interactions "$BATS_TEST_TMPDIR/session.yml")
  fi
  case_review "$case" "$BATS_TEST_TMPDIR/review.json"
  kwctl_run "${replay[@]}" --request-path "$BATS_TEST_TMPDIR/review.json" --settings-json "$2" "$POLICY" \
    2>"$BATS_TEST_TMPDIR/kwctl.err"
}

# kwctl_failed: why kwctl run failed.
kwctl_failed() { echo "kwctl run failed: $(grep -m1 -i error "$BATS_TEST_TMPDIR/kwctl.err")"; }

# kwctl_case CASE_JSON: runs the case through kwctl and checks it.
kwctl_case() {
  local out
  skip_invalid_settings "$1" && return
  out=$(kwctl_answer "$1" "$(case_settings "$1")") || { kwctl_failed; return; }
  check_response "$1" "$out"
}

# kwctl_validate_case CASE_JSON: the case's request with `mode: validate` added to its settings.
kwctl_validate_case() {
  local out
  skip_invalid_settings "$1" && return
  out=$(kwctl_answer "$1" "$(case_settings "$1" | jq -c '. + {mode: "validate"}')") || { kwctl_failed; return; }
  check_validate_response "$1" "$out"
}

# kwctl_settings_case CASE_JSON: valid settings evaluate a Pod (an answer, whichever it is);
# invalid ones stop kwctl with the whole message.
kwctl_settings_case() {
  local case="$1" document="$BATS_TEST_TMPDIR/settings.json" out status=0
  settings_document "$case" "$document"
  skip_not_an_object "$document" && return
  out=$(kwctl_run --request-path "$DIR/requests/pod-create.json" --settings-path "$document" \
    "$POLICY" 2>&1) || status=$?
  if [ "$(jq .valid <<<"$case")" = true ]; then
    [ "$status" -eq 0 ] && [[ "$out" == *'"allowed":'* ]] || echo "status $status: $out"
  else
    [ "$status" -ne 0 ] && [[ "$out" == *"Provided settings are not valid: $(jq -r '.message // ""' <<<"$case")"* ]] \
      || echo "status $status: $out"
  fi
}

@test "every admission case of cases.json in validate mode through kwctl run" {
  for_each_case cases.json kwctl_validate_case
}

@test "every admission case of cases.json through kwctl run" {
  for_each_case cases.json kwctl_case
}

@test "every settings case of settings-cases.json through kwctl run" {
  for_each_case settings-cases.json kwctl_settings_case
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
    session_of "$(jq -c '.[] | select(.name == "pod_swapped_only_where_target_exists")' "$DIR/cases.json")" \
      >"$BATS_TEST_TMPDIR/session.yml"
    replay=(--replay-host-capabilities-interactions "$BATS_TEST_TMPDIR/session.yml")
  fi
  out=$(kwctl_run "${replay[@]}" --request-path "$DIR/requests/pod-create.json" "$yml" 2>/dev/null) \
    || { echo "kwctl run $file failed"; return; }
  direct=$(kwctl_run "${replay[@]}" --request-path "$DIR/requests/pod-create.json" --settings-json "$settings" \
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
