#!/usr/bin/env bash
# Kafka for the connector tests: librdkafka's mock cluster (Debian librdkafka-dev) behind a small
# launcher, scripts/kafka-mock/kafka-mock.c. Each Kafka test file starts its own mock brokers
# (spec/support/kafka-mock.ts); this script only makes sure the launcher can be built and runs.
# Idempotent: installs librdkafka-dev and gcc when missing, rebuilds the launcher when its source is
# newer, then starts it once with a topic and stops it again.
set -euo pipefail
cd "$(dirname "$0")/../.."

src=scripts/kafka-mock/kafka-mock.c
bin=scripts/kafka-mock/build/kafka-mock
did=()

install() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "50-kafka-mock: $* missing and not running as root: apt-get install -y --no-install-recommends $*" >&2
    exit 1
  fi
  if ! apt-get install -y --no-install-recommends "$@" >/dev/null 2>&1; then
    apt-get update >/dev/null 2>&1 || true
    apt-get install -y --no-install-recommends "$@" >/dev/null 2>&1 || { echo "50-kafka-mock: apt-get install $* failed" >&2; exit 1; }
  fi
  did+=("installed $*")
}

missing=()
[ -f /usr/include/librdkafka/rdkafka_mock.h ] || missing+=(librdkafka-dev)
command -v gcc >/dev/null 2>&1 || missing+=(gcc)
[ ${#missing[@]} -eq 0 ] || install "${missing[@]}"

if [ ! -x "$bin" ] || [ "$src" -nt "$bin" ]; then
  mkdir -p "$(dirname "$bin")"
  gcc -O2 -o "$bin" "$src" -lrdkafka || { echo "50-kafka-mock: compiling $src failed" >&2; exit 1; }
  did+=("built $bin")
fi

# Self-check: the launcher starts brokers, creates a topic and prints its bootstrap list (it exits at
# once, its standard input being empty).
line=$(timeout 10 "$bin" --brokers 1 selfcheck:1 </dev/null 2>&1 | head -n 1 || true)
case "$line" in
  bootstrap\ 127.0.0.1:*) ;;
  *) echo "50-kafka-mock: the launcher did not start: ${line:-no output}" >&2; exit 1 ;;
esac
did+=("starts brokers")
echo "Kafka mock launcher $bin: $(printf '%s; ' "${did[@]}" | sed 's/; $//')"
