#!/usr/bin/env bash
# Install the front-end libraries the pages use from the npm registry (package.json, pinned by
# package-lock.json with integrity hashes) and copy their built files under app/web/static/vendor/,
# where the app serves them from its own origin: venue networks are closed, and the pages' CSP
# allows scripts from our origin only. Idempotent: does nothing when the copies match the lock.
set -euo pipefail
cd "$(dirname "$0")/.."

VENDOR=app/web/static/vendor
STAMP="$VENDOR/.installed-$(sha1sum package-lock.json | cut -c1-12)"
if [ -f "$STAMP" ] && [ -f "$VENDOR/chart.js/chart.umd.min.js" ] && [ -f "$VENDOR/zxing/zxing.min.js" ] && [ -f "$VENDOR/jsqr/jsQR.js" ]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "npm is needed to install the front-end libraries (Debian: apt-get install nodejs npm)" >&2
  exit 1
fi
# --ignore-scripts: nothing of a package runs here; we only copy its built files.
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
rm -rf "$VENDOR"
mkdir -p "$VENDOR/chart.js"
cp node_modules/chart.js/dist/chart.umd.min.js node_modules/chart.js/LICENSE.md "$VENDOR/chart.js/"
# The staff scanner's QR reader (issue 19): ZXing's browser build, one file.
mkdir -p "$VENDOR/zxing"
cp node_modules/@zxing/library/umd/index.min.js "$VENDOR/zxing/zxing.min.js"
cp node_modules/@zxing/library/LICENSE "$VENDOR/zxing/"
# jsQR reads the few symbols ZXing's detector misses (about 4 in 100 random personal codes, even clean).
mkdir -p "$VENDOR/jsqr"
cp node_modules/jsqr/dist/jsQR.js node_modules/jsqr/LICENSE "$VENDOR/jsqr/"
touch "$STAMP"
echo "Vendored chart.js $(node -p "require('./node_modules/chart.js/package.json').version") into $VENDOR/chart.js"
