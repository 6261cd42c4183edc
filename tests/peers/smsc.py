#!/usr/bin/env python3
"""A third-party SMSC for the integration tests: PyPI's `smpp34` (SMPP 3.4 in a Rust core) answers submit_sm and
sends delivery receipts. smpp34 takes any bind and cannot cut a connection, so a small TCP front on --port checks the
first PDU's credentials and pipes the rest to smpp34 on --backend-port; it can also drop every connection (a fault).

Prints "SMSC (smpp34 VERSION) on 127.0.0.1:PORT" when ready, rewrites --summary (JSON counters) every second and on
SIGTERM. Receipts: text `id:… stat:DELIVRD|UNDELIV …` plus the receipted_message_id and message_state TLVs, sent to
the submitting session, or to another bind when that one is gone (every bind has the one system_id).

Mobile-originated messages: with --control-port, each line `{"deliver": [PDU, …]}` sent there (PDU: `from`, `to`,
`hex` the short_message bytes, optional `esm_class`, `data_coding`, `tlvs` as [[tag, hex], …]) is sent as deliver_sm,
one after the other, each after the previous one's answer, to a bound receiver; the reply line is the list of
command_status values (or the text of what went wrong)."""
import argparse
import asyncio
import json
import os
import random
import signal
import struct
import time

import smpp34

BINDS = {0x01, 0x02, 0x09}                  # bind_receiver, bind_transmitter, bind_transceiver
RINVPASWD, RINVSYSID = 0x0E, 0x0F
STATE_DELIVERED, STATE_UNDELIVERABLE = 2, 5
RECEIPT_WINDOW = 64                         # deliver_sm awaiting their answer at once


def options():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, default=2775, help="where ESMEs connect")
    p.add_argument("--backend-port", type=int, default=0, help="smpp34's own port (default: --port + 10000)")
    p.add_argument("--system-id", default="petrel", help="system_id a bind must present")
    p.add_argument("--password", default="secret", help="password a bind must present")
    p.add_argument("--summary", default="smsc-summary.json", help="JSON counters, rewritten every second")
    p.add_argument("--dlr-delay", type=float, default=0.5, help="seconds from submit_sm to its receipt")
    p.add_argument("--dlr-fail-every", type=int, default=0, help="every Nth receipt says UNDELIV")
    p.add_argument("--throttle-every", type=int, default=0, help="every Nth submit_sm gets ESME_RTHROTTLED")
    p.add_argument("--drop-after", type=int, default=0, help="at the Nth submit_sm, cut every connection")
    p.add_argument("--control-port", type=int, default=0, help="where to take mobile-originated deliver_sm to send")
    a = p.parse_args()
    a.backend_port = a.backend_port or a.port + 10000
    return a


