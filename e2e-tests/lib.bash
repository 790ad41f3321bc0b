# Helpers shared by the bats suites: each host (kwctl, policy-server) produces an AdmissionResponse
# for a case of cases.json, and check_response judges it the same way for all of them.

# jq helpers: an RFC 6901 pointer as a jq path, and an RFC 6902 patch applied to an object.
# (Kubewarden's patches come from json_patch::diff and hold add, remove and replace of object
# members and list items in place; that is all `apply` needs.)
JQ_LIB='
  def path_of: split("/")[1:] | map(gsub("~1"; "/") | gsub("~0"; "~") | (tonumber? // .));
  def apply($ops): reduce $ops[] as $op (.; if $op.op == "remove" then delpaths([$op.path | path_of])
                                            else setpath($op.path | path_of; $op.value) end);
  def change($changes): reduce ($changes | to_entries[]) as $c (.; setpath($c.key | path_of; $c.value));
'

# A case's request and settings are each a file under e2e-tests/ (its name) or given inline.

# case_review CASE_JSON FILE: writes the case's request to FILE as an AdmissionReview: its file, or
# its inline request with the fields every host requires and the policy does not read (resource,
# userInfo) filled in where the case leaves them out.
case_review() {
  if [ "$(jq -r '.request | type' <<<"$1")" = string ]; then
    cp "$DIR/$(jq -r .request <<<"$1")" "$2"
  else
    jq '{apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request: ({
          resource: {group: .request.kind.group, version: (.request.kind.version // "v1"),
                     resource: ((.request.kind.kind | ascii_downcase) + "s")},
          userInfo: {}} + .request)}' <<<"$1" >"$2"
  fi
}

# case_request CASE_JSON: the case's AdmissionRequest.
case_request() {
  if [ "$(jq -r '.request | type' <<<"$1")" = string ]; then
    jq 'if .kind == "AdmissionReview" then .request else . end' "$DIR/$(jq -r .request <<<"$1")"
  else
    jq '.request' <<<"$1"
  fi
}

# skip_invalid_settings CASE_JSON: prints a skip, and succeeds, for a case whose settings a host
# refuses when it loads the policy (`invalidSettings`; the engine and the runner check what the
# module answers, settings-cases.json what the hosts say of such settings).
skip_invalid_settings() {
  [ "$(jq '.invalidSettings // false' <<<"$1")" = true ] || return 1
  echo "SKIP: invalid settings, which a host refuses when it loads the policy"
}

# case_settings CASE_JSON: the case's settings document, compact.
case_settings() {
  if [ "$(jq -r '.settings | type' <<<"$1")" = string ]; then jq -c . "$DIR/$(jq -r .settings <<<"$1")"
  else jq -c '.settings' <<<"$1"; fi
}

# settings_document SETTINGS_CASE_JSON FILE: writes the settings case's document to FILE, byte for
# byte: its file under e2e-tests/, its inline text, its `[text, times]` pieces or its hex.
settings_document() {
  if [ "$(jq 'has("settingsFile")' <<<"$1")" = true ]; then cp "$DIR/$(jq -r .settingsFile <<<"$1")" "$2"
  elif [ "$(jq 'has("settings_hex")' <<<"$1")" = true ]; then
    jq -r .settings_hex <<<"$1" | python3 -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.stdin.read().strip()))' >"$2"
  elif [ "$(jq '.settings_parts // [] | length' <<<"$1")" -gt 0 ]; then
    jq -j '[.settings_parts[] | .[0] * .[1]] | add' <<<"$1" >"$2"
  else jq -j '.settings // ""' <<<"$1" >"$2"; fi
}

