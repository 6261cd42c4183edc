#!/usr/bin/env bash
# Kannel (Debian's `kannel` package, installed if missing) as a benchmark peer, loopback only: bearerbox + smsbox, one
# SMPP transceiver to the SMSC on 127.0.0.1:$SMSC_PORT (default 2775; `petrel smsc` takes any credentials) with
# max-pending-submits $WINDOW (default 100, Petrel's SMPP window), no receipts asked (the sendsms requests carry no
# dlr-mask), logs at WARNING (console and files; the access log keeps its line per message, as Kannel runs by default).
# Ports: bearerbox admin 13000, smsbox link 13001, sendsms 13013 (user bench, password benchpw).
#   bench/kannel.sh start|stop|status        state in $KANNEL_DIR (default /tmp/petrel-kannel)
#   curl 'http://127.0.0.1:13013/cgi-bin/sendsms?username=bench&password=benchpw&from=12345&to=85291234567&text=hi'
set -euo pipefail
K=${KANNEL_DIR:-/tmp/petrel-kannel}
SMSC_PORT=${SMSC_PORT:-2775}; WINDOW=${WINDOW:-100}

stop() {
    local b pid
    for b in smsbox bearerbox; do
        [ -f "$K/$b.pid" ] || continue
        pid=$(cat "$K/$b.pid")
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid"
            for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
            kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
        fi
        rm -f "$K/$b.pid"
    done
}
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

case "${1:-}" in
stop) stop; exit 0 ;;
status) curl -s "http://127.0.0.1:13000/status.txt?password=bench" || echo "bearerbox is not answering"; exit 0 ;;
start) ;;
*) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac

if [ ! -x /usr/sbin/bearerbox ]; then
    [ -n "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -print -quit)" ] || apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends kannel >/dev/null
fi
stop
for port in 13000 13001 13013; do
    if listening $port; then echo "kannel.sh: port $port is taken" >&2; exit 1; fi
done
rm -rf "$K/store"; mkdir -p "$K/log" "$K/store"
cat > "$K/kannel.conf" <<CONF
group = core
admin-port = 13000
admin-interface = 127.0.0.1
admin-password = bench
status-password = bench
admin-allow-ip = "127.0.0.1"
smsbox-port = 13001
smsbox-interface = 127.0.0.1
box-allow-ip = "127.0.0.1"
box-deny-ip = "*.*.*.*"
log-file = "$K/log/bearerbox.log"
log-level = 2
access-log = "$K/log/bearerbox-access.log"
store-type = file
store-location = "$K/store/kannel.store"
dlr-storage = internal

group = smsc
smsc = smpp
smsc-id = sink
host = 127.0.0.1
port = $SMSC_PORT
transceiver-mode = true
smsc-username = kannel
smsc-password = kannel
system-type = ""
max-pending-submits = $WINDOW
enquire-link-interval = 30
reconnect-delay = 1

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = 13001
sendsms-port = 13013
sendsms-interface = 127.0.0.1
log-file = "$K/log/smsbox.log"
log-level = 2
access-log = "$K/log/smsbox-access.log"

group = sendsms-user
username = bench
password = benchpw
user-allow-ip = "127.0.0.1"
max-messages = 1
CONF
/usr/sbin/bearerbox -v 2 "$K/kannel.conf" > "$K/log/bearerbox.out" 2>&1 &
echo $! > "$K/bearerbox.pid"
for _ in $(seq 50); do listening 13001 && break; sleep 0.2; done
/usr/sbin/smsbox -v 2 "$K/kannel.conf" > "$K/log/smsbox.out" 2>&1 &
echo $! > "$K/smsbox.pid"
for _ in $(seq 50); do listening 13013 && break; sleep 0.2; done
listening 13013 || { echo "kannel.sh: smsbox did not start (see $K/log)" >&2; stop; exit 1; }
# Ready once the SMPP bind is up: bearerbox's status shows the smsc online.
for _ in $(seq 50); do
    curl -s "http://127.0.0.1:13000/status.txt?password=bench" | grep -q "online" && break
    sleep 0.2
done
echo "kannel: bearerbox pid $(cat "$K/bearerbox.pid"), smsbox pid $(cat "$K/smsbox.pid"), sendsms on 127.0.0.1:13013"