class SMSC:
    def __init__(self, a):
        self.a = a
        self.counts = dict(binds=0, bind_rejected=0, unbinds=0, submit_sm=0, accepted=0, throttled=0, drops=0,
                           concat_parts=0, concat_messages=0, dlr_queued=0, dlr_acked=0, dlr_nacked=0, dlr_failed=0,
                           mo_sent=0, mo_acked=0)
        self.sessions = {}                  # session_id -> smpp34.Esme, while bound
        self.connections = set()            # (client transport, backend transport) pairs the front pipes
        self.first_id = random.randrange(10**9, 2 * 10**9)
        self.receipt_window = asyncio.Semaphore(RECEIPT_WINDOW)

    # The front: check the bind, then pipe bytes both ways.

    async def front(self, reader, writer):
        try:
            head = await reader.readexactly(16)
            length, command, _, sequence = struct.unpack(">IIII", head)
            if not 16 <= length <= 4096:
                return writer.close()
            body = await reader.readexactly(length - 16)
        except (asyncio.IncompleteReadError, ConnectionError):
            return writer.close()
        if command not in BINDS:
            return writer.close()           # smpp34 would take a bind after it unchecked
        if status := self.refusal(body):
            self.counts["bind_rejected"] += 1
            # The refusal is the header alone: no body after an error status.
            writer.write(struct.pack(">IIII", 16, command | 0x80000000, status, sequence))
            await writer.drain()
            return writer.close()
        backend_reader, backend_writer = await asyncio.open_connection("127.0.0.1", self.a.backend_port)
        backend_writer.write(head + body)
        pair = (writer.transport, backend_writer.transport)
        self.connections.add(pair)
        try:
            await asyncio.gather(pipe(reader, backend_writer), pipe(backend_reader, writer))
        finally:
            self.connections.discard(pair)

    def refusal(self, body):
        fields = body.split(b"\0", 2)
        if len(fields) < 3:
            return RINVSYSID
        system_id, password = fields[0].decode("latin-1"), fields[1].decode("latin-1")
        if system_id != self.a.system_id:
            return RINVSYSID
        return RINVPASWD if password != self.a.password else 0

    def drop_all(self):
        self.counts["drops"] += 1
        for pair in list(self.connections):
            for transport in pair:
                transport.abort()

    # submit_sm: answer it, count long-message parts, schedule the receipt.

    def submit(self, ev):
        n = self.counts["submit_sm"] = self.counts["submit_sm"] + 1
        if n == self.a.drop_after:
            return self.drop_all()          # this submit_sm is never answered
        if self.a.throttle_every and n % self.a.throttle_every == 0:
            self.counts["throttled"] += 1
            return ev.reject(smpp34.ESME_RTHROTTLED)
        message_id = str(self.first_id + n)
        ev.accept(message_id)
        self.counts["accepted"] += 1
        text = ev.short_message or b""
        total, number = concatenation(text) if ev.esm_class & 0x40 and text else (None, None)
        if total is not None:
            self.counts["concat_parts"] += 1
            self.counts["concat_messages"] += int(number == total)   # the last part ends a message
        if ev.registered_delivery & 0x03:
            self.counts["dlr_queued"] += 1
            every = self.a.dlr_fail_every
            failed = every > 0 and self.counts["dlr_queued"] % every == 0
            asyncio.get_running_loop().create_task(self.receipt(ev, message_id, failed))

    async def receipt(self, ev, message_id, failed):
        await asyncio.sleep(self.a.dlr_delay)
        stamp = time.strftime("%y%m%d%H%M")
        stat, err, state = ("UNDELIV", "001", STATE_UNDELIVERABLE) if failed else ("DELIVRD", "000", STATE_DELIVERED)
        text = (f"id:{message_id} sub:001 dlvr:{'000' if failed else '001'} submit date:{stamp} "
                f"done date:{stamp} stat:{stat} err:{err} text:").encode()
        tlvs = [smpp34.Tlv(smpp34.TLV_RECEIPTED_MESSAGE_ID, message_id.encode() + b"\0"),
                smpp34.Tlv(smpp34.TLV_MESSAGE_STATE, bytes([state]))]
        async with self.receipt_window:
            session = await self.receiver(ev.session_id)
            try:
                if session is None:
                    raise ConnectionError("no session to take the receipt")
                answer = await asyncio.wait_for(session.deliver_sm(
                    ev.source_addr, text, source_addr=ev.destination_addr, esm_class=0x04,
                    source_addr_ton=ev.dest_addr_ton, source_addr_npi=ev.dest_addr_npi,
                    dest_addr_ton=ev.source_addr_ton, dest_addr_npi=ev.source_addr_npi, tlvs=tlvs), 10)
                self.counts["dlr_acked" if answer.is_success else "dlr_nacked"] += 1
            except Exception:               # the session went away: this receipt is lost, as a carrier may lose one
                self.counts["dlr_failed"] += 1

    async def receiver(self, session_id, wait=5.0):
        deadline = time.monotonic() + wait
        while True:
            session = self.sessions.get(session_id)
            if not (session and session.can_receive):
                session = next((s for s in self.sessions.values() if s.can_receive), None)
            if session or time.monotonic() > deadline:
                return session
            await asyncio.sleep(0.2)

    # Mobile-originated messages, from the control port.

    async def control(self, reader, writer):
        while line := await reader.readline():
            try:
                answers = [await self.originate(pdu) for pdu in json.loads(line)["deliver"]]
            except Exception as e:          # said back to the test, which fails with it
                answers = f"{type(e).__name__}: {e}"
            writer.write(json.dumps(answers).encode() + b"\n")
            await writer.drain()
        writer.close()

    async def originate(self, pdu):
        session = await self.receiver(None)
        if session is None:
            return "no bound receiver"
        tlvs = [smpp34.Tlv(tag, bytes.fromhex(value)) for tag, value in pdu.get("tlvs", [])]
        self.counts["mo_sent"] += 1
        answer = await asyncio.wait_for(session.deliver_sm(
            pdu["to"], bytes.fromhex(pdu["hex"]), source_addr=pdu["from"], source_addr_ton=1, source_addr_npi=1,
            dest_addr_ton=1, dest_addr_npi=1, esm_class=pdu.get("esm_class", 0), data_coding=pdu.get("data_coding", 0),
            tlvs=tlvs), 10)
        self.counts["mo_acked"] += int(answer.is_success)
        return answer.command_status

    # Events from smpp34, the summary, the main loop.

    async def events(self, server):
        while True:
            ev = await server.next()
            if isinstance(ev, smpp34.SubmitSmEvent):
                self.submit(ev)
            elif isinstance(ev, smpp34.Esme):
                self.sessions[ev.session_id] = ev
                self.counts["binds"] += 1
            elif isinstance(ev, smpp34.Unbound):
                self.sessions.pop(ev.session_id, None)
                self.counts["unbinds"] += 1

    def write_summary(self):
        path = self.a.summary
        with open(path + ".tmp", "w") as f:
            json.dump(dict(self.counts, sessions=len(self.sessions)), f, indent=1)
        os.replace(path + ".tmp", path)

    async def run(self):
        server = smpp34.Server(host="127.0.0.1", port=self.a.backend_port)
        await server.start()
        await asyncio.start_server(self.front, "127.0.0.1", self.a.port)
        if self.a.control_port:
            await asyncio.start_server(self.control, "127.0.0.1", self.a.control_port)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        events = loop.create_task(self.events(server))
        print(f"SMSC (smpp34 {smpp34.__version__}) on 127.0.0.1:{self.a.port}", flush=True)
        while not stop.is_set():
            self.write_summary()
            try:
                await asyncio.wait_for(stop.wait(), 1)
            except asyncio.TimeoutError:
                pass
        events.cancel()
        self.write_summary()
        print("SMSC counts: " + json.dumps(self.counts), flush=True)
        os._exit(0)                         # smpp34 would wait on sessions still bound


async def pipe(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


def concatenation(text):
    """(total parts, this part's number) from a user data header's concatenation element (8- or 16-bit reference)."""
    end, i = 1 + text[0], 1
    while i + 1 < end and i + 1 < len(text):
        element, size = text[i], text[i + 1]
        if element in (0x00, 0x08) and i + 2 + size <= len(text):
            return text[i + 1 + size - 1], text[i + 1 + size]
        i += 2 + size
    return None, None


if __name__ == "__main__":
    asyncio.run(SMSC(options()).run())
