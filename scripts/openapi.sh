#!/usr/bin/env bash
# Writes the OpenAPI document of the working tree to $1 (default: openapi.json), from a throw-away
# data directory, so that linting and client generation read exactly what the server serves.
set -euo pipefail
out="${1:-openapi.json}"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
env -u PORTCULLIS_DATABASE_URL -u PORTCULLIS_REDIS_URL PORTCULLIS_DATA_DIR="$dir" PORTCULLIS_LOG_LEVEL=error \
  PORTCULLIS_PUBLIC_URL="${PORTCULLIS_PUBLIC_URL:-http://localhost:8080}" \
  node --import tsx src/cli/index.ts openapi --out "$out" 2>/dev/null
