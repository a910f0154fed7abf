#!/usr/bin/env bash
# Redis on 127.0.0.1:6379, no persistence (the tests' shared Redis). Run by scripts/services.sh, which
# provides the svc_* helpers.
set -euo pipefail
PORT=${SLUICE_REDIS_PORT:-6379} # the override is for trying the script on a spare port

redis_answers() {
  [ "$(svc_exchange "$PORT" 'PING\r\n' 7)" = "2b504f4e470d0a" ] # +PONG\r\n
}

if redis_answers; then echo "Redis 127.0.0.1:$PORT already running"; exit 0; fi

did=""
if ! command -v redis-server >/dev/null 2>&1; then
  svc_apt_install redis-server
  did="installed redis-server, "
fi
# A fresh package may have started its own server meanwhile (Debian's postinst with a working init).
if ! redis_answers; then
  if svc_tcp_open "$PORT"; then echo "port $PORT is taken by something that does not answer Redis PING" >&2; exit 1; fi
  svc_as_root mkdir -p /var/lib/redis
  svc_as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$PORT" --save "" --appendonly no --dir /var/lib/redis >/dev/null
  did="${did}started redis-server, "
fi
svc_wait 20 "Redis 127.0.0.1:$PORT" redis_answers
echo "Redis 127.0.0.1:$PORT: ${did}answering"
