#!/usr/bin/env bats
# The case tables of e2e-tests/ through a real Kubewarden policy-server, the way a cluster runs the
# policy: the annotated module is served on 127.0.0.1 with one policy per settings file, and each
# case's AdmissionReview is POSTed to /validate/<policy>. $POLICY_SERVER is the binary (the
# Makefile resolves it from $POLICY_SERVER or PATH).

# policy_of CASE_JSON: the id of the policy serving the case's settings: the name of its settings
# file, or for settings given inline a digest of them.
policy_of() {
  if [ "$(jq -r '.settings | type' <<<"$1")" = string ]; then
    basename "$(jq -r .settings <<<"$1")" .json | tr -c 'a-z0-9\n' '-'
  else
    echo "inline-$(jq -cS .settings <<<"$1" | sha256sum | cut -c1-12)"
  fi
}

# server_command POLICIES_YML PORT: sets SERVER to the command line of a policy-server serving
# POLICIES_YML on 127.0.0.1:PORT (readiness on PORT + 1), with the offline Sigstore trust root of
# kwctl.bats (no start waits for Sigstore's TUF root, which a registry-only network refuses).
server_command() {
  SERVER=(env HOME="$BATS_FILE_TMPDIR/home" "$POLICY_SERVER" --policies "$1" --addr 127.0.0.1 --port "$2"
    --readiness-probe-port "$(($2 + 1))" --ignore-kubernetes-connection-failure --log-no-color
    --policies-download-dir "$BATS_FILE_TMPDIR/download" --sigstore-cache-dir "$BATS_FILE_TMPDIR/sigstore"
    --sigstore-trust-config "$DIR/sigstore-offline.json")
}

# start_server POLICIES_YML PORT [LOG]: starts a policy-server in the background, its output in
# LOG (server.log of the file's directory by default); prints its pid.
start_server() {
  server_command "$1" "$2"
  "${SERVER[@]}" >"${3:-$BATS_FILE_TMPDIR/server.log}" 2>&1 &
  echo $!
}

setup_file() {
  [ -n "${POLICY_SERVER:-}" ] || skip "no policy-server"
  export DIR="$BATS_TEST_DIRNAME"
  export POLICY="${POLICY:-$BATS_TEST_DIRNAME/../annotated-policy.wasm}"
  mkdir -p "$BATS_FILE_TMPDIR/home" "$BATS_FILE_TMPDIR/download" "$BATS_FILE_TMPDIR/sigstore"
  load lib
  local case id settings
  # The settings of every case (but those a host refuses) twice: as the mutating policy, and in
  # validate mode as the second policy an operator deploys with `mutating: false` (served with
  # allowedToMutate: false, as the controller does for such a policy, and as the audit scanner
  # evaluates it).
  declare -A served=()
  while IFS= read -r case; do
    id=$(policy_of "$case")
    [ -z "${served[$id]:-}" ] || continue
    served[$id]=1
    settings=$(case_settings "$case")
    printf '%s:\n  module: file://%s\n  allowedToMutate: true\n  settings: %s\n' "$id" "$POLICY" "$settings"
    printf '%s-validate:\n  module: file://%s\n  allowedToMutate: false\n  settings: %s\n' \
      "$id" "$POLICY" "$(jq -c '. + {mode: "validate"}' <<<"$settings")"
  done < <(jq -c '.[] | select(.invalidSettings != true)' "$DIR/cases.json") >"$BATS_FILE_TMPDIR/policies.yml"
  export PORT=$((20000 + RANDOM % 20000))
  export SERVER_PID=$(start_server "$BATS_FILE_TMPDIR/policies.yml" "$PORT")
  local i
  for i in $(seq 1 120); do
    curl -sf "http://127.0.0.1:$((PORT + 1))/readiness" >/dev/null && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.5
  done
  cat "$BATS_FILE_TMPDIR/server.log" >&3
  return 1
}

teardown_file() {
  [ -z "${SERVER_PID:-}" ] || kill "$SERVER_PID" 2>/dev/null || true
}

setup() { load lib; }

# skip_unserved CASE_JSON: prints a skip, and succeeds, for a case this server cannot answer.
skip_unserved() {
  skip_invalid_settings "$1" && return 0
  [ "$(jq '.lookups // [] | length' <<<"$1")" -gt 0 ] || return 1
  echo "SKIP: recorded registry answers (the runner and kwctl replay them; registry.bats runs every lookup outcome against a real registry)"
}

