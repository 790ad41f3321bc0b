# Helpers shared by the bats suites. The test kit's `hostcases` tool ($HOSTCASES) lays the case
# tables of tests/cases/ out as files a host reads (one folder per case), a suite runs its host on
# each and saves the answer beside it, and `hostcases judge` judges the answers with the Rust
# checks that judge the runner: one judge for every host.

# run_cases DIR FUNCTION [ARGS...]: calls `FUNCTION ARGS... CASE_DIR` for each case folder of DIR
# that has no `skip`, $CASE_JOBS at a time (2, the machines' cores), with the case's index in
# $CASE_INDEX. The function saves what the host answered in the case's folder.
run_cases() {
  local dir="$1"
  shift
  # The jobs are new shells: they get this file's functions and the suite's exported variables.
  export -f $(compgen -A function)
  find "$dir" -mindepth 1 -maxdepth 1 -type d -name '[0-9][0-9][0-9][0-9]' | sort \
    | while read -r at; do [ -e "$at/skip" ] || echo "$at"; done \
    | xargs -P "${CASE_JOBS:-2}" -I{} bash -c 'at="$1"; shift; CASE_INDEX=$((10#${at##*/})) "$@" "$at"' _ {} "$@"
}

# case_named DIR NAME: the folder of the case called NAME.
case_named() {
  dirname "$(grep -lxF "$2" "$1"/*/name)"
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
