#!/usr/bin/env bash
# bench/jasmin-smpp.sh start|stop|status: Jasmin's SMPP server beside Petrel's, for bench/smpp-server.py --server jasmin.
#
# start installs Jasmin 0.11.0 from PyPI into a virtualenv (0.11.1 does not relay receipts to its SMPP server's
# users, jookies/jasmin#1236) and Debian's redis-server and rabbitmq-server, then runs all three on 127.0.0.1 only,
# with every working file under $JASMIN_WORK (default /tmp/petrel-jasmin; nothing in the repository):
#   Jasmin's SMPP server on 127.0.0.1:2780, user bench / benchpw (group bench, no throughput quota);
#   an SMPP client connector `sink` to 127.0.0.1:$SINK_PORT (default 2775; bench/smpp-server.py starts
#   `petrel smsc --no-faults` there) without its default 1 submit_sm/s throttle; a DefaultRoute MT route to it;
#   logging at WARNING, as Petrel's benchmark runs it, jCli on 127.0.0.1:8990 (jcliadmin / jclipwd).
# JASMIN_NODELAY=1 start adds a .pth hook to Jasmin's venv that sets TCP_NODELAY on its (Twisted) TCP sockets; without
#   it Jasmin leaves Nagle on, and its connector (one submit_sm in flight: AMQP prefetch 1) stalls on each receipt's
#   deliver_sm_resp until the sink's delayed ACK (~30 submits/s here). Jasmin must be stopped to switch.
# stop ends jasmind, RabbitMQ (and the epmd it started) and Redis: no daemon is left running.
set -euo pipefail
W=${JASMIN_WORK:-/tmp/petrel-jasmin}
V=$W/venv
SINK_PORT=${SINK_PORT:-2775}
JASMIN_VERSION=0.11.0
RMQ=/usr/lib/rabbitmq/bin

rabbit_env() {
  export HOME=$W/rabbitmq RABBITMQ_NODENAME=petrel-jasmin@localhost RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
  export RABBITMQ_NODE_PORT=5672 ERL_EPMD_ADDRESS=127.0.0.1 RABBITMQ_CONFIG_FILE=$W/rabbitmq/rabbitmq.conf
  export RABBITMQ_CONF_ENV_FILE=$W/rabbitmq/env.conf RABBITMQ_MNESIA_BASE=$W/rabbitmq/mnesia
  export RABBITMQ_LOG_BASE=$W/rabbitmq/log RABBITMQ_PID_FILE=$W/rabbitmq/rabbit.pid
  export RABBITMQ_ENABLED_PLUGINS_FILE=$W/rabbitmq/plugins ERL_CRASH_DUMP=$W/rabbitmq/log/erl_crash.dump
}

running() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# jCli over its telnet port: each argument is one line; "> " is the prompt inside an add block, "jcli : " outside.
jcli() {
  "$V/bin/python" - "$@" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", 8990), timeout=20)
def expect(*prompts):
    got, deadline = b"", time.time() + 20
    while time.time() < deadline:
        chunk = s.recv(4096)
        if not chunk:
            break
        got += chunk
        text = got.decode("utf-8", "replace").replace("\r", "").replace("\x1b[K", "")
        if any(text.rstrip().endswith(p.rstrip()) for p in prompts):
            return text
    sys.exit("jCli did not answer: " + got.decode("utf-8", "replace")[-200:])
def say(line):
    s.sendall(line.encode() + b"\r\n")
expect("Authentication required.", "Username: ")  # then it waits for the user name without a prompt
say("jcliadmin")
expect("Password: ")
say("jclipwd")
expect("jcli : ")
for line in sys.argv[1:]:
    say(line)
    answer = expect("jcli : ", "> ")
    print(f"{line}\n{answer}", end="")
    if "Unknown" in answer or "Error" in answer or "error" in answer:
        sys.exit(f"jCli refused {line!r}")
say("quit")
PY
}

stop() {
  if running "$W/jasmind.pid"; then
    kill -TERM "$(cat "$W/jasmind.pid")"
    for _ in $(seq 50); do running "$W/jasmind.pid" || break; sleep 0.2; done
    running "$W/jasmind.pid" && kill -KILL "$(cat "$W/jasmind.pid")"
    echo "jasmind stopped"
  fi
  rm -f "$W/jasmind.pid"
  if [ -x "$RMQ/rabbitmqctl" ] && (rabbit_env; "$RMQ/rabbitmqctl" -q status >/dev/null 2>&1); then
    (rabbit_env; "$RMQ/rabbitmqctl" -q shutdown >/dev/null 2>&1 || true)
    echo "rabbitmq stopped"
  fi
  (rabbit_env; command -v epmd >/dev/null && epmd -kill >/dev/null 2>&1 || true)
  if running "$W/redis/redis.pid"; then
    kill -TERM "$(cat "$W/redis/redis.pid")"
    for _ in $(seq 50); do running "$W/redis/redis.pid" || break; sleep 0.2; done
    echo "redis stopped"
  fi
  rm -f "$W/redis/redis.pid"
}

case "${1:-}" in
  stop) stop; exit 0 ;;
  status) jcli "smppccm -l" "user -l" "mtrouter -l"; exit 0 ;;
  start) ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac

