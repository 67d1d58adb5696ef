#!/usr/bin/env bash
# Regenerates the typed client from the OpenAPI document the server of this working tree serves:
#   packages/client/openapi.json      the document (scripts/openapi.sh, from a throw-away data dir)
#   packages/client/src/generated/    @hey-api/openapi-ts: fetch client, types, one function per operation
# `--check` writes both into a temporary directory instead and compares: non-zero when the committed
# copies differ from what the routes produce (run `npm run client:generate` and commit the result).
# Deterministic: fixed public URL, no PORTCULLIS_* variable of the caller's environment, no timestamps.
set -euo pipefail
cd "$(dirname "$0")/../../.."
pkg=packages/client
mode="${1:-write}"
case "$mode" in write | --check) ;; *) echo "usage: $0 [--check]" >&2; exit 2 ;; esac

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# Why: options such as PORTCULLIS_METRICS_TOKEN or PORTCULLIS_PUBLIC_URL change the document.
unset_env=()
while IFS= read -r name; do unset_env+=(-u "$name"); done < <(env | sed -n 's/^\(PORTCULLIS_[A-Z0-9_]*\)=.*/\1/p')
env "${unset_env[@]}" PORTCULLIS_PUBLIC_URL=http://localhost:8080 bash scripts/openapi.sh "$tmp/openapi.json"

npx --no-install openapi-ts --silent --no-log-file \
  --input "$tmp/openapi.json" --output "$tmp/generated" \
  --plugins @hey-api/client-fetch @hey-api/typescript @hey-api/sdk

if [ "$mode" = --check ]; then
  status=0
  diff -u "$pkg/openapi.json" "$tmp/openapi.json" >"$tmp/doc.diff" || status=1
  diff -ruN "$pkg/src/generated" "$tmp/generated" >"$tmp/gen.diff" || status=1
  if [ "$status" -ne 0 ]; then
    echo "packages/client is out of date with the routes (run: npm run client:generate, then commit):" >&2
    cat "$tmp/doc.diff" "$tmp/gen.diff" | cut -c1-200 | head -n 60 >&2
    exit 1
  fi
  echo "packages/client matches the served OpenAPI document"
else
  cp "$tmp/openapi.json" "$pkg/openapi.json"
  rm -rf "$pkg/src/generated"
  mkdir -p "$pkg/src"
  cp -r "$tmp/generated" "$pkg/src/generated"
  echo "wrote $pkg/openapi.json and $pkg/src/generated/"
fi
