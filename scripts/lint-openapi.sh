#!/usr/bin/env bash
# Lints the served OpenAPI document with Redocly's recommended rules (redocly.yaml): errors fail.
set -euo pipefail
cd "$(dirname "$0")/.."
out="$(mktemp -d)/openapi.json"
trap 'rm -rf "$(dirname "$out")"' EXIT
bash scripts/openapi.sh "$out"
npx --no-install redocly lint --config redocly.yaml --format=stylish "$out"
