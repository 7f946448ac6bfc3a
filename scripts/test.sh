#!/usr/bin/env bash
# The whole test suite. Installs what is missing, builds, type-checks (tests included), lints
# (ESLint and the layers, `npm run lint`), runs vitest.
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

# The browser tests drive Debian's Chromium; install it when missing (root, as on CI).
if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "test: installing chromium (apt-get)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
# Services the tests talk to: NATS with JetStream (delivery tests).
if ! (exec 3<>/dev/tcp/127.0.0.1/4222) 2>/dev/null && [ -x /usr/sbin/nats-server ]; then
  echo "test: starting nats-server"
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
  sleep 1
fi

# PostgreSQL (the PostgreSQL store's tests; SWITCHBOARD_TEST_POSTGRES names another server).
if [ -z "${SWITCHBOARD_TEST_POSTGRES:-}" ] && ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && command -v pg_ctlcluster >/dev/null 2>&1; then
  echo "test: starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start
  for _ in $(seq 1 50); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.2; done
fi

npm run --silent build
npx tsc -p tsconfig.json --noEmit
npm run --silent lint
if [ "$#" -eq 0 ]; then
  # Two files run at a time (vitest.config.ts), except the disk-full fault test: whether a full
  # tmpfs refuses the next commit at once depends on the WAL's free pages, which the other files'
  # load shifts. It runs alone, after the others.
  npx vitest run --exclude test/disk-full.test.ts
  npx vitest run test/disk-full.test.ts
else
  npx vitest run "$@"
fi

# The store-dependent tests once more on PostgreSQL: every file that starts a server or runs the CLI
# on a data folder (test/helpers: sb.ts, delivery.ts, process.ts) runs them on a fresh PostgreSQL
# database per server or data folder instead of SQLite (SWITCHBOARD_TEST_STORE=postgres) — the
# crash tests included. Left out: the files about SQLite itself (a locked file, a full disk), the
# ones on PostgreSQL anyway (`migrate`, three instances under SIGKILL), and the ones whose subject
# is not the store but what is in front of it, which a second pass would only make slower: the
# CLI's output, the pages in Chromium, slow HTTP clients, the ingest limits and encodings, the
# metrics. Only for the whole suite, not for a selection.
if [ "$#" -eq 0 ]; then
  not_store='test/(disk-full|store-locked|migrate|instances-crash|simulate-cli|events-cli|browser|dashboard|client-simulators|slow-clients|metrics|ingest-[a-z]+)\.test\.ts'
  mapfile -t store_files < <(grep -rlE "startTestServer|startDeliveryServer|startServer|testStoreFor|useDataStore" test src --include='*.test.ts' | grep -vE "$not_store" | sort)
  echo "test: the store-dependent tests on PostgreSQL (${#store_files[@]} files)"
  SWITCHBOARD_TEST_STORE=postgres npx vitest run "${store_files[@]}"
fi
