#!/usr/bin/env bats
# docs/behaviour.md §8: the policy against a real OCI registry, the way a cluster runs it. On
# 127.0.0.1: Debian's `docker-registry` (the CNCF distribution registry) with storage in this
# suite's temporary folder, a second one with htpasswd authentication, a closed port, a stub that
# answers 429, and a stub that accepts connections and never answers. Images are OCI layouts the
# suite writes itself (oci-image.py) and copies in with skopeo; nothing is fetched from outside.
# kwctl publishes and pulls the module; policy-servers serve it from registry:// and look targets
# up. $KWCTL and $POLICY_SERVER come from the Makefile (from the variables or PATH).

# free_port: a TCP port on 127.0.0.1 that nothing listens on now.
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# wait_for URL [TRIES]: polls URL until it answers (at most TRIES × 0.25 s).
wait_for() {
  local i
  for i in $(seq 1 "${2:-120}"); do
    curl -s -o /dev/null "$1" && return 0
    sleep 0.25
  done
  echo "no answer from $1" >&3
  return 1
}

# registry_config PORT [HTPASSWD]: a distribution registry configuration on 127.0.0.1:PORT.
registry_config() {
  printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' \
    "$T/storage-$1" "$1"
  [ -z "${2:-}" ] || printf 'auth:\n  htpasswd:\n    realm: imageswap-test\n    path: %s\n' "$2"
}

# background NAME COMMAND...: starts COMMAND, its output in NAME.log, and remembers its pid.
background() {
  local name="$1"
  shift
  "$@" >"$T/$name.log" 2>&1 &
  echo $! >>"$T/pids"
}

# push_image NAME TAG PLATFORM...: writes an OCI layout and copies it into the open registry as
# mirror/library/NAME:TAG; prints its digest.
push_image() {
  local name="$1" tag="$2" digest
  shift 2
  digest=$(python3 "$DIR/oci-image.py" "$T/layout-$name" "$tag" "$@")
  skopeo copy --quiet --all --dest-tls-verify=false "oci:$T/layout-$name:$tag" \
    "docker://127.0.0.1:$OPEN/mirror/library/$name:$tag" >&2
  echo "$digest"
}

# policy NAME MODULE SETTINGS_JSON [CAPABILITIES]: an entry of policies.yml.
policy() {
  printf '%s:\n  module: %s\n  allowedToMutate: true\n  settings: %s\n' "$1" "$2" "$3"
  [ -z "${4:-}" ] || printf '  hostCapabilities: %s\n' "$4"
}

# serve NAME POLICIES_YML PORT [ARGS...]: starts a policy-server with the insecure sources of this
# suite and waits until it is ready.
serve() {
  local name="$1" yml="$2" port="$3"
  shift 3
  background "$name" env HOME="$T/home" "$POLICY_SERVER" --policies "$yml" --addr 127.0.0.1 --port "$port" \
    --readiness-probe-port "$((port + 1))" --ignore-kubernetes-connection-failure --log-no-color \
    --policies-download-dir "$T/download-$name" --sigstore-cache-dir "$T/sigstore" \
    --sigstore-trust-config "$DIR/sigstore-offline.json" --sources-path "$T/sources.yml" "$@"
  mkdir -p "$T/download-$name"
  wait_for "http://127.0.0.1:$((port + 1))/readiness" 240 || { tail -c 2000 "$T/$name.log" >&3; return 1; }
}

# review IMAGE...: an AdmissionReview creating a Pod with one container per image (c0, c1, …).
review() {
  jq -n '$ARGS.positional as $images | {apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview",
    request: {uid: "u", operation: "CREATE", kind: {group: "", version: "v1", kind: "Pod"},
      resource: {group: "", version: "v1", resource: "pods"}, userInfo: {},
      object: {metadata: {name: "p"}, spec: {containers: [$images | to_entries[] | {name: "c\(.key)", image: .value}]}}}}' \
    --args "$@"
}

# ask PORT POLICY IMAGE...: POSTs a Pod of these images to the policy and prints the response with
# its patch applied (`hostcases summarize`): {allowed, warnings, message, images}.
ask() {
  local port="$1" policy="$2"
  shift 2
  review "$@" >"$BATS_TEST_TMPDIR/review.json"
  curl -s --max-time 30 -X POST -H 'Content-Type: application/json' --data-binary "@$BATS_TEST_TMPDIR/review.json" \
    "http://127.0.0.1:$port/validate/$policy" | "$HOSTCASES" summarize --review "$BATS_TEST_TMPDIR/review.json"
}