# skip_not_an_object FILE: prints a skip, and succeeds, unless FILE is one JSON object in UTF-8,
# nested at most 128 levels deep (the limit of the hosts' parsers): kwctl and the policy-server
# read settings as such an object themselves; the runner gives the module any bytes.
skip_not_an_object() {
  python3 - "$1" <<'PY' && return 1
import json, sys
def depth(v):
    inner = v.values() if isinstance(v, dict) else v if isinstance(v, list) else ()
    return 1 + max(map(depth, inner), default=0)
try:
    v = json.loads(open(sys.argv[1], "rb").read().decode("utf-8"))
except (ValueError, RecursionError):
    sys.exit(1)
sys.exit(0 if isinstance(v, dict) and depth(v) <= 128 else 1)
PY
  echo "SKIP: the document is not one JSON object in UTF-8 nested at most 128 deep, which a host reads itself"
}

# session_of CASE_JSON: a kwctl replay session answering the case's registry lookups, in order
# (each recorded answer names its capability; manifest_digest when it does not).
session_of() {
  jq -r '"---", (.lookups[] | "- type: Exchange", "  request: |",
    "    !\({manifest_digest: "OciManifestDigest", oci_manifest: "OciManifest",
           oci_manifest_config: "OciManifestAndConfig"}[.capability // "manifest_digest"])", "    image: \(.image)",
    "  response:", (if .error then "    type: Error", "    message: \(.error | @json)"
                    else "    type: Success", "    payload: \((if .digest then {digest} else .response end) | tojson | @json)" end))' <<<"$1"
}

# check_response CASE_JSON RESPONSE_JSON: prints why the AdmissionResponse does not match the
# case (allowed, whole message, the patch applied to the object gives the expected object),
# nothing when it does.
check_response() {
  local case="$1" out="$2" allowed message object patch got want
  allowed=$(jq .allowed <<<"$out")
  [ "$allowed" = "$(jq .allowed <<<"$case")" ] || { echo "allowed is $allowed: $out"; return; }
  message=$(jq -r '.status.message // ""' <<<"$out")
  [ "$message" = "$(jq -r '.message // ""' <<<"$case")" ] || { echo "message is \"$message\""; return; }
  [ "$(jq -c '.warnings // []' <<<"$out")" = "$(jq -c '.warnings // []' <<<"$case")" ] \
    || { echo "warnings are $(jq -c '.warnings // []' <<<"$out")"; return; }
  object=$(case_request "$case" | jq '.object')
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

# for_each_case FILE FUNCTION: calls FUNCTION with each case of FILE, $CASE_JOBS at a time (2,
# the machines' cores), each call in a scratch folder of its own ($BATS_TEST_TMPDIR) and with the
# case's index ($CASE_INDEX, from 0); prints each failure (the function's output) with the case's
# name and a summary, in the table's order; fails when a case failed or none ran. A function that
# prints "SKIP: reason" skips its case.
for_each_case() {
  local file="$1" fn="$2" failures=0 count=0 skipped=0 at why work="$BATS_TEST_TMPDIR/cases"
  mkdir -p "$work"
  jq -c '.[]' "$DIR/$file" | split -l 1 -a 4 -d - "$work/case-"
  # The jobs are new shells: they get this file's functions and the suite's variables.
  export -f $(compgen -A function)
  export BATS_FILE_TMPDIR JQ_LIB
  find "$work" -name 'case-????' | sort | xargs -P "${CASE_JOBS:-2}" -I{} bash -c '
    at="$1"; export BATS_TEST_TMPDIR="$at.d" CASE_INDEX=$((10#${at##*-})); mkdir -p "$BATS_TEST_TMPDIR"
    "$2" "$(cat "$at")" >"$at.why" 2>"$at.err"' _ {} "$fn"
  for at in $(find "$work" -name 'case-????' | sort); do
    count=$((count + 1))
    why=$(cat "$at.why")
    case "$why" in
      "") ;;
      SKIP:*) skipped=$((skipped + 1)); echo "skipped $(jq -r .name "$at"): ${why#SKIP: }" ;;
      *) failures=$((failures + 1)); echo "FAIL $(jq -r .name "$at"): $why" ;;
    esac
  done
  echo "$count cases, $failures failed, $skipped skipped"
  [ "$count" -gt 0 ] && [ "$failures" -eq 0 ]
}

