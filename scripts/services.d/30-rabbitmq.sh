#!/usr/bin/env bash
# RabbitMQ on 127.0.0.1:5672 (guest/guest from loopback). Only detects and starts it: the RabbitMQ
# connector's own setup (queues, exchanges) belongs to its tests. Run by scripts/services.sh, which
# provides the svc_* helpers.
set -euo pipefail
PORT=5672

# The AMQP 0-9-1 protocol header gets a connection.start frame (frame type 1, channel 0).
amqp_answers() {
  [ "$(svc_exchange "$PORT" 'AMQP\x00\x00\x09\x01' 3)" = "010000" ]
}

if amqp_answers; then echo "RabbitMQ 127.0.0.1:$PORT already running"; exit 0; fi

did=""
if [ ! -x /usr/sbin/rabbitmq-server ]; then
  svc_apt_install rabbitmq-server
  did="installed rabbitmq-server, "
fi
if [ ! -e /etc/rabbitmq/rabbitmq.conf ]; then
  # A fresh package listens on every interface: keep it on loopback as the machine's own config does.
  svc_as_root mkdir -p /etc/rabbitmq
  echo "listeners.tcp.local = 127.0.0.1:$PORT" | svc_as_root tee /etc/rabbitmq/rabbitmq.conf >/dev/null
  did="${did}wrote /etc/rabbitmq/rabbitmq.conf (loopback), "
fi
if ! amqp_answers; then
  # Erlang takes a while to boot; an already booting node (another concurrent run) is not started twice.
  if ! pgrep -u rabbitmq -f beam.smp >/dev/null 2>&1 && ! svc_tcp_open "$PORT"; then
    svc_as_root mkdir -p /var/log/rabbitmq /var/lib/rabbitmq
    id rabbitmq >/dev/null 2>&1 && svc_as_root chown rabbitmq: /var/log/rabbitmq /var/lib/rabbitmq
    PATH="$PATH:/usr/sbin" svc_as_root rabbitmq-server -detached >/dev/null 2>&1
    did="${did}started rabbitmq-server -detached, "
  else
    did="${did}waited for a booting node, "
  fi
fi
svc_wait 90 "RabbitMQ 127.0.0.1:$PORT" amqp_answers
echo "RabbitMQ 127.0.0.1:$PORT: ${did}answering"
