#!/usr/bin/env bash
# The whole test suite. Installs what is missing, builds, type-checks (tests included), runs vitest.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d node_modules ]; then
  echo "test: installing dependencies (npm ci)"
  npm ci
fi
# better-sqlite3 is a native addon: rebuild it if this Node cannot load it.
if ! node -e "require('better-sqlite3')" >/dev/null 2>&1; then
  echo "test: rebuilding better-sqlite3 for $(node --version)"
  npm rebuild better-sqlite3
fi

npm run --silent build
npx tsc -p tsconfig.json --noEmit
npx vitest run "$@"
