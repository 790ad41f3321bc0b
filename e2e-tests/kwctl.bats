#!/usr/bin/env bats
# The case tables of e2e-tests/ through `kwctl run`: the same cases the repository's runner checks
# in `make wasm-tests`, so both hosts must agree case by case. kwctl comes from $KWCTL (the
# Makefile resolves it from $KWCTL, PATH or ../shared/tools/kwctl).

setup_file() {
  [ -n "${KWCTL:-}" ] || skip "no kwctl"
  export DIR="$BATS_TEST_DIRNAME"
  export POLICY="${POLICY:-$BATS_TEST_DIRNAME/../policy.wasm}"
  export HOME="$BATS_FILE_TMPDIR/home"
  mkdir -p "$HOME"
}

setup() { load lib; }

# kwctl_case CASE_JSON: runs the case through kwctl (replaying its registry answers) and checks it.
kwctl_case() {
  local case="$1" out replay=()
  if [ "$(jq '.lookups // [] | length' <<<"$case")" -gt 0 ]; then
    session_of "$case" >"$BATS_TEST_TMPDIR/session.yml"
    replay=(--replay-host-capabilities-interactions "$BATS_TEST_TMPDIR/session.yml")
  fi
  out=$("$KWCTL" run "${replay[@]}" --request-path "$DIR/$(jq -r .request <<<"$case")" \
    --settings-path "$DIR/$(jq -r .settings <<<"$case")" "$POLICY" 2>/dev/null) || { echo "kwctl run failed"; return; }
  check_response "$case" "$out"
}

# kwctl_settings_case CASE_JSON: valid settings evaluate a Pod; invalid ones stop kwctl with the
# whole message.
kwctl_settings_case() {
  local case="$1" out status=0
  out=$("$KWCTL" run --request-path "$DIR/requests/pod-create.json" --settings-path "$DIR/$(jq -r .settings <<<"$case")" \
    "$POLICY" 2>&1) || status=$?
  if [ "$(jq .valid <<<"$case")" = true ]; then
    [ "$status" -eq 0 ] && [[ "$out" == *'"allowed":true'* ]] || echo "status $status: $out"
  else
    [ "$status" -ne 0 ] && [[ "$out" == *"Provided settings are not valid: $(jq -r '.message // ""' <<<"$case")"* ]] \
      || echo "status $status: $out"
  fi
}

@test "every admission case of cases.json through kwctl run" {
  for_each_case cases.json kwctl_case
}

@test "every settings case of settings-cases.json through kwctl run" {
  for_each_case settings-cases.json kwctl_settings_case
}