# validate_named CASE_JSON: the fields a validate-mode rejection must name, derived from what
# mutate mode changes (docs/behaviour.md §6b: every change but the metadata and the pull secrets is
# an image), one per line as `entry|field|says`: the container or
# volume entry and the image's field (an image outside a pod spec is named by its field), both
# empty for a pull secret, whose pod spec `says` names.
validate_named() {
  local object
  object=$(case_request "$1" | jq '.object')
  jq -r -n "$JQ_LIB"'
    def dotted: split("/")[1:] | map(if test("^[0-9]+$") then "[\(.)]" else ".\(.)" end) | join("") | ltrimstr(".");
    $case.changes // {} | to_entries[] as $c
    | if ($c.key | test("^/metadata|/imagePullSecrets$") | not) then
        "\($c.key | sub("/image(/reference)?$"; "") | dotted)|\($c.key | dotted)| image \($obj | getpath($c.key | path_of) | tojson) must be \($c.value | tojson)"
      elif ($c.key | endswith("/imagePullSecrets")) then
        ($obj | getpath($c.key | path_of) // []) as $before
        | ($c.key | sub("/imagePullSecrets$"; "") | dotted) as $spec
        | $c.value[] | select(. as $e | $before | index([$e]) | not)
        | "||\($spec).imagePullSecrets must list the secret \(.name | tojson)"
      else empty end' --argjson case "$1" --argjson obj "$object"
}

# check_validate_response CASE_JSON RESPONSE_JSON: prints why a validate-mode AdmissionResponse is
# not what mutate mode's case implies (no patch ever; mutate's rejection in the same words; a
# rejection naming every field mutate mode changes and no other; else accepted), nothing when it is.
check_validate_response() {
  local case="$1" out="$2" allowed message patch named entry field says count=0 fields
  patch=$(jq -r '.patch // ""' <<<"$out")
  [ -z "$patch" ] || { echo "validate mode mutated: $(base64 -d <<<"$patch")"; return; }
  allowed=$(jq .allowed <<<"$out")
  message=$(jq -r '.status.message // ""' <<<"$out")
  if [ "$(jq .allowed <<<"$case")" = false ]; then
    [ "$allowed" = false ] && [ "$message" = "$(jq -r .message <<<"$case")" ] \
      || echo "expected mutate mode's rejection, got allowed=$allowed: $message"
    return
  fi
  named=$(validate_named "$case")
  if [ -z "$named" ]; then
    [ "$allowed" = true ] || echo "rejected, but mutate mode changes nothing: $message"
    return
  fi
  [ "$allowed" = false ] || { echo "accepted, but mutate mode changes: $named"; return; }
  while IFS='|' read -r entry field says; do
    count=$((count + 1))
    if [ -n "$entry" ]; then
      [[ "$message" == *"$entry):$says"* || "$message" == *"$entry:$says"* || "$message" == *"$field:$says"* ]] \
        || { echo "does not name $entry:$says in: $message"; return; }
    else
      [[ "$message" == *"$says"* ]] || { echo "does not name $says in: $message"; return; }
    fi
  done <<<"$named"
  fields=$(grep -o -e ' must be ' -e ' must list the secret ' <<<"$message" | wc -l)
  [ "$fields" -eq "$count" ] || echo "names $fields fields, expected $count: $message"
}

# yq_spec FILE KEY: `spec.KEY` of the policy of a manifest (its one document that is no
# PolicyServer), as JSON (`null` when absent).
yq_spec() {
  python3 -c 'import json, sys, yaml
policy = next(d for d in yaml.safe_load_all(open(sys.argv[1])) if d["kind"] != "PolicyServer")
print(json.dumps(policy["spec"].get(sys.argv[2])))' "$1" "$2"
}

# policy_document FILE: the policy of a manifest (without a PolicyServer, which kwctl refuses).
policy_document() {
  python3 -c 'import sys, yaml
yaml.safe_dump(next(d for d in yaml.safe_load_all(open(sys.argv[1])) if d["kind"] != "PolicyServer"), sys.stdout)' "$1"
}
