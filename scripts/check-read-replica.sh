#!/usr/bin/env bash
# Checks DATABASE_READ_URL against a real streaming replica: makes a private primary
# (initdb) and a hot standby of it (pg_basebackup -R) on loopback ports, runs the built
# service with DATABASE_URL = primary and DATABASE_READ_URL = standby, posts documents,
# and reports how long after `ready` each became searchable (the replica's lag), and that
# the standby was the one read (pg_stat_database on each). Touches no existing cluster.
#   npm run build && scripts/check-read-replica.sh [docs=5]
# Needs the Postgres server binaries (PG_BIN, default /usr/lib/postgresql/15/bin) with
# pgvector installed, and Redis at REDIS_URL. Run as root, the clusters run as "postgres".
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
DOCS="${1:-5}"
PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

work="$(mktemp -d)"; chmod 755 "$work"
[ "$(id -u)" = 0 ] && chown postgres "$work"
PRIMARY_PORT=$((30000 + RANDOM % 5000)); STANDBY_PORT=$((PRIMARY_PORT + 1)); API_PORT=$((PRIMARY_PORT + 2))
cleanup() {
  [ -n "${APP:-}" ] && kill "$APP" 2>/dev/null || true
  as_pg "$PG_BIN/pg_ctl" -D "$work/standby" -m immediate stop >/dev/null 2>&1 || true
  as_pg "$PG_BIN/pg_ctl" -D "$work/primary" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

as_pg "$PG_BIN/initdb" -D "$work/primary" -U postgres --auth=trust >/dev/null
printf "listen_addresses = '127.0.0.1'\nport = %s\nunix_socket_directories = '%s'\nwal_level = replica\n" "$PRIMARY_PORT" "$work" | as_pg tee -a "$work/primary/postgresql.conf" >/dev/null
echo "host replication all 127.0.0.1/32 trust" | as_pg tee -a "$work/primary/pg_hba.conf" >/dev/null
as_pg "$PG_BIN/pg_ctl" -D "$work/primary" -l "$work/primary.log" -w start >/dev/null
as_pg "$PG_BIN/psql" -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -qc 'CREATE DATABASE ingest' >/dev/null

as_pg "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -D "$work/standby" -R -X stream
printf "port = %s\nhot_standby = on\n" "$STANDBY_PORT" | as_pg tee -a "$work/standby/postgresql.conf" >/dev/null
as_pg "$PG_BIN/pg_ctl" -D "$work/standby" -l "$work/standby.log" -w start >/dev/null
echo "primary :$PRIMARY_PORT, standby :$STANDBY_PORT (in recovery: $(as_pg "$PG_BIN/psql" -h 127.0.0.1 -p "$STANDBY_PORT" -U postgres -Atc 'select pg_is_in_recovery()'))"

export DATABASE_URL="postgres://postgres@127.0.0.1:$PRIMARY_PORT/ingest"
export DATABASE_READ_URL="postgres://postgres@127.0.0.1:$STANDBY_PORT/ingest"
export EMBEDDING_PROVIDER=hash QUEUE_PREFIX="replica-check-$$" PORT=$API_PORT
node dist/src/database/migrate.js >/dev/null
node dist/src/main.js >"$work/app.log" 2>&1 & APP=$!
until curl -fs "localhost:$API_PORT/health/ready" >/dev/null; do sleep 0.3; kill -0 $APP || { cat "$work/app.log"; exit 1; }; done

reads() { as_pg "$PG_BIN/psql" -h 127.0.0.1 -p "$1" -U postgres -Atc "select xact_commit from pg_stat_database where datname = 'ingest'"; }
standby_before=$(reads "$STANDBY_PORT")
for i in $(seq 1 "$DOCS"); do
  id=$(curl -fs -X POST "localhost:$API_PORT/v1/documents" -H 'content-type: application/json' \
    -d "{\"content\":\"Replica check $i $$: standbys replay the primary's WAL.\",\"namespace\":\"replica\"}" | node -pe 'JSON.parse(require("fs").readFileSync(0)).id')
  until curl -fs "localhost:$API_PORT/v1/documents/$id" | grep -q '"status":"ready"'; do sleep 0.05; done
  t0=$(date +%s%N)
  until curl -fs -X POST "localhost:$API_PORT/v1/search" -H 'content-type: application/json' \
      -d "{\"query\":\"replica check $i $$\",\"namespace\":\"replica\",\"mode\":\"keyword\",\"topK\":20}" | grep -q "\"$id\""; do sleep 0.01; done
  echo "document $i: searchable on the standby $(( ($(date +%s%N) - t0) / 1000000 )) ms after it was ready"
done
echo "transactions on the standby during the run: $(( $(reads "$STANDBY_PORT") - standby_before ))"
