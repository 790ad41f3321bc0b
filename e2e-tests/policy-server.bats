#!/usr/bin/env bats
# The case tables of tests/cases/ through a real Kubewarden policy-server, the way a cluster runs
# the policy: the annotated module is served on 127.0.0.1 with one policy per settings document,
# each case's AdmissionReview is POSTed to /validate/<policy>, and `hostcases judge` judges the
# answers with the Rust that judges the runner and kwctl. $POLICY_SERVER is the binary (the
# Makefile resolves it from $POLICY_SERVER or PATH).

# server_command POLICIES_YML PORT: sets SERVER to the command line of a policy-server serving
# POLICIES_YML on 127.0.0.1:PORT (readiness on PORT + 1), with the offline Sigstore trust root of
# kwctl.bats (no start waits for Sigstore's TUF root, which a registry-only network refuses).
server_command() {
  SERVER=(env HOME="$BATS_FILE_TMPDIR/home" "$POLICY_SERVER" --policies "$1" --addr 127.0.0.1 --port "$2"
    --readiness-probe-port "$(($2 + 1))" --ignore-kubernetes-connection-failure --log-no-color
    --policies-download-dir "$BATS_FILE_TMPDIR/download" --sigstore-cache-dir "$BATS_FILE_TMPDIR/sigstore"
    --sigstore-trust-config "$DIR/sigstore-offline.json")
}

# start_server POLICIES_YML PORT LOG: starts a policy-server in the background, its output in LOG,
# and waits until it is ready; fails, printing the end of LOG, when it does not get ready.
start_server() {
  local pid i
  server_command "$1" "$2"
  "${SERVER[@]}" >"$3" 2>&1 &
  pid=$!
  echo "$pid" >"$3.pid"
  for i in $(seq 1 240); do
    curl -sf "http://127.0.0.1:$(($2 + 1))/readiness" >/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.25
  done
  tail -c 2000 "$3"
  return 1
}

setup_file() {
  [ -n "${POLICY_SERVER:-}" ] || skip "no policy-server"
  [ -n "${HOSTCASES:-}" ] || skip "no hostcases (make hostcases)"
  export DIR="$BATS_TEST_DIRNAME"
  export POLICY="${POLICY:-$BATS_TEST_DIRNAME/../annotated-policy.wasm}"
  export CASES="$BATS_FILE_TMPDIR/cases" SETTINGS_CASES="$BATS_FILE_TMPDIR/settings-cases"
  mkdir -p "$BATS_FILE_TMPDIR/home" "$BATS_FILE_TMPDIR/download" "$BATS_FILE_TMPDIR/sigstore"
  # Every settings document of the admission table (but those a host refuses) twice: as the
  # mutating policy `ID`, and in validate mode as `ID-validate`, the second policy an operator
  # deploys with `mutating: false` (served with allowedToMutate: false, as the controller does for
  # such a policy, and as the audit scanner evaluates it).
  "$HOSTCASES" write --host policy-server --module "$POLICY" "$CASES"
  "$HOSTCASES" write-settings --module "$POLICY" "$SETTINGS_CASES"
  export PORT=$((20000 + RANDOM % 20000))
  start_server "$CASES/policies.yml" "$PORT" "$BATS_FILE_TMPDIR/server.log" >&3
}

teardown_file() {
  [ ! -e "$BATS_FILE_TMPDIR/server.log.pid" ] || kill "$(cat "$BATS_FILE_TMPDIR/server.log.pid")" 2>/dev/null || true
}

setup() { load lib; }

# server_case ENDPOINT SUFFIX ANSWER CASE_DIR: POSTs the case's AdmissionReview to ENDPOINT
# (`validate` or `audit`) of the case's policy with SUFFIX (`-validate` for validate mode, or
# nothing): the answer in ANSWER.json, or why there is none in ANSWER.error.
server_case() {
  local endpoint="$1" suffix="$2" answer="$3" at="$4"
  curl -sf -X POST -H 'Content-Type: application/json' --data-binary "@$at/review.json" \
    "http://127.0.0.1:$PORT/$endpoint/$(cat "$at/policy")$suffix" >"$at/$answer.json" \
    || echo "POST to /$endpoint/$(cat "$at/policy")$suffix failed" >"$at/$answer.error"
}

# server_settings_case CASE_DIR: a policy-server given the case's invalid settings: its exit status
# in `status` (124 when it still runs after 60 s), its log in `output`. Valid settings are served
# together, by the test that loads them all.
server_settings_case() {
  local at="$1" status=0
  [ "$(cat "$at/valid")" = false ] || return 0
  # A port of its own: cases run side by side (run_cases).
  server_command "$at/policy.yml" $((PORT + 10 + 2 * CASE_INDEX))
  timeout 60 "${SERVER[@]}" >"$at/output" 2>&1 || status=$?
  echo "$status" >"$at/status"
}

@test "every admission case of admission.json in validate mode, served with allowedToMutate: false" {
  run_cases "$CASES" server_case validate -validate validate
  "$HOSTCASES" judge --mode validate "$CASES"
}

@test "the audit scanner's endpoint reports what still pulls from upstream (validate mode)" {
  run_cases "$CASES" server_case audit -validate audit
  "$HOSTCASES" judge --mode validate --answer audit "$CASES"
}

@test "every admission case of admission.json through the policy-server" {
  run_cases "$CASES" server_case validate "" mutate
  "$HOSTCASES" judge --mode mutate "$CASES"
}

@test "a policy-server given invalid settings stops with the whole message, for every settings case" {
  run_cases "$SETTINGS_CASES" server_settings_case
  "$HOSTCASES" judge-settings --invalid-only --says "Policy settings are invalid: " "$SETTINGS_CASES"
}

@test "a policy-server serves every valid settings case, all loaded at once" {
  local log="$BATS_TEST_TMPDIR/server.log"
  echo "$(grep -c '^valid-' "$SETTINGS_CASES/valid.yml") valid settings cases"
  grep -q '^valid-' "$SETTINGS_CASES/valid.yml"
  start_server "$SETTINGS_CASES/valid.yml" $((PORT + 2)) "$log"
  kill "$(cat "$log.pid")"
}
