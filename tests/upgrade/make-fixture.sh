#!/usr/bin/env bash
# Writes tests/upgrade/fixtures/: what an installation of the previous release (RELEASE, default
# d11ac8c) leaves behind, produced by that release's own code, for tests/integration/upgrade.test.ts.
#
#   database.sql        pg_dump --schema=<name> --no-owner of its PostgreSQL schema
#   anvil-state.json    the private anvil's state (--dump-state) with the DecisionAnchor and anchors
#   bundles/*.json      proof bundles exported with that release's `claimtrail proof`
#   release.json        the release, its schema name, chain id, contract and default Kafka/queue names
#
# Needs the local stack (Kafka, Redis, PostgreSQL as in .env.example) and this checkout's
# node_modules. The release is checked out in a throwaway worktree outside the repository, removed
# at the end together with the run's Kafka topics, consumer groups and Redis keys.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
RELEASE=${RELEASE:-d11ac8c}
WORK=$(mktemp -d /tmp/claimtrail-upgrade.XXXXXX)
OLD=$WORK/release
OUT=$REPO/tests/upgrade/fixtures
NODE=$REPO/node_modules/.bin/node
# The anvil binary itself (not the node wrapper), so SIGTERM reaches it and it writes its state.
ANVIL=$(compgen -G "$REPO/node_modules/@foundry-rs/anvil-*-*/bin/anvil" | head -1 || true)
[ -x "$ANVIL" ] || { echo "no anvil binary under node_modules/@foundry-rs" >&2; exit 1; }
NAME=ct_upgrade_$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')
ANVIL_PORT=$((20000 + RANDOM % 20000))
REVIEW_PORT=$((40000 + RANDOM % 20000))
export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/claimtrail}
export KAFKA_BROKERS=${KAFKA_BROKERS:-127.0.0.1:9092}
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379}
PIDS=()

