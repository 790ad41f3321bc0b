#!/usr/bin/env bash
# Upstream comparison: our "read the map for a Pod, decide its images" against the upstream webhook's
# swap_image, on the same maps and images, in one run. Needs a fetched copy of
# phenixblue/imageswap-webhook (UPSTREAM_REPO, a git directory); installs upstream's pinned
# dependencies (from its Pipfile.lock) into build/upstream/venv from PyPI.
set -euo pipefail
BENCH=${BENCH:-target/host/imageswap-bench}
UPSTREAM_REPO=${UPSTREAM_REPO:-/work/.mirror/phenixblue+imageswap-webhook/repo}
work=build/upstream
if ! git --git-dir="$UPSTREAM_REPO" rev-parse --verify -q HEAD >/dev/null 2>&1; then
  echo "SKIPPED upstream comparison: no fetched copy of phenixblue/imageswap-webhook at UPSTREAM_REPO=$UPSTREAM_REPO"
  exit 0
fi
mkdir -p "$work"
git --git-dir="$UPSTREAM_REPO" show HEAD:app/imageswap/imageswap.py >"$work/imageswap.py"
if [ ! -x "$work/venv/bin/python" ]; then
  python3 -m venv "$work/venv"
  "$work/venv/bin/pip" install -q flask==2.2.5 werkzeug==2.2.3 jsonpatch==1.32 prometheus-client==0.15.0 \
    prometheus-flask-exporter==0.21.0
fi
printf 'nginx:1.25\nquay.io/org1/app:2\nr3.example.com/team/app:1\ndocker.io/team/app2:1.0\nghcr.io/glob3/tool:1\nbitnami/app-dev:1\n' >"$work/images.txt"
echo "upstream commit $(git --git-dir="$UPSTREAM_REPO" rev-parse --short HEAD), $("$work/venv/bin/python" --version)"
echo
echo "| map | upstream swap_image, per image | imageswap, per image (one map read per Pod, request path) | ratio |"
echo "|---:|---:|---:|---:|"
for rules in 10 100 1000; do
  "$BENCH" map "$rules" >"$work/map-$rules.conf"
  ours=$("$BENCH" per-image "$work/map-$rules.conf" "$work/images.txt")
  "$work/venv/bin/python" bench/upstream.py "$work" "$work/map-$rules.conf" "$work/images.txt" "$ours"
done
