#!/usr/bin/env bash
# Instructions per warm `validate` call in wasmtime (host and guest), counted by callgrind: a
# figure that does not move with the machine's noise, unlike the times of `make bench`.
#   bench/instructions.sh MODULE PAYLOAD [CALLS]   (PAYLOAD: 0-3, a 10 000-rule map shape; pod;
#   deployment). Compiling the module (on several threads) costs a varying count, so the figure is
#   the difference between 1 and 1 + CALLS calls (default 20), divided by CALLS.
# Needs valgrind (Debian: valgrind) and `cargo build --profile host -p imageswap-bench`.
set -euo pipefail
module=$1 payload=$2 calls=${3:-20}
bench=${BENCH:-target/host/imageswap-bench}
count() {
    valgrind --tool=callgrind --smc-check=all --callgrind-out-file=/dev/null "$bench" calls "$module" "$payload" "$1" 2>&1 |
        sed -n 's/.*refs: *//p' | tr -d ,
}
one=$(count 1) more=$(count $((1 + calls)))
echo "$module $payload $(((more - one) / calls))"
