#!/usr/bin/env bash
# Sizes the Deployments' resources: starts an API (ROLE=api) and one worker from dist/
# with the local model, posts the first N pages of bench/retrieval/corpus, waits until
# every one is ready, and prints each process's peak memory (VmHWM) and CPU used.
#   npm run build && deploy/kubernetes/measure-resources.sh [docs=10]
# Uses DATABASE_URL / REDIS_URL (default: the local test database and Redis).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
DOCS="${1:-10}"
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/ingest_test}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
export QUEUE_PREFIX="measure-$$" EMBEDDING_PROVIDER="${EMBEDDING_PROVIDER:-local}" ALLOW_MODEL_MISMATCH=true EMBEDDING_CACHE=false
API_PORT=$((20000 + RANDOM % 10000)); WORKER_PORT=$((API_PORT + 1))

node dist/src/database/migrate.js >/dev/null
ROLE=api PORT=$API_PORT node dist/src/main.js >/tmp/measure-api.log 2>&1 & API=$!
WORKER_PORT=$WORKER_PORT node dist/src/worker.js >/tmp/measure-worker.log 2>&1 & WORKER=$!
trap 'kill $API $WORKER 2>/dev/null || true' EXIT
until curl -fs "localhost:$API_PORT/health/ready" >/dev/null && curl -fs "localhost:$WORKER_PORT/health/ready" >/dev/null; do sleep 0.5; done

cpu() { awk '{ print ($14 + $15) / 100 }' "/proc/$1/stat"; }
peak() { awk '/VmHWM/ { printf "%d MiB", $2 / 1024 }' "/proc/$1/status"; }
idle_api=$(peak $API); idle_worker=$(peak $WORKER); api0=$(cpu $API); worker0=$(cpu $WORKER); t0=$(date +%s.%N)

ids=()
for f in $(ls bench/retrieval/corpus/*.md | head -n "$DOCS"); do
  body=$(node -e 'const fs=require("fs");const p=process.argv[1];process.stdout.write(JSON.stringify({content:fs.readFileSync(p,"utf8"),externalId:p,namespace:process.argv[2]}))' "$f" "$QUEUE_PREFIX")
  ids+=("$(curl -fs -X POST "localhost:$API_PORT/v1/documents" -H 'content-type: application/json' -d "$body" | node -pe 'JSON.parse(require("fs").readFileSync(0)).id')")
done
chunks=0
for id in "${ids[@]}"; do
  until s=$(curl -fs "localhost:$API_PORT/v1/documents/$id") && node -e 'const d=JSON.parse(process.argv[1]);process.exit(["ready","failed"].includes(d.status)?0:1)' "$s"; do sleep 0.5; done
  chunks=$((chunks + $(node -pe 'JSON.parse(process.argv[1]).chunkCount||0' "$s")))
done
t1=$(date +%s.%N)
wall=$(node -pe "($t1 - $t0).toFixed(1)")
echo "documents: ${#ids[@]}, chunks: $chunks, wall: ${wall}s"
echo "api:    peak RSS idle $idle_api, after $(peak $API); CPU $(node -pe "(($(cpu $API) - $api0) / $wall).toFixed(2)") cores on average"
echo "worker: peak RSS idle $idle_worker, after $(peak $WORKER); CPU $(node -pe "(($(cpu $WORKER) - $worker0) / $wall).toFixed(2)") cores on average"
