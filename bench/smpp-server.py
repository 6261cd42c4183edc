"""An SMPP server end to end, driven by a third-party ESME stack (PyPI smpplib, as the tests use): submit_sm
(registered_delivery 1) -> the server's accept -> a carrier -> a deliver_sm receipt back to the ESME.

    bench/smpp-server.py [--petrel .build/release/petrel] [--messages 20000] [--esmes 4] [--window 100]
                         [--sink sandbox|smsc] [--server petrel|jasmin] [--python PATH] [--plain-smpplib]
                         [--receipt-delay-ms 100]

--server petrel (the default) starts `petrel serve` on a fresh data directory with `smppServer`, adds one SMPP user
and sends through --sink: `sandbox` (the in-process sandbox carrier, numbers 85291234000-099, 100 ms to its
receipt) or `smsc` (`petrel smsc --no-faults` on a free port, 100 ms to its receipt, as an SMPP channel of one bind).
--server jasmin drives a Jasmin started by bench/jasmin-smpp.sh (its SMPP server on 127.0.0.1:2780, user
bench/benchpw, its connector to `petrel smsc --no-faults` on 127.0.0.1:2775, which this script starts), so both
servers are measured the same way with the same sink.

Then --esmes processes each bind one transceiver and submit their share of short GSM messages with at most
--window unanswered. Prints submits/s (first submit to last submit_sm_resp), receipts/s (first submit to the last
receipt: the end-to-end figure) and the CPU of the server(s), the sink and the ESMEs.

The ESMEs cost more CPU per PDU than the server does, so by default they are made lean without leaving smpplib:
its PDU classes build and parse every PDU and its Client runs the session, but its debug logging (a hex dump of
every PDU is built even when logging is off) and its two recv() calls per PDU are replaced by one buffered
reader, PDUs written while more are to come go out in one send(), and one submit_sm and one deliver_sm_resp object
are encoded again for each message (new sequence number and destination) instead of being built anew.
--plain-smpplib uses smpplib's Client as shipped. --python PATH runs the same script (and so the ESMEs) under
another interpreter, e.g. PyPy:

    apt-get install pypy3 pypy3-venv && pypy3 -m venv .test-work/pypy-venv
    .test-work/pypy-venv/bin/python -m pip install smpplib==2.2.4
    .test-work/venv/bin/python bench/smpp-server.py --python .test-work/pypy-venv/bin/python --esmes 4 \
        --window 300 --messages 100000    # past PyPy's warm-up; 11,900/s end to end here (docs/benchmarks.md)
"""
import argparse
import json
import logging
import multiprocessing
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

import smpplib.client
import smpplib.consts as C
import smpplib.exceptions
import smpplib.gsm
import smpplib.smpp


