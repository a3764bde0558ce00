#!/usr/bin/env bash
# Copies the front-end assets we use from node_modules (installed from the npm registry by
# `npm ci`) into the Rust crate that embeds them. The copies are committed so that a fresh
# machine with only the Rust toolchain can build Salus; run this after changing package.json.
set -euo pipefail
cd "$(dirname "$0")"
[ -d node_modules ] || npm ci --no-audit --no-fund
out=../crates/salus-web/assets/vendor
mkdir -p "$out"
cp node_modules/htmx.org/dist/htmx.min.js "$out/htmx.min.js"
cp node_modules/htmx-ext-sse/dist/sse.min.js "$out/htmx-sse.min.js"
cp node_modules/@picocss/pico/css/pico.min.css "$out/pico.min.css"
cp node_modules/htmx.org/LICENSE "$out/htmx.LICENSE"
cp node_modules/htmx-ext-sse/LICENSE "$out/htmx-sse.LICENSE"
cp node_modules/@picocss/pico/LICENSE.md "$out/pico.LICENSE.md"
echo "vendored: $(ls "$out" | tr '\n' ' ')"