cleanup() {
  set +e
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
  (cd "$OLD" && "$NODE" --input-type=module -e "
    const { Kafka, logLevel } = await import('kafkajs');
    const admin = new Kafka({ brokers: process.env.KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const topics = (await admin.listTopics()).filter((t) => t.startsWith('$NAME.') || t === '$NAME.verdicts');
    await admin.deleteTopics({ topics }).catch(() => {});
    await admin.deleteGroups(['$NAME-scoring', '$NAME-batching']).catch(() => {});
    await admin.disconnect();") 2>/dev/null
  redis-cli -u "$REDIS_URL" --scan --pattern "bull:$NAME-anchor:*" | xargs -r redis-cli -u "$REDIS_URL" del >/dev/null
  psql -q "$DATABASE_URL" -c "DROP SCHEMA IF EXISTS $NAME CASCADE" 2>/dev/null
  git -C "$REPO" worktree remove --force "$OLD" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

git -C "$REPO" worktree add --detach "$OLD" "$RELEASE" >/dev/null
ln -s "$(readlink -f "$REPO/node_modules")" "$OLD/node_modules"
cd "$OLD"
npx hardhat build --quiet

# The run's own names (the release's isolatedEnv layout), signer = anvil's first dev account, a
# fixed synthetic PHI master key (the payloads are generated claims), its own state directory.
export CLAIMS_TOPIC=$NAME.claims DLQ_TOPIC=$NAME.claims.dlq DECISIONS_TOPIC=$NAME.decisions SHADOW_TOPIC=$NAME.decisions.shadow
export SCORING_GROUP_ID=$NAME-scoring BATCHING_GROUP_ID=$NAME-batching SCORING_INSTANCE_ID=$NAME
export ANCHOR_QUEUE=$NAME-anchor DATABASE_SCHEMA=$NAME VERDICTS_TOPIC=$NAME.verdicts
export CHAIN_RPC_URL=http://127.0.0.1:$ANVIL_PORT
export SIGNER_PRIVATE_KEY=0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80
export PHI_MASTER_KEY=$(printf 'claimtrail upgrade fixture' | sha256sum | cut -c1-64)
# FIXTURE_MODEL_DIR: reuse a model bundle trained by the release (saves a few minutes).
export STATE_DIR=$WORK/state MODEL_DIR=${FIXTURE_MODEL_DIR:-$WORK/model}
export TOPIC_PARTITIONS=2 BATCH_MAX_SIZE=40 BATCH_MAX_AGE_MS=2000 LOG_LEVEL=warn
export REVIEW_PORT REVIEW_AUDIT_SEAL_SECONDS=2 REVIEW_AUDIT_SEAL_MIN_AGE_SECONDS=0
# Background processes are started without a wrapping function so that $! is the process itself;
# they are stopped with SIGTERM (a non-interactive shell starts them with SIGINT ignored).
CLI=("$NODE" --disable-warning=TimeoutNegativeWarning cli/main.ts)
cli() { "${CLI[@]}" "$@"; }
sql() { psql -qtA "$DATABASE_URL" -c "SET search_path TO $NAME; $1"; }
wait_for() { # wait_for <seconds> <description> <command...>
  local until=$((SECONDS + $1)) what=$2; shift 2
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt "$until" ] || { echo "timed out waiting for $what" >&2; exit 1; }
    sleep 1
  done
}

"$ANVIL" --port "$ANVIL_PORT" --chain-id 31337 --dump-state "$WORK/anvil-state.json" --silent &
PIDS+=($!)
wait_for 30 anvil curl -sf -H 'content-type: application/json' -d '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}' "$CHAIN_RPC_URL"

[ -f "$MODEL_DIR/manifest.json" ] || cli train --generate 3000 --seed 7 --out "$MODEL_DIR" --trees 20 --epochs 4 --no-progress >"$WORK/train.log"

echo "running the $RELEASE pipeline on 200 claims ..."
"${CLI[@]}" start --no-stack --claims 200 --malformed 5 --seed 42 --keep-running >"$WORK/start.log" 2>&1 &
START_PID=$!
PIDS+=($START_PID)
wait_for 300 "the pipeline's summary" grep -q 'pipeline running' "$WORK/start.log"
grep -q '^verify: PASS' "$WORK/start.log"

echo "review app: a supervisor, a few audited reads, one anchored seal and one pending seal ..."
TOKEN=$(cli review user create --name cora --role supervisor --json | jq -r .token)
"${CLI[@]}" review serve --port "$REVIEW_PORT" >"$WORK/review.log" 2>&1 &
REVIEW_PID=$!
PIDS+=($REVIEW_PID)
API=http://127.0.0.1:$REVIEW_PORT/api
wait_for 60 'the review app' curl -sf -H "authorization: Bearer $TOKEN" "$API/me"
CASE=$(curl -sf -H "authorization: Bearer $TOKEN" "$API/cases?limit=5" | jq -r '.items[0].caseId')
curl -sf -H "authorization: Bearer $TOKEN" "$API/cases/$CASE" >/dev/null
curl -sf -H "authorization: Bearer $TOKEN" "$API/audit" >/dev/null
seals() { sql "SELECT count(*) FROM batches WHERE topic LIKE 'claimtrail.audit-log.%' ${1:-}"; }
anchored_seal() { [ "$(seals "AND status = 'anchored'")" -ge 1 ]; }
wait_for 120 'an anchored audit seal' anchored_seal
# The anchor worker stops with the pipeline: the next seal stays pending.
kill -TERM "$START_PID"
wait "$START_PID" || true
SEALED=$(seals)
curl -sf -H "authorization: Bearer $TOKEN" "$API/queues" >/dev/null
curl -sf -H "authorization: Bearer $TOKEN" "$API/audit/batches" >/dev/null
another_seal() { [ "$(seals)" -gt "$SEALED" ]; }
wait_for 30 'a pending audit seal' another_seal
kill -TERM "$REVIEW_PID"
wait "$REVIEW_PID" || true

echo "exporting proof bundles with $RELEASE's claimtrail proof ..."
rm -rf "$OUT" && mkdir -p "$OUT/bundles"
for outcome in flag review approve; do
  claim=$(sql "SELECT claim_id FROM decisions WHERE outcome = '$outcome' ORDER BY log_partition, log_offset LIMIT 1")
  [ -n "$claim" ] || continue
  cli proof "$claim" >"$OUT/bundles/$outcome.json"
done

CONTRACT=$(sql "SELECT DISTINCT contract FROM batches WHERE contract IS NOT NULL")
"$NODE" --input-type=module -e "
  const { loadConfig } = await import('$OLD/core/config.ts');
  const d = loadConfig({});
  process.stdout.write(JSON.stringify({
    release: '$RELEASE',
    schema: '$NAME',
    chainId: 31337,
    contract: '$CONTRACT',
    defaultNames: { topics: d.kafka.topics, scoringGroupId: d.kafka.scoringGroupId, batchingGroupId: d.kafka.batchingGroupId, anchorQueue: d.anchor.queue },
  }, null, 2) + '\n');" >"$OUT/release.json"

# anvil writes its state when it exits.
kill -TERM "${PIDS[0]}"
wait "${PIDS[0]}" || true
cp "$WORK/anvil-state.json" "$OUT/anvil-state.json"
pg_dump --schema="$NAME" --no-owner --no-privileges "$DATABASE_URL" >"$OUT/database.sql"
ls -l "$OUT" "$OUT/bundles"
