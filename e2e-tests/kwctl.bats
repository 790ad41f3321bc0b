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

# jq helpers: an RFC 6901 pointer as a jq path, and an RFC 6902 patch applied to an object.
# (kwctl's patches come from json_patch::diff and hold add, remove and replace of object members
# and list items in place; that is all `apply` needs.)
JQ_LIB='
  def path_of: split("/")[1:] | map(gsub("~1"; "/") | gsub("~0"; "~") | (tonumber? // .));
  def apply($ops): reduce $ops[] as $op (.; if $op.op == "remove" then delpaths([$op.path | path_of])
                                            else setpath($op.path | path_of; $op.value) end);
  def change($changes): reduce ($changes | to_entries[]) as $c (.; setpath($c.key | path_of; $c.value));
'

request_of() { jq 'if .kind == "AdmissionReview" then .request else . end' "$DIR/$1"; }

# session_of CASE_JSON: a kwctl replay session answering the case's registry lookups, in order.
session_of() {
  jq -r '"---", (.lookups[] | "- type: Exchange", "  request: |", "    !OciManifestDigest", "    image: \(.image)",
    "  response:", (if .digest then "    type: Success", "    payload: \(({digest}) | tojson | @json)"
                    else "    type: Error", "    message: \(.error | @json)" end))' <<<"$1"
}

# check_case CASE_JSON: prints why the case fails, nothing when it passes.
check_case() {
  local case="$1" request settings out allowed message object patch got want replay=()
  request=$(jq -r .request <<<"$case")
  settings=$(jq -r .settings <<<"$case")
  if [ "$(jq '.lookups // [] | length' <<<"$case")" -gt 0 ]; then
    session_of "$case" >"$BATS_FILE_TMPDIR/session.yml"
    replay=(--replay-host-capabilities-interactions "$BATS_FILE_TMPDIR/session.yml")
  fi
  out=$("$KWCTL" run "${replay[@]}" --request-path "$DIR/$request" --settings-path "$DIR/$settings" "$POLICY" 2>/dev/null) \
    || { echo "kwctl run failed"; return; }
  allowed=$(jq .allowed <<<"$out")
  [ "$allowed" = "$(jq .allowed <<<"$case")" ] || { echo "allowed is $allowed: $out"; return; }
  message=$(jq -r '.status.message // ""' <<<"$out")
  [ "$message" = "$(jq -r '.message // ""' <<<"$case")" ] || { echo "message is \"$message\""; return; }
  object=$(request_of "$request" | jq '.object')
  patch=$(jq -r '.patch // ""' <<<"$out")
  if [ "$(jq '.changes // {} | length' <<<"$case")" -eq 0 ]; then
    [ -z "$patch" ] || echo "mutated, but no change was expected: $(base64 -d <<<"$patch")"
    return
  fi
  [ -n "$patch" ] || { echo "not mutated"; return; }
  got=$(jq -S -n "$JQ_LIB"' $obj | apply($ops)' --argjson obj "$object" --argjson ops "$(base64 -d <<<"$patch")")
  want=$(jq -S -n "$JQ_LIB"' $obj | change($changes)' --argjson obj "$object" --argjson changes "$(jq .changes <<<"$case")")
  [ "$got" = "$want" ] || echo "patched object differs: got $(jq -c . <<<"$got") expected $(jq -c . <<<"$want")"
}

@test "every admission case of cases.json through kwctl run" {
  local failures=0 count=0 case why
  while IFS= read -r case; do
    count=$((count + 1))
    why=$(check_case "$case")
    if [ -n "$why" ]; then
      echo "FAIL $(jq -r .name <<<"$case"): $why"
      failures=$((failures + 1))
    fi
  done < <(jq -c '.[]' "$DIR/cases.json")
  echo "$count cases, $failures failed"
  [ "$count" -gt 0 ]
  [ "$failures" -eq 0 ]
}

@test "every settings case of settings-cases.json through kwctl run" {
  local failures=0 count=0 case settings expected
  while IFS= read -r case; do
    count=$((count + 1))
    settings=$(jq -r .settings <<<"$case")
    run "$KWCTL" run --request-path "$DIR/requests/pod-create.json" --settings-path "$DIR/$settings" "$POLICY"
    if [ "$(jq .valid <<<"$case")" = true ]; then
      [ "$status" -eq 0 ] && [[ "$output" == *'"allowed":true'* ]] || { echo "FAIL $(jq -r .name <<<"$case"): $output"; failures=$((failures + 1)); }
    else
      expected=$(jq -r '.message // ""' <<<"$case")
      [ "$status" -ne 0 ] && [[ "$output" == *"Provided settings are not valid"* ]] && [[ "$output" == *"$expected"* ]] \
        || { echo "FAIL $(jq -r .name <<<"$case"): status $status: $output"; failures=$((failures + 1)); }
    fi
  done < <(jq -c '.[]' "$DIR/settings-cases.json")
  echo "$count cases, $failures failed"
  [ "$count" -gt 0 ]
  [ "$failures" -eq 0 ]
}
