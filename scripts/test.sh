#!/usr/bin/env bash
# The test command the README gives (npm test): type-check, lint, pack the package and use it as a
# user would (scripts/check-package.sh), start the services the connector tests need, then run every
# uvu suite under spec/ in one process and print a plain summary line. A suite process that has not
# exited 60 s after its summary (a test left a server, client or timer open) is killed and fails the
# run (scripts/exit-after-summary.mjs): CI never waits forever.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== typecheck"
npx tsc -p tsconfig.json --noEmit

echo "== lint"
npx biome check .

echo "== import cycles"
node --import tsx scripts/import-cycles.ts

echo "== package"
bash scripts/check-package.sh

if [ -x scripts/services.sh ]; then
  echo "== services"
  bash scripts/services.sh
fi

# the files of the worker-executor pass (see its step below)
WORKER_PASS='(operators/(assign-timestamps|keyed|process|stateless|union-connect|window[-a-z]*|async/[-a-z]+)|integration/(sources-restore|socket-job)|runtime/(?!worker-)[-a-z]+|checkpoint/(?!process-kill|worker-)[-a-z]+|windows/[-a-z]+|state/[-a-z]+|queryable/queryable-(routes|state)|connectors/((rabbitmq|activemq|mqtt|redis)/(sink|source)|actor/actor-(source|sink)|redis/cluster-sentinel|rabbitmq/broker-restart|kafka/kafka-(source|sink|exactly-once|cluster|scale-out|kill)|http-server/(source|many-clients)|tcp-server/many-clients|bucketing-file-sink/(((local|s3|bulk|bulk-s3|compaction|s3-compaction)-)?exactly-once|s3-multipart)|kinesis/kinesis-(sink|source)|elasticsearch/(backpressure|exactly-once-in-effect)|cassandra/(sink|write-ahead-log)|nifi/(sink|source|tls|fault-schedules|source-fault-schedules)|twitter/job|collections/observable-source|flume/flume-(agent|faults)|hdfs/hdfs-exactly-once))\.spec\.ts$'

echo "== tests"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
node scripts/exit-after-summary.mjs node --import tsx node_modules/uvu/bin.js spec '\.spec\.ts$' 2>&1 | tee "$log" || status=$?
plain=$(sed -E 's/\x1b\[[0-9;]*m//g' "$log")
count() { echo "$plain" | grep -E "^\s*$1:" | tail -1 | grep -oE '[0-9]+' | head -1 || true; }
total=$(count Total); passed=$(count Passed); skipped=$(count Skipped)
total=${total:-0}; passed=${passed:-0}; skipped=${skipped:-0}
failed=$((total - passed)) # uvu's Total counts the tests that ran; skipped ones are counted apart
echo "$passed passed, $failed failed, $skipped skipped"
if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ] || [ "$total" -eq 0 ]; then exit 1; fi

echo "== tests on the worker executor (SLUICE_EXECUTOR=workers; docs/executors.md)"
# The operator, runtime, checkpoint, windows, state and queryable-state suites again, the RabbitMQ, ActiveMQ, MQTT
# and Redis sink and source suites against the machine's brokers, the Redis cluster and sentinel and the RabbitMQ
# broker-restart suites, the Kafka source, sink, exactly-once, three-node cluster, scale-out and SIGKILL suites
# (the job processes of the last two inherit the two variables), the HTTP server source suite, the bucketing file
# sink's exactly-once suites (local disk and S3) and S3 multipart suite, the Kinesis, Elasticsearch, Cassandra, NiFi
# and Twitter suites with jobs, the observable source suite, the Flume suites with jobs (the real agents and
# the Avro fault server run on the coordinator), the HDFS exactly-once suite (its minicluster too) and the HTTP
# and TCP server many-clients suites (their heap probe and the source's counters are read by the job's own
# function, in the reader's thread, into memory the threads share), every job on two worker threads
# (spec/support/worker-pass/run.ts; SLUICE_WORKER_THREADS: the default, the cores the process may run on, is its CPU
# affinity, which a benchmark run's taskset cut to one core). Brokers, TCP relays, the Kafka cluster and the servers a
# test starts (s3rver, kinesalite, the loopback Elasticsearch node, NiFi cluster and X server, the Cassandra node) run
# on the coordinator: a replaying worker gets their ports through passValue, as it gets the test's names and keys. What a test does to the world outside its
# job (publishing its input, closing a broker connection, creating a topic) runs on the coordinator only
# (coordinatorOnly in spec/support/worker-pass/pass-context.ts): a replaying worker would publish the input again;
# what it reads or writes between its jobs that only the coordinator has (a finished job's checkpoints, checkpoint
# files it damages) is a coordinatorStep there, whose result a worker replaying up to a later job gets.
# The checkpoint suites' in-memory Ledger commits on the coordinator (spec/support/ledger-sink.ts is
# thread-bridged), and once-only faults, fault logs, counters and the SequenceGate live in memory every
# thread of a test shares (spec/support/shared-flags.ts): so the seeded fault harness runs here too,
# 100 schedules (120 in the pass above), as issue 16's proof asks (about 7 s a schedule at load 8-18); the
# connectors' harnesses with 4-10 seeds here (seedsFromEnv's onWorkers; SEEDS for more).
# The async operator suites' fake services count calls in shared memory (spec/operators/async/async-support.ts).
# The actor connector suites' endpoints are thread-bridged; the integration suites' servers and files are the
# coordinator's (coordinatorOnly). Left out by file: integration/demo (the demo in a child process on one
# thread); runtime/worker-*, checkpoint/worker-* and connectors/actor/worker-executor (about
# the executor itself: they start their own executors in child processes); checkpoint/process-kill
# (child processes on one thread; checkpoint/worker-sigkill is its worker counterpart); the other
# connector suites: those that drive readers and writers directly, without a job (files, socket, print,
# base, most of tcp-server and http-server, kafka-connect, producer-records, group-membership), run on the
# coordinator's thread in the pass as in the pass above, so they are not run twice; the process-kill suites run their
# jobs in child processes on one thread.
# Single tests by name, each with why, in spec/support/worker-pass/left-out.ts (counted as skipped).
status=0
SLUICE_EXECUTOR=workers SLUICE_WORKER_THREADS=2 node scripts/exit-after-summary.mjs node --import tsx spec/support/worker-pass/run.ts spec "$WORKER_PASS" 2>&1 | tee "$log" || status=$?
plain=$(sed -E 's/\x1b\[[0-9;]*m//g' "$log")
total=$(count Total); passed=$(count Passed); skipped=$(count Skipped)
total=${total:-0}; passed=${passed:-0}; skipped=${skipped:-0}
failed=$((total - passed))
echo "on workers: $passed passed, $failed failed, $skipped skipped"
if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ] || [ "$total" -eq 0 ]; then exit 1; fi