setup_file() {
  [ -n "${POLICY_SERVER:-}" ] || skip "no policy-server"
  [ -n "${KWCTL:-}" ] || skip "no kwctl (to publish the module)"
  [ -n "${HOSTCASES:-}" ] || skip "no hostcases (make hostcases)"
  command -v docker-registry >/dev/null || skip "no docker-registry (Debian's package; make test installs it)"
  command -v skopeo >/dev/null || skip "no skopeo (Debian's package; make test installs it)"
  export DIR="$BATS_TEST_DIRNAME" T="$BATS_FILE_TMPDIR"
  export POLICY="${POLICY:-$BATS_TEST_DIRNAME/../annotated-policy.wasm}"
  mkdir -p "$T/home" "$T/sigstore"
  export OPEN=$(free_port) LOCKED=$(free_port) CLOSED=$(free_port) LIMITED=$(free_port) HUNG=$(free_port)
  # A bcrypt line for a user nobody logs in as: every anonymous request gets 401.
  echo 'nobody:$2y$05$C6ZmN9r7w1iFfyrL0Q7V2eYgC2lQy7mXbV2jqS0l2ZbS8w1o4c5cG' >"$T/htpasswd"
  registry_config "$OPEN" >"$T/open.yml"
  registry_config "$LOCKED" "$T/htpasswd" >"$T/locked.yml"
  background open docker-registry serve "$T/open.yml"
  background locked docker-registry serve "$T/locked.yml"
  background limited python3 "$DIR/stub-registry.py" ratelimit "$LIMITED"
  background hung python3 "$DIR/stub-registry.py" hang "$HUNG"
  wait_for "http://127.0.0.1:$OPEN/v2/"
  wait_for "http://127.0.0.1:$LOCKED/v2/"
  wait_for "http://127.0.0.1:$LIMITED/v2/"
  printf 'insecure_sources: ["127.0.0.1:%s", "127.0.0.1:%s", "127.0.0.1:%s", "127.0.0.1:%s", "127.0.0.1:%s"]\n' \
    "$OPEN" "$LOCKED" "$CLOSED" "$LIMITED" "$HUNG" >"$T/sources.yml"
  # nginx: linux/amd64 only (a mirror that copied one platform); redis: an index of two platforms.
  export NGINX=$(push_image nginx 1.25 linux/amd64) REDIS=$(push_image redis 7 linux/amd64 linux/arm64/v8)
}

teardown_file() {
  [ -f "${T:-}/pids" ] || return 0
  xargs kill <"$T/pids" 2>/dev/null || true
}

@test "kwctl push publishes the annotated module, and kwctl pull gives the same bytes back" {
  HOME="$T/home" "$KWCTL" push --sources-path "$T/sources.yml" -o json "$POLICY" \
    "registry://127.0.0.1:$OPEN/policies/imageswap:v0" >"$T/push.json" 2>"$T/push.err"
  jq -e '.immutable_ref | startswith("127.0.0.1:'"$OPEN"'/policies/imageswap@sha256:")' "$T/push.json"
  HOME="$T/home" "$KWCTL" pull --sources-path "$T/sources.yml" --sigstore-trust-config "$DIR/sigstore-offline.json" \
    -o "$T/pulled.wasm" "registry://127.0.0.1:$OPEN/policies/imageswap:v0" 2>"$T/pull.err"
  cmp "$POLICY" "$T/pulled.wasm"
}