# server_case CASE_JSON: POSTs the case's AdmissionReview and checks the response.
server_case() {
  local case="$1" out
  skip_unserved "$case" && return
  case_review "$case" "$BATS_TEST_TMPDIR/review.json"
  out=$(curl -sf -X POST -H 'Content-Type: application/json' --data-binary "@$BATS_TEST_TMPDIR/review.json" \
    "http://127.0.0.1:$PORT/validate/$(policy_of "$case")") || { echo "POST failed"; return; }
  check_response "$case" "$(jq '.response' <<<"$out")"
}

# server_settings_case CASE_JSON: a policy-server given the case's invalid settings exits with the
# whole message (the valid ones are served together, by the test that loads them all).
server_settings_case() {
  local case="$1" document="$BATS_TEST_TMPDIR/settings.json" yml="$BATS_TEST_TMPDIR/one.yml" status=0
  [ "$(jq .valid <<<"$case")" = false ] || return 0
  settings_document "$case" "$document"
  skip_not_an_object "$document" && return
  printf 'one:\n  module: file://%s\n  allowedToMutate: true\n  settings: %s\n' "$POLICY" \
    "$(jq -c . "$document")" >"$yml"
  # A port of its own: cases run side by side (for_each_case).
  server_command "$yml" $((PORT + 10 + 2 * ${CASE_INDEX:-0}))
  timeout 60 "${SERVER[@]}" >"$BATS_TEST_TMPDIR/server.log" 2>&1 || status=$?
  [ "$status" -ne 124 ] || { echo "still running after 60 s"; return; }
  grep -qF "Policy settings are invalid: $(jq -r '.message // ""' <<<"$case")" "$BATS_TEST_TMPDIR/server.log" \
    || echo "no such message in: $(tail -c 600 "$BATS_TEST_TMPDIR/server.log")"
}

# server_validate_case ENDPOINT CASE_JSON: POSTs the case's AdmissionReview to ENDPOINT
# (`validate` or `audit`) of the validate-mode policy and checks the answer mutate mode implies.
server_validate_case() {
  local endpoint="$1" case="$2" out
  skip_unserved "$case" && return
  case_review "$case" "$BATS_TEST_TMPDIR/review.json"
  out=$(curl -sf -X POST -H 'Content-Type: application/json' --data-binary "@$BATS_TEST_TMPDIR/review.json" \
    "http://127.0.0.1:$PORT/$endpoint/$(policy_of "$case")-validate") || { echo "POST failed"; return; }
  check_validate_response "$case" "$(jq '.response' <<<"$out")"
}
server_validate() { server_validate_case validate "$1"; }
server_audit() { server_validate_case audit "$1"; }

@test "every admission case of cases.json in validate mode, served with allowedToMutate: false" {
  for_each_case cases.json server_validate
}

@test "the audit scanner's endpoint reports what still pulls from upstream (validate mode)" {
  for_each_case cases.json server_audit
}

@test "every admission case of cases.json through the policy-server" {
  for_each_case cases.json server_case
}

@test "a policy-server given invalid settings stops with the whole message, for every settings case" {
  for_each_case settings-cases.json server_settings_case
}

@test "a policy-server serves every valid settings case, all loaded at once" {
  local yml="$BATS_TEST_TMPDIR/valid.yml" document="$BATS_TEST_TMPDIR/settings.json" case count=0 pid i
  while IFS= read -r case; do
    settings_document "$case" "$document"
    skip_not_an_object "$document" >/dev/null && continue
    count=$((count + 1))
    printf 'valid-%s:\n  module: file://%s\n  allowedToMutate: true\n  settings: %s\n' "$count" "$POLICY" \
      "$(jq -c . "$document")"
  done < <(jq -c '.[] | select(.valid)' "$DIR/settings-cases.json") >"$yml"
  echo "$count valid settings cases"
  [ "$count" -gt 0 ]
  pid=$(start_server "$yml" $((PORT + 2)) "$BATS_TEST_TMPDIR/server.log")
  for i in $(seq 1 240); do
    if curl -sf "http://127.0.0.1:$((PORT + 3))/readiness" >/dev/null; then
      kill "$pid"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.25
  done
  kill "$pid" 2>/dev/null || true
  tail -c 2000 "$BATS_TEST_TMPDIR/server.log"
  return 1
}