class LeanClient(smpplib.client.Client):
    """smpplib's Client with buffered I/O and no per-PDU logging. Output is queued and written before the next
    read that would block (or past 64 KiB), so a window of submit_sm goes out in a few send() calls."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._in = bytearray()
        self._out = []
        self._out_len = 0
        self._resp = None

    def send_pdu(self, p):
        if self.state not in C.COMMAND_STATES[p.command]:
            raise smpplib.exceptions.PDUError("Command %s in state %s" % (p.command, self.state))
        data = p.generate()
        self._out.append(data)
        self._out_len += len(data)
        if self._out_len >= 65536:
            self.flush()
        return True

    def _message_received(self, pdu):
        # smpplib's own answer, with one deliver_sm_resp object reused instead of one built per receipt.
        status = self.message_received_handler(pdu=pdu)
        if self._resp is None:
            self._resp = smpplib.smpp.make_pdu("deliver_sm_resp", client=self)
        self._resp.status = C.SMPP_ESME_ROK if status is None else status
        self._resp.sequence = pdu.sequence
        self.send_pdu(self._resp)

    def flush(self):
        if self._out:
            data = b"".join(self._out)
            self._out, self._out_len = [], 0
            try:
                self._socket.sendall(data)
            except OSError:
                raise smpplib.exceptions.ConnectionError()

    def read_pdu(self):
        buf = self._in
        while True:
            if len(buf) >= 4:
                length = struct.unpack_from(">L", buf)[0]
                if length < 16 or length > 65536:
                    raise smpplib.exceptions.PDUError("Broken PDU")
                if len(buf) >= length:
                    raw = bytes(buf[:length])
                    del buf[:length]
                    break
            self.flush()
            try:
                part = self._socket.recv(262144)
            except socket.timeout:
                raise
            except OSError:
                raise smpplib.exceptions.ConnectionError()
            if not part:
                raise smpplib.exceptions.ConnectionError()
            buf += part
        pdu = smpplib.smpp.parse_pdu(raw, client=self, allow_unknown_opt_params=self.allow_unknown_opt_params)
        if pdu.is_error():
            return pdu
        if pdu.command in C.STATE_SETTERS:
            self.state = C.STATE_SETTERS[pdu.command]
        return pdu


def esme(host, port, system_id, password, count, window, plain, out, total, expected):
    """One bind. Receipts go to any bind of the account, not only the one that submitted: every ESME reads until
    all of them together have `expected` (the shared `total`)."""
    logging.disable(logging.CRITICAL)
    cls = smpplib.client.Client if plain else LeanClient
    c = cls(host, port, timeout=60, allow_unknown_opt_params=True)
    c.connect()
    c._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    c.bind_transceiver(system_id=system_id, password=password)
    answered, receipts, published = [0], [0], [0]
    last_answer, last_receipt = [0.0], [0.0]
    errors, statuses = [0], {}

    def publish():
        # The shared count moves in steps: a lock per receipt costs more than the rest of its handling.
        if receipts[0] > published[0]:
            with total.get_lock():
                total.value += receipts[0] - published[0]
            published[0] = receipts[0]

    def sent(pdu):
        answered[0] += 1
        last_answer[0] = time.time()

    def received(pdu):
        receipts[0] += 1
        last_receipt[0] = time.time()
        if receipts[0] - published[0] >= 256:
            publish()

    def refused(pdu):
        # smpplib calls the sent handler too, after this one.
        errors[0] += 1
        statuses[pdu.status] = statuses.get(pdu.status, 0) + 1
        with expected.get_lock():
            expected.value -= 1  # no receipt comes for a refused submit

    c.error_pdu_handler = refused
    c.set_message_sent_handler(sent)
    c.set_message_received_handler(received)
    parts, coding, esm = smpplib.gsm.make_parts("Your code is 123456")
    fields = dict(source_addr_ton=C.SMPP_TON_ALNUM, source_addr="Petrel", dest_addr_ton=C.SMPP_TON_INTL,
                  short_message=parts[0], data_coding=coding, esm_class=esm, registered_delivery=1)
    start = time.time()
    submit = None
    for i in range(count):
        destination = "852912340%02d" % (i % 100)
        if plain:
            c.send_message(destination_addr=destination, **fields)
        else:
            # One submit_sm object, encoded by smpplib for each message with its own sequence and destination.
            if submit is None:
                submit = smpplib.smpp.make_pdu("submit_sm", client=c, destination_addr=destination, **fields)
            else:
                submit.sequence = c.next_sequence()
                submit.destination_addr = destination
            c.send_pdu(submit)
        while i + 1 - answered[0] > window:
            c.read_once()
    if not plain:
        c.flush()
    deadline = time.time() + 300
    c._socket.settimeout(0.2)
    while (answered[0] < count or total.value < expected.value) and time.time() < deadline:
        try:
            c.read_once(auto_send_enquire_link=False)
        except (TimeoutError, socket.timeout, OSError, smpplib.exceptions.ConnectionError):
            publish()
            continue
    publish()
    out.put(dict(start=start, answered=answered[0], receipts=receipts[0], last_answer=last_answer[0],
                 last_receipt=last_receipt[0], errors=errors[0], statuses=statuses, cpu=sum(os.times()[:2])))
    try:
        c.unbind()
    except Exception:
        pass
    finally:
        c.disconnect()


def cpu_of(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"nothing listens on 127.0.0.1:{port}")


def start_sink(petrel, port, delay_ms, summary=None):
    sink = subprocess.Popen([petrel, "smsc", "--listen", f"127.0.0.1:{port}", "--no-faults",
                             "--receipt-delay-ms", str(delay_ms)] + (["--summary", summary] if summary else []),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port)
    return sink


def wait_for_client(port, seconds=90):
    """Until a connection to the sink on `port` is established (a server's SMPP client reconnects on its own
    schedule; Jasmin's every 10 s), then a second for its bind."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                with open(table) as f:
                    lines = f.readlines()[1:]
            except OSError:
                continue
            for line in lines:
                fields = line.split()
                if fields[3] == "01" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    time.sleep(1)
                    return
        time.sleep(0.2)
    sys.exit(f"no client connected to the sink on port {port} within {seconds} s")


def start_petrel(a, work, sink_port):
    config = os.path.join(work, "petrel.yaml")
    cfg = {"logLevel": "warning", "sandbox": {"deliveryDelayMs": a.receipt_delay_ms},
           "smppServer": {"listen": "127.0.0.1:0", "window": 2 * a.window}}
    if sink_port:
        cfg["channels"] = [{"id": "sink", "type": "smpp", "host": "127.0.0.1", "port": sink_port,
                            "systemId": "petrel", "password": "sink", "window": 2 * a.window}]
        cfg["routes"] = [{"channels": ["sink"]}]
    with open(config, "w") as f:
        json.dump(cfg, f)
    data = os.path.join(work, "data")
    env = {**os.environ, "PETREL_MASTER_KEY": "ab" * 32}
    server = subprocess.Popen([a.petrel, "serve", "--data-dir", data, "--config", config, "--listen", "127.0.0.1:0"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    port = None
    deadline = time.time() + 60
    while port is None and time.time() < deadline:
        line = server.stdout.readline()
        if not line:
            break
        m = re.match(r"SMPP server listening on [\d.]+:(\d+)", line)
        port = int(m.group(1)) if m else None
    if port is None:
        server.terminate()
        sys.exit("the server did not start its SMPP server")
    subprocess.run([a.petrel, "smpp-users", "add", "bench", "--password", "benchpw", "--account", "default",
                    "--data-dir", data], check=True, env=env, capture_output=True)
    if sink_port:
        wait_for_client(sink_port)
    return server, port


def jasmin_pids(root):
    pids = {}
    for name, path in (("jasmind", "jasmind.pid"), ("rabbitmq", "rabbitmq/rabbit.pid"), ("redis", "redis/redis.pid")):
        try:
            with open(os.path.join(root, path)) as f:
                pids[name] = int(f.read().strip())
        except (OSError, ValueError):
            pass
    if "jasmind" not in pids:
        sys.exit(f"no jasmind.pid under {root}: start it with bench/jasmin-smpp.sh start")
    return pids


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--petrel", default=".build/release/petrel")
    p.add_argument("--messages", type=int, default=20000)
    p.add_argument("--esmes", type=int, default=4)
    p.add_argument("--window", type=int, default=100)
    p.add_argument("--server", choices=["petrel", "jasmin"], default="petrel")
    p.add_argument("--sink", choices=["sandbox", "smsc"], default="sandbox",
                   help="Petrel's carrier (Jasmin always uses the smsc sink)")
    p.add_argument("--receipt-delay-ms", type=int, default=100, help="the carrier's delay before each receipt")
    p.add_argument("--sink-summary", help="the sink's JSON counters, rewritten every second, to this file")
    p.add_argument("--jasmin-root", default=os.environ.get("JASMIN_WORK", "/tmp/petrel-jasmin"))
    p.add_argument("--jasmin-sink-port", type=int, default=2775)
    p.add_argument("--python", help="run the script (and the ESMEs) under this interpreter, e.g. PyPy's")
    p.add_argument("--plain-smpplib", action="store_true", help="smpplib's Client as shipped (logging, 2 recv per PDU)")
    a = p.parse_args()
    if a.python and os.path.realpath(a.python) != os.path.realpath(sys.executable):
        argv, skip = [], False
        for arg in sys.argv[1:]:
            if skip:
                skip = False
            elif arg == "--python":
                skip = True
            elif not arg.startswith("--python="):
                argv.append(arg)
        os.execv(a.python, [a.python, os.path.abspath(__file__)] + argv)
    interpreter = f"{sys.implementation.name} {'.'.join(map(str, sys.version_info[:3]))}"
    load = os.getloadavg()[0]  # before this run: the machine's other work
    work = tempfile.mkdtemp(prefix="petrel-smppbench-")
    procs_to_stop = []
    try:
        sink = None
        if a.server == "jasmin":
            pids = jasmin_pids(a.jasmin_root)
            # The sink numbers its message ids from 1 on each start: Jasmin's id maps of an earlier run (in Redis,
            # kept for a day) would take this run's receipts.
            subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", "6379", "FLUSHDB"], check=True, capture_output=True)
            sink = start_sink(a.petrel, a.jasmin_sink_port, a.receipt_delay_ms, a.sink_summary)
            procs_to_stop.append(sink)
            host, port, system_id, password = "127.0.0.1", 2780, "bench", "benchpw"
            wait_for_client(a.jasmin_sink_port)
            label = "jasmin (smsc sink)"
        else:
            sink_port = None
            if a.sink == "smsc":
                sink_port = free_port()
                sink = start_sink(a.petrel, sink_port, a.receipt_delay_ms, a.sink_summary)
                procs_to_stop.append(sink)
            server, port = start_petrel(a, work, sink_port)
            procs_to_stop.insert(0, server)
            pids = {"petrel": server.pid}
            host, system_id, password = "127.0.0.1", "bench", "benchpw"
            label = f"petrel ({a.sink} sink)"
        share = a.messages // a.esmes
        out = multiprocessing.Queue()
        total = multiprocessing.Value("i", 0)
        expected = multiprocessing.Value("i", share * a.esmes)
        cpu0 = {name: cpu_of(pid) for name, pid in pids.items()}
        sink0 = cpu_of(sink.pid) if sink else 0.0
        t0 = time.time()
        procs = [multiprocessing.Process(target=esme, args=(host, port, system_id, password, share, a.window,
                                                            a.plain_smpplib, out, total, expected))
                 for _ in range(a.esmes)]
        for proc in procs:
            proc.start()
        results = [out.get(timeout=900) for _ in procs]
        for proc in procs:
            proc.join()
        elapsed = time.time() - t0
        cpu = {name: (cpu_of(pid) - cpu0[name]) / elapsed for name, pid in pids.items()}
        sink_cpu = (cpu_of(sink.pid) - sink0) / elapsed if sink else 0.0
        start = min(r["start"] for r in results)
        count = share * a.esmes
        answered = sum(r["answered"] for r in results)
        receipts = sum(r["receipts"] for r in results)
        submit_s = max(r["last_answer"] for r in results) - start
        receipt_s = max(max(r["last_receipt"] for r in results) - start, 1e-9)
        servers = " ".join(f"{k} {v:.2f}" for k, v in cpu.items())
        print(f"smpp-server {label}: {count} messages, {a.esmes} ESMEs (smpplib{' plain' if a.plain_smpplib else ' lean'}, "
              f"{interpreter}), window {a.window}: "
              f"{answered} submit_sm_resp in {submit_s:.2f} s ({answered / submit_s:.0f}/s), "
              f"{receipts} receipts in {receipt_s:.2f} s ({receipts / receipt_s:.0f}/s end to end)  "
              f"refused {sum(r['errors'] for r in results)} {[r['statuses'] for r in results if r['statuses']]}  "
              f"cpu {servers}{f' sink {sink_cpu:.2f}' if sink else ''} "
              f"esmes {sum(r['cpu'] for r in results) / elapsed:.2f}  1-min load before {load:.2f}", flush=True)
        if receipts < count - sum(r["errors"] for r in results):
            sys.exit(f"{count - receipts} receipts missing")
    finally:
        for proc in procs_to_stop:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