@test "a policy-server serves the module from registry:// and looks targets up in the real registry" {
  local module="registry://127.0.0.1:$OPEN/policies/imageswap:v0" all='["oci/*"]' port out mirror
  mirror="127.0.0.1:$OPEN/mirror"
  HOME="$T/home" "$KWCTL" push --sources-path "$T/sources.yml" "$POLICY" "$module" >/dev/null 2>&1
  {
    policy found "$module" '{"imageChange":"default::'"$mirror"'","checkTargetExists":true}' "$all"
    policy pin "$module" '{"imageChange":"default::'"$mirror"'","checkTargetExists":true,"digest":"pin"}' "$all"
    policy platforms "$module" '{"imageChange":"default::'"$mirror"'","checkTargetExists":true,"platforms":["linux/amd64","linux/arm64"]}' "$all"
    policy list "$module" '{"imageChange":"default::127.0.0.1:'"$CLOSED"'/m,127.0.0.1:'"$LOCKED"'/m,127.0.0.1:'"$LIMITED"'/m,'"$mirror"'","checkTargetExists":true}' "$all"
    policy ungranted "$module" '{"imageChange":"default::'"$mirror"'","checkTargetExists":true}'
  } >"$T/served.yml"
  port=$(free_port)
  serve served "$T/served.yml" "$port"

  # found, and missing: the image that the mirror does not hold stays as written, with a warning.
  out=$(ask "$port" found nginx:1.25 redis:7 absent:1)
  echo "$out"
  jq -e --arg m "$mirror" '.allowed and .images == ["\($m)/library/nginx:1.25", "\($m)/library/redis:7", "absent:1"]' <<<"$out"
  jq -e --arg m "$mirror" '.warnings == ["spec.containers[2].image: absent:1 left as written: \($m)/library/absent:1 missing"]' <<<"$out"
  grep -q "absent:1 missing (Registry error: url http://127.0.0.1:$OPEN/v2/mirror/library/absent/manifests/1, envelope: OCI API errors: \[OCI API error: manifest unknown\])" "$T/served.log"

  # digest: pin adds the digest the registry gave (the index's for redis), keeping the tag.
  out=$(ask "$port" pin nginx:1.25 redis:7)
  echo "$out"
  jq -e --arg m "$mirror" --arg n "$NGINX" --arg r "$REDIS" \
    '.images == ["\($m)/library/nginx:1.25@\($n)", "\($m)/library/redis:7@\($r)"] and .warnings == []' <<<"$out"

  # platforms: the single-platform image lacks linux/arm64; the index serves both.
  out=$(ask "$port" platforms nginx:1.25 redis:7)
  echo "$out"
  jq -e --arg m "$mirror" '.images == ["nginx:1.25", "\($m)/library/redis:7"]' <<<"$out"
  jq -e --arg m "$mirror" '.warnings == ["spec.containers[0].image: nginx:1.25 left as written: \($m)/library/nginx:1.25 lacks platform linux/arm64 (it serves linux/amd64)"]' <<<"$out"

  # An ordered list: a closed port (unreachable), htpasswd (unauthorized) and a 429 stub (rate
  # limited) are passed over, in order, for the mirror that has the image.
  out=$(ask "$port" list nginx:1.25)
  echo "$out"
  jq -e --arg m "$mirror" '.images == ["\($m)/library/nginx:1.25"]' <<<"$out"
  jq -e '.warnings == ["spec.containers[0].image: nginx:1.25 swapped to 127.0.0.1:\(env.OPEN)/mirror/library/nginx:1.25: 127.0.0.1:\(env.CLOSED)/m/library/nginx:1.25 unreachable; 127.0.0.1:\(env.LOCKED)/m/library/nginx:1.25 unauthorized; 127.0.0.1:\(env.LIMITED)/m/library/nginx:1.25 rate limited"]' <<<"$out"
  grep -q "127.0.0.1:$CLOSED/m/library/nginx:1.25 unreachable (.*); 127.0.0.1:$LOCKED/m/library/nginx:1.25 unauthorized (Not authorized: .*); 127.0.0.1:$LIMITED/m/library/nginx:1.25 rate limited (.*pull rate limit.*)" "$T/served.log"

  # A policy without the capabilities granted swaps nothing, and says why.
  out=$(ask "$port" ungranted nginx:1.25)
  echo "$out"
  jq -e '.images == ["nginx:1.25"] and (.warnings[0] | contains("failed (Policy has not been granted access to the '"'"'oci/v1/manifest_digest'"'"' host capability"))' <<<"$out"
}

@test "a hung mirror stalls the policy-server that looks it up, while a second policy-server keeps answering" {
  local looking answering start took
  policy hung "file://$POLICY" '{"imageChange":"default::127.0.0.1:'"$HUNG"'/m","checkTargetExists":true}' '["oci/*"]' \
    >"$T/hung.yml"
  policy other "file://$POLICY" '{"imageChange":"default::127.0.0.1:'"$OPEN"'/mirror"}' >"$T/other.yml"
  looking=$(free_port)
  serve looking "$T/hung.yml" "$looking" --workers 2
  answering=$(free_port)
  serve answering "$T/other.yml" "$answering" --workers 2
  review nginx:1.25 >"$T/hung-review.json"
  # Two Pods in flight on the looking policy-server: each waits on the mirror past every timeout
  # the API server would give it.
  local waiting=()
  for _ in 1 2; do
    (curl -s -o /dev/null -w '%{http_code}\n' --max-time 12 -X POST -H 'Content-Type: application/json' \
      --data-binary "@$T/hung-review.json" "http://127.0.0.1:$looking/validate/hung" >>"$T/hung-codes") &
    waiting+=($!)
  done
  sleep 1
  start=$(date +%s%N)
  out=$(ask "$answering" other nginx:1.25)
  took=$((($(date +%s%N) - start) / 1000000))
  echo "the second policy-server answered in $took ms: $out"
  jq -e '.images == ["127.0.0.1:'"$OPEN"'/mirror/library/nginx:1.25"]' <<<"$out"
  [ "$took" -lt 5000 ]
  wait "${waiting[@]}" || true  # curl exits 28 on its timeout, which is the point
  echo "the looking policy-server, after 12 s: $(tr '\n' ' ' <"$T/hung-codes")"
  # curl's 000: no answer at all within 12 s.
  [ "$(sort -u "$T/hung-codes")" = "000" ]
}
