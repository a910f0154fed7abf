#!/usr/bin/env bash
# The JVM servers of servers/ (Kafka, Flume, HDFS, Cassandra): makes sure Java 17+ and Maven are there (apt-get
# when missing), then resolves each servers/<name>/pom.xml into the local Maven cache (~/.m2; offline
# when it has everything, else from Maven Central) and writes its classpath to
# servers/<name>/target/classpath.txt, where the launchers in spec/support read it. It starts no
# server: each test file starts its own (spec/support/jvm-server.ts). Self-check: Kafka's StorageTool
# runs from the classpath. Run by scripts/services.sh, which provides the svc_* helpers.
set -euo pipefail
cd "$(dirname "$0")/../.."

did=()
missing=()
java_major() { java -version 2>&1 | sed -nE '1s/.*version "([0-9]+).*/\1/p'; }
if ! command -v java >/dev/null 2>&1 || [ "$(java_major)" -lt 17 ]; then missing+=(openjdk-17-jdk-headless); fi
command -v mvn >/dev/null 2>&1 || missing+=(maven)
if [ ${#missing[@]} -gt 0 ]; then
  svc_apt_install "${missing[@]}"
  did+=("installed ${missing[*]}")
fi

for pom in servers/*/pom.xml; do
  name=$(basename "$(dirname "$pom")")
  out=servers/$name/target/classpath.txt
  if [ -f "$out" ] && [ "$out" -nt "$pom" ] && tr ':' '\n' <"$out" | while read -r jar; do [ -f "$jar" ] || exit 1; done; then
    did+=("$name: classpath cached")
    continue
  fi
  mkdir -p "servers/$name/target"
  started=$SECONDS
  log=$(mktemp)
  if mvn -q -B -o -f "$pom" dependency:build-classpath "-Dmdep.outputFile=$PWD/$out.$$" >"$log" 2>&1; then
    did+=("$name: resolved offline from ~/.m2 ($((SECONDS - started)) s)")
  elif mvn -q -B -f "$pom" dependency:build-classpath "-Dmdep.outputFile=$PWD/$out.$$" >"$log" 2>&1; then
    did+=("$name: downloaded into ~/.m2 ($((SECONDS - started)) s)")
  else
    echo "50-jvm-servers: Maven could not resolve $pom:" >&2; tail -n 20 "$log" >&2; rm -f "$log"; exit 1
  fi
  rm -f "$log"
  mv "$out.$$" "$out"
done

if ! java -Xmx64m -cp "$(cat servers/kafka/target/classpath.txt)" kafka.tools.StorageTool random-uuid >/dev/null 2>&1; then
  echo "50-jvm-servers: Kafka's StorageTool does not run from servers/kafka/target/classpath.txt" >&2; exit 1
fi
echo "JVM servers: $(printf '%s; ' "${did[@]}" | sed 's/; $//')"
