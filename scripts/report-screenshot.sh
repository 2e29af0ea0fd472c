#!/usr/bin/env bash
# Regenerates docs/report-demo.png, the screenshot of the demo's HTML report shown in the
# README: the demo into a scratch store, then headless Chromium at a laptop's width.
#   bash scripts/report-screenshot.sh   (needs .venv, e.g. after make test, and chromium)
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
.venv/bin/python -m perftrack demo --data "$scratch/data" >/dev/null
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --host-resolver-rules='MAP * ~NOTFOUND' --user-data-dir="$scratch/profile" \
    --window-size=1100,1500 --screenshot="$PWD/docs/report-demo.png" \
    "file://$scratch/data/performance/report.html" 2>/dev/null
echo "docs/report-demo.png"
