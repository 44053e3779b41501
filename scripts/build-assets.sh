#!/usr/bin/env bash
# Front-end packages come from npm at build time and are copied under web/static/vendor
# (git-ignored). No CDN: the platform runs on intranets without internet.
set -euo pipefail
cd "$(dirname "$0")/.."
vendor=src/jianguan/web/static/vendor
stamp=$vendor/.stamp
if [ -f "$stamp" ] && [ "$stamp" -nt package-lock.json ]; then exit 0; fi
echo "» building front-end assets (npm ci)…"
npm ci --no-audit --no-fund --loglevel=error >/dev/null
rm -rf "$vendor"; mkdir -p "$vendor"
cp node_modules/htmx.org/dist/htmx.min.js "$vendor/"
cp node_modules/@picocss/pico/css/pico.min.css "$vendor/"
cp node_modules/echarts/dist/echarts.min.js "$vendor/"
cp node_modules/signature_pad/dist/signature_pad.umd.min.js "$vendor/"
mkdir -p "$vendor/leaflet" && cp -r node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css \
  node_modules/leaflet/dist/images "$vendor/leaflet/"
mkdir -p "$vendor/swagger-ui" && cp node_modules/swagger-ui-dist/swagger-ui-bundle.js \
  node_modules/swagger-ui-dist/swagger-ui.css node_modules/swagger-ui-dist/favicon-32x32.png "$vendor/swagger-ui/"
touch "$stamp"