# Packages: Debian's Redis and RabbitMQ (their service units are not used), Jasmin from PyPI in its own venv.
if ! command -v redis-server >/dev/null || [ ! -x "$RMQ/rabbitmq-server" ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends redis-server rabbitmq-server
fi
mkdir -p "$W/etc/jasmin/store" "$W/var/log/jasmin" "$W/redis" "$W/rabbitmq/mnesia" "$W/rabbitmq/log"
if ! "$V/bin/python" -c "import jasmin, sys; sys.exit(jasmin.get_release() != '$JASMIN_VERSION')" 2>/dev/null; then
  python3 -m venv "$V"
  "$V/bin/python" -m pip install -q "jasmin==$JASMIN_VERSION"
fi
SITE=$("$V/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
if [ "${JASMIN_NODELAY:-0}" = 1 ]; then
  cat > "$SITE/petrel_nodelay.py" <<'PY'
"""Written by Petrel's bench/jasmin-smpp.sh (JASMIN_NODELAY=1): TCP_NODELAY on every Twisted TCP connection."""
import socket
try:
    from twisted.internet import tcp
except Exception:  # not every process of this venv loads Twisted
    tcp = None
if tcp is not None:
    def nodelay(sock):
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
    connected = tcp.BaseClient._connectDone
    def _connectDone(self):
        connected(self)
        if getattr(self, "socket", None) is not None:
            nodelay(self.socket)
    tcp.BaseClient._connectDone = _connectDone
    accepted = tcp.Server.__init__
    def __init__(self, sock, *args, **kwargs):
        accepted(self, sock, *args, **kwargs)
        nodelay(sock)
    tcp.Server.__init__ = __init__
PY
  echo "import petrel_nodelay" > "$SITE/petrel_nodelay.pth"
else
  rm -f "$SITE/petrel_nodelay.pth" "$SITE/petrel_nodelay.py"
fi
# Jasmin reads the AMQP 0-9-1 spec from a file its wheel does not carry; txAMQP (its dependency) ships one.
SPEC=$("$V/bin/python" -c "import os, txamqp; print(os.path.join(os.path.dirname(txamqp.__file__), 'specs/standard/amqp0-9-1.stripped.xml'))")

cat > "$W/rabbitmq/rabbitmq.conf" <<'EOF'
listeners.tcp.default = 127.0.0.1:5672
distribution.listener.interface = 127.0.0.1
distribution.listener.port_range.min = 25672
distribution.listener.port_range.max = 25672
loopback_users = none
log.file.level = warning
EOF
: > "$W/rabbitmq/env.conf"
echo '[].' > "$W/rabbitmq/plugins"
{
  echo "# written by bench/jasmin-smpp.sh: loopback only, logging at WARNING"
  for entry in smpp-server:2780 smpp-server-pb:14000 client-management:8989 router:8988 interceptor:8987 \
    http-api:1401 jcli:8990; do
    printf '[%s]\nbind = 127.0.0.1\nport = %s\n' "${entry%%:*}" "${entry##*:}"
    [ "${entry%%:*}" = smpp-server ] && echo "id = smpps_01"
    echo "log_level = WARNING"
    echo
  done
  for section in sm-listener dlr deliversm-thrower dlr-thrower service-smppclient; do
    printf '[%s]\nlog_level = WARNING\n\n' "$section"
  done
  printf '[amqp-broker]\nhost = 127.0.0.1\nport = 5672\nspec = %s\nlog_level = WARNING\n\n' "$SPEC"
  printf '[redis-client]\nhost = 127.0.0.1\nport = 6379\nlog_level = WARNING\n'
} > "$W/etc/jasmin/jasmin.cfg"

running "$W/redis/redis.pid" || redis-server --bind 127.0.0.1 --port 6379 --daemonize yes --save "" --appendonly no \
  --dir "$W/redis" --pidfile "$W/redis/redis.pid" --logfile "$W/redis/redis.log"
(
  rabbit_env
  if ! "$RMQ/rabbitmqctl" -q status >/dev/null 2>&1; then
    "$RMQ/rabbitmq-server" -detached
    "$RMQ/rabbitmqctl" -q wait --timeout 120 "$RABBITMQ_PID_FILE" >/dev/null
  fi
)
export ROOT_PATH=$W
if ! running "$W/jasmind.pid"; then
  rm -f "$W"/etc/jasmin/store/*
  nohup "$V/bin/python" "$V/bin/jasmind.py" -c "$W/etc/jasmin/jasmin.cfg" --username=jcliadmin --password=jclipwd \
    --enable-dlr-lookup --enable-dlr-thrower >"$W/var/log/jasmin/jasmind.out" 2>&1 &
  echo $! >"$W/jasmind.pid"
  for _ in $(seq 120); do (exec 3<>/dev/tcp/127.0.0.1/8990) 2>/dev/null && break; sleep 0.5; done
fi

if ! jcli "smppccm -l" | grep -q '#sink '; then
  jcli "smppccm -a" "cid sink" "host 127.0.0.1" "port $SINK_PORT" "username jasmin" "password sink" \
    "submit_throughput 0" "loglevel 30" "ok" "smppccm -1 sink" \
    "mtrouter -a" "type DefaultRoute" "connector smppc(sink)" "rate 0.00" "ok" \
    "group -a" "gid bench" "ok" \
    "user -a" "username bench" "password benchpw" "gid bench" "uid bench" "ok" \
    "persist" >"$W/var/log/jasmin/jcli-setup.out"
fi
echo "jasmind $(cat "$W/jasmind.pid"): SMPP server 127.0.0.1:2780 (bench/benchpw), connector sink -> 127.0.0.1:$SINK_PORT"
