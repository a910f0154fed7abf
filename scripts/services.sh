#!/usr/bin/env bash
# Starts the servers the connector tests need (npm test runs this first, see scripts/test.sh).
#
# Runs every scripts/services.d/*.sh in name order, each in its own bash. A script is idempotent: it
# detects a running service, installs what is missing with apt-get, starts it without systemd on
# 127.0.0.1, waits (bounded) until it answers, prints one line of what it did, and exits non-zero with
# a clear message when it cannot. Every script runs even when an earlier one failed, so one run reports
# every broken service; this script then exits 1 naming them.
#
# The helpers below are exported to the scripts (svc_*). Run one script alone with
#   bash scripts/services.sh 10-redis
set -uo pipefail
cd "$(dirname "$0")/.."

# --- helpers shared by the services.d scripts --------------------------------------------------

# svc_as_root CMD…: runs CMD as root (directly, or with sudo when this is not root).
svc_as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo -n "$@"; else
    echo "needs root to run: $*" >&2; return 1; fi
}

# svc_apt_install PKG…: installs the packages (no recommends); runs apt-get update once per
# services.sh run when a package is not found, then tries again. Waits for a dpkg lock held by a
# concurrent run instead of failing.
svc_apt_install() {
  local log; log=$(mktemp)
  local apt=(env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 -y -q --no-install-recommends install "$@")
  if svc_as_root "${apt[@]}" >"$log" 2>&1; then rm -f "$log"; return 0; fi
  if [ ! -e "$SVC_APT_UPDATED" ]; then
    svc_as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 -q update >>"$log" 2>&1 && touch "$SVC_APT_UPDATED"
    if svc_as_root "${apt[@]}" >>"$log" 2>&1; then rm -f "$log"; return 0; fi
  fi
  echo "apt-get install $* failed:" >&2; tail -n 15 "$log" >&2; rm -f "$log"; return 1
}

# svc_tcp_open PORT: whether something accepts connections on 127.0.0.1:PORT.
svc_tcp_open() {
  timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

# svc_exchange PORT REQUEST-PRINTF-FORMAT BYTES: sends the request and prints the first BYTES bytes of
# the answer in hex (empty when nothing came within 3 s). A protocol-level "does it answer".
svc_exchange() {
  timeout 3 bash -c 'exec 3<>/dev/tcp/127.0.0.1/$1 || exit 1; printf "$2" >&3; head -c "$3" <&3 | od -An -v -tx1 | tr -d " \n"' _ "$1" "$2" "$3" 2>/dev/null || true
}

# svc_mqtt_answers PORT: an MQTT 3.1.1 CONNECT (clean session, empty client id) gets CONNACK accepted.
svc_mqtt_answers() {
  [ "$(svc_exchange "$1" '\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c\x00\x00' 4)" = "20020000" ]
}

# svc_wait SECONDS DESCRIPTION CMD…: polls CMD every 0.2 s until it succeeds; fails after SECONDS.
svc_wait() {
  local seconds=$1 what=$2; shift 2
  local deadline=$((SECONDS + seconds))
  until "$@"; do
    if [ "$SECONDS" -ge "$deadline" ]; then echo "$what: not answering after ${seconds} s" >&2; return 1; fi
    sleep 0.2
  done
}

export -f svc_as_root svc_apt_install svc_tcp_open svc_exchange svc_mqtt_answers svc_wait
SVC_APT_UPDATED=$(mktemp -u /tmp/sluice-apt-updated.XXXXXX)
export SVC_APT_UPDATED
trap 'rm -f "$SVC_APT_UPDATED"' EXIT

# --- run the scripts -------------------------------------------------------------------------

shopt -s nullglob
scripts=(scripts/services.d/*.sh)
if [ $# -gt 0 ]; then
  scripts=()
  for name in "$@"; do scripts+=("scripts/services.d/${name%.sh}.sh"); done
fi
[ ${#scripts[@]} -gt 0 ] || { echo "services: no scripts in scripts/services.d"; exit 0; }

failed=()
for script in "${scripts[@]}"; do
  name=$(basename "$script" .sh)
  started=$SECONDS
  if [ ! -f "$script" ]; then
    echo "services: $name: FAILED: no such script $script"
    failed+=("$name"); continue
  fi
  out=$(bash "$script" 2>&1)
  status=$?
  if [ $status -eq 0 ]; then
    echo "services: $name: ${out:-ok} ($((SECONDS - started)) s)"
  else
    echo "services: $name: FAILED (exit $status after $((SECONDS - started)) s):"
    printf '%s\n' "$out" | sed 's/^/  /'
    failed+=("$name")
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "services: ${#failed[@]} of ${#scripts[@]} failed: ${failed[*]} — the connector tests that need them cannot pass" >&2
  exit 1
fi
