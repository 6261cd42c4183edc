"""Petrel's SMPP server end to end, driven by a third-party ESME stack (PyPI smpplib, as the tests use):
submit_sm (registered_delivery 1) -> durable accept -> the sandbox carrier (numbers 85291234000-099, none of its slow or failing ones) -> a deliver_sm receipt back to the ESME.

    bench/smpp-server.py [--petrel .build/release/petrel] [--messages 20000] [--esmes 4] [--window 100]

Starts `petrel serve` on a fresh data directory with `smppServer` and the sandbox as the carrier, adds one SMPP user,
then runs --esmes processes, each binding one transceiver and submitting its share of short GSM messages with at most
--window unanswered. Prints submits/s (first submit to last submit_sm_resp), receipts/s (first submit to the last
receipt) and the CPU of the server and of the ESMEs. The ESMEs are Python: one smpplib process tops out near 3,000
submits/s on this machine kind, so the server's own ceiling needs several (the CPU line shows who was busy).
Needs smpplib (`pip install smpplib==2.2.4`, or the test venv: .test-work/venv/bin/python bench/smpp-server.py).
"""
import argparse
import json
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import smpplib.client
import smpplib.exceptions
import smpplib.consts as C
import smpplib.gsm


def esme(port, count, window, index, out, total, expected):
    """One bind. Receipts go to any bind of the account, not only the one that submitted: every ESME reads until
    all of them together have `expected` (the shared `total`)."""
    c = smpplib.client.Client("127.0.0.1", port, timeout=60, allow_unknown_opt_params=True)
    c.connect()
    c.bind_transceiver(system_id="bench", password="benchpw")
    answered, receipts = [0], [0]
    last_answer, last_receipt = [0.0], [0.0]

    def sent(pdu):
        answered[0] += 1
        last_answer[0] = time.time()

    def received(pdu):
        receipts[0] += 1
        last_receipt[0] = time.time()
        with total.get_lock():
            total.value += 1

    errors = [0]

    statuses = {}

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
    start = time.time()
    for i in range(count):
        c.send_message(source_addr_ton=C.SMPP_TON_ALNUM, source_addr="Petrel", dest_addr_ton=C.SMPP_TON_INTL,
                       destination_addr="852912340%02d" % (i % 100), short_message=parts[0],
                       data_coding=coding, esm_class=esm, registered_delivery=1)
        while i + 1 - answered[0] > window:
            c.read_once()
    deadline = time.time() + 300
    c._socket.settimeout(0.2)
    while (answered[0] < count or total.value < expected.value) and time.time() < deadline:
        try:
            c.read_once()
        except (TimeoutError, OSError, smpplib.exceptions.ConnectionError):
            continue
    out.put(dict(start=start, answered=answered[0], receipts=receipts[0], last_answer=last_answer[0],
                 last_receipt=last_receipt[0], errors=errors[0], statuses=statuses, cpu=sum(os.times()[:2])))
    try:
        c.unbind()
    finally:
        c.disconnect()


def cpu_of(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--petrel", default=".build/release/petrel")
    p.add_argument("--messages", type=int, default=20000)
    p.add_argument("--esmes", type=int, default=4)
    p.add_argument("--window", type=int, default=100)
    a = p.parse_args()
    work = tempfile.mkdtemp(prefix="petrel-smppbench-")
    config = os.path.join(work, "petrel.yaml")
    with open(config, "w") as f:
        json.dump({"logLevel": "warning", "sandbox": {"deliveryDelayMs": 100},
                   "smppServer": {"listen": "127.0.0.1:0", "window": 2 * a.window}}, f)
    data = os.path.join(work, "data")
    env = {**os.environ, "PETREL_MASTER_KEY": "ab" * 32}
    server = subprocess.Popen([a.petrel, "serve", "--data-dir", data, "--config", config, "--listen", "127.0.0.1:0"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        port = None
        deadline = time.time() + 60
        while port is None and time.time() < deadline:
            line = server.stdout.readline()
            if not line:
                break
            m = re.match(r"SMPP server listening on [\d.]+:(\d+)", line)
            port = int(m.group(1)) if m else None
        if port is None:
            sys.exit("the server did not start its SMPP server")
        subprocess.run([a.petrel, "smpp-users", "add", "bench", "--password", "benchpw", "--account", "default",
                        "--data-dir", data], check=True, env=env, capture_output=True)
        share = a.messages // a.esmes
        out = multiprocessing.Queue()
        total = multiprocessing.Value("i", 0)
        expected = multiprocessing.Value("i", share * a.esmes)
        cpu0 = cpu_of(server.pid)
        t0 = time.time()
        procs = [multiprocessing.Process(target=esme, args=(port, share, a.window, i, out, total, expected)) for i in range(a.esmes)]
        for proc in procs:
            proc.start()
        results = [out.get(timeout=600) for _ in procs]
        for proc in procs:
            proc.join()
        server_cpu = cpu_of(server.pid) - cpu0
        start = min(r["start"] for r in results)
        total = share * a.esmes
        answered = sum(r["answered"] for r in results)
        receipts = sum(r["receipts"] for r in results)
        submit_s = max(r["last_answer"] for r in results) - start
        receipt_s = max(r["last_receipt"] for r in results) - start
        elapsed = time.time() - t0
        print(f"smpp-server  {total} messages, {a.esmes} ESMEs (smpplib), window {a.window}: "
              f"{answered} submit_sm_resp in {submit_s:.2f} s ({answered / submit_s:.0f}/s), "
              f"{receipts} receipts in {receipt_s:.2f} s ({receipts / receipt_s:.0f}/s end to end)  "
              f"refused {sum(r['errors'] for r in results)} {[r['statuses'] for r in results if r['statuses']]}  cpu server {server_cpu / elapsed:.2f} esmes {sum(r['cpu'] for r in results) / elapsed:.2f}")
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
