#!/usr/bin/env bash
# Mosquitto on 127.0.0.1:1883, anonymous (the tests' shared MQTT broker). Run by scripts/services.sh,
# which provides the svc_* helpers.
set -euo pipefail
PORT=${SLUICE_MOSQUITTO_PORT:-1883} # the override is for trying the script on a spare port
CONF=/etc/mosquitto/mosquitto.conf

if svc_mqtt_answers "$PORT"; then echo "Mosquitto 127.0.0.1:$PORT already running"; exit 0; fi

did=""
if ! command -v mosquitto >/dev/null 2>&1 && [ ! -x /usr/sbin/mosquitto ]; then
  svc_apt_install mosquitto
  did="installed mosquitto, "
fi
if ! svc_mqtt_answers "$PORT"; then
  if svc_tcp_open "$PORT"; then echo "port $PORT is taken by something that does not answer MQTT CONNECT" >&2; exit 1; fi
  # The machine's config when it declares the loopback listener; otherwise (a fresh package) a private
  # one: Debian's default has no listener and would only allow local clients with MQTT 2.0's defaults.
  if ! grep -Eq "^listener[[:space:]]+$PORT[[:space:]]+127\.0\.0\.1" "$CONF" 2>/dev/null; then
    CONF=/var/tmp/sluice-mosquitto.conf
    printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$PORT" >"$CONF"
  fi
  # Directories the Debian config names (pid file, log, persistence) may be missing without systemd.
  svc_as_root mkdir -p /run/mosquitto /var/log/mosquitto /var/lib/mosquitto
  id mosquitto >/dev/null 2>&1 && svc_as_root chown mosquitto: /run/mosquitto /var/log/mosquitto /var/lib/mosquitto
  PATH="$PATH:/usr/sbin" svc_as_root mosquitto -d -c "$CONF"
  did="${did}started mosquitto -c $CONF, "
fi
svc_wait 20 "Mosquitto 127.0.0.1:$PORT" svc_mqtt_answers "$PORT"
echo "Mosquitto 127.0.0.1:$PORT: ${did}answering"
