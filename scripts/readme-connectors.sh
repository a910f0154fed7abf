#!/usr/bin/env bash
# Regenerates the "External connectors" part of README.md from docs/connectors/*.md (one section per
# connector, written next to the connector's code), so the README and the connector docs never drift.
set -euo pipefail
cd "$(dirname "$0")/.."
begin='<!-- connectors:begin -->'
end='<!-- connectors:end -->'
body=$(mktemp)
trap 'rm -f "$body"' EXIT
{
  echo "$begin"
  for doc in docs/connectors/services.md docs/connectors/kafka.md docs/connectors/kinesis.md docs/connectors/rabbitmq.md docs/connectors/mqtt.md docs/connectors/activemq.md docs/connectors/redis.md docs/connectors/http-server.md docs/connectors/tcp-server.md docs/connectors/nifi.md; do
    [ -f "$doc" ] || continue
    echo
    # one heading level down; links relative to docs/connectors/ made relative to the repository root
    sed -E -e 's/^(#{1,5}) /#\1 /' -e 's#\]\(\.\./\.\./#](#g' "$doc"
  done
  echo
  echo "$end"
} > "$body"
awk -v begin="$begin" -v end="$end" -v file="$body" '
  $0 == begin { while ((getline line < file) > 0) print line; skipping = 1; next }
  $0 == end { skipping = 0; next }
  !skipping { print }
' README.md > README.md.new
mv README.md.new README.md
