#!/usr/bin/env python3
"""Writes the signature vectors the Swift tests check (Tests/PetrelAPITests/SignatureVectorTests.swift):
requests signed by the official SDKs at the versions pinned in tests/requirements-sdk.txt, as they came over the
wire, each with the intermediate strings of its signature.

    .test-work/venv/bin/python tests/vectors/generate.py        # rewrites tests/vectors/vectors_*.json

The SDKs send to a capturing HTTP server on 127.0.0.1:PORT (18080; --port: the port is in the Host header, so a
different one gives different vectors). Their clock, nonce and User-Agent are pinned, so the output is the same on
every run. Each signature is then worked out again from the captured bytes with hashlib and hmac alone, and the
script stops if that disagrees with what the SDK sent."""
import argparse
import base64
import hashlib
import hmac
import http.server
import json
import threading
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlsplit

KEY_ID, SECRET = "vectorKeyId0001", "vectorKeySecret0123456789"
DATE, NONCE = "2026-03-14T15:09:26Z", "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
TEXT = "Code 4821, valid 5' (~*!) Ünïcødé 中文 +&=%"
TO = json.dumps(["85291234567", "6581234567", "8613800138000"])
TEXTS = json.dumps(["Hi 1", "a&b=c 2", "€ ~*'() 中 3"], ensure_ascii=False)


class Capture(http.server.BaseHTTPRequestHandler):
    """Records each request as sent and answers like Dysmsapi, so the SDKs take the call as done."""
    captured = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        Capture.captured.append({"method": self.command, "target": self.path,
                                 "headers": [[k, v] for k, v in self.headers.items()], "body": body})
        answer = b'{"RequestId":"vectors","ResponseCode":"OK","ResponseDescription":"OK"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    do_GET = do_POST

    def log_message(self, *args):
        pass


def rfc3986(s):
    return quote(s, safe="~")


def v3(request):
    """ACS3-HMAC-SHA256 from the request's bytes."""
    headers = request["headers"]
    authorization = next(v for k, v in headers if k.lower() == "authorization")
    algorithm, fields = authorization.split(" ", 1)
    fields = dict(f.split("=", 1) for f in fields.split(","))
    signed = fields["SignedHeaders"].split(";")
    target = urlsplit(request["target"])
    query = sorted((rfc3986(k), rfc3986(v)) for k, v in parse_qsl(target.query, keep_blank_values=True))
    values = {}
    for k, v in headers:
        values.setdefault(k.lower(), []).append(v.strip())
    payload = hashlib.sha256(request["body"].encode()).hexdigest()
    canonical = "\n".join([
        request["method"], target.path or "/", "&".join(f"{k}={v}" for k, v in query),
        "".join(f"{h}:{','.join(values[h])}\n" for h in signed), ";".join(signed), payload])
    string_to_sign = f"{algorithm}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    signature = hmac.new(SECRET.encode(), string_to_sign.encode(), hashlib.sha256).hexdigest()
    assert signature == fields["Signature"], f"V3 signature disagrees for {request['target']}"
    assert payload == next(v for k, v in headers if k.lower() == "x-acs-content-sha256")
    return {"credential": fields["Credential"], "payload_sha256": payload, "canonical_request": canonical,
            "string_to_sign": string_to_sign, "computed_signature": signature}


def v1(request):
    """RPC HMAC-SHA1 from the request's bytes: query parameters, and form body parameters when there is one."""
    target = urlsplit(request["target"])
    params = parse_qsl(target.query, keep_blank_values=True)
    content_type = next((v for k, v in request["headers"] if k.lower() == "content-type"), "")
    if content_type.startswith("application/x-www-form-urlencoded"):
        params += parse_qsl(request["body"], keep_blank_values=True)
    sent = dict(params).pop("Signature")
    canonical = "&".join(f"{k}={v}" for k, v in sorted((rfc3986(k), rfc3986(v)) for k, v in params
                                                     if k != "Signature"))
    string_to_sign = f"{request['method']}&{rfc3986('/')}&{rfc3986(canonical)}"
    digest = hmac.new((SECRET + "&").encode(), string_to_sign.encode(), hashlib.sha1).digest()
    signature = base64.b64encode(digest).decode()
    assert signature == sent, f"V1 signature disagrees for {request['target']}"
    return {"canonicalized_query_string": canonical, "string_to_sign": string_to_sign, "wire_signature": sent}


def official(endpoint):
    """alibabacloud-dysmsapi20180501: V3 by default, V1 with signature_algorithm "v2"."""
    from alibabacloud_tea_openapi.utils import Utils
    Utils.get_timestamp = staticmethod(lambda: DATE)
    Utils.get_nonce = staticmethod(lambda: NONCE)
    Utils.get_user_agent = staticmethod(lambda *_: "AlibabaCloud (vectors) TeaDSL/2")
    from alibabacloud_dysmsapi20180501 import models
    from alibabacloud_dysmsapi20180501.client import Client
    from alibabacloud_tea_openapi import models as openapi

    def client(algo=None):
        config = openapi.Config(access_key_id=KEY_ID, access_key_secret=SECRET, endpoint=endpoint, protocol="http",
                                region_id="ap-southeast-1")
        if algo:
            config.signature_algorithm = algo
        return Client(config)

    v3c, v1c = client(), client("v2")
    single = models.SendMessageToGlobeRequest(to="85291234567", message=TEXT, from_="Petrel", type="OTP")
    batch = models.BatchSendMessageToGlobeRequest(to=TO, message=TEXTS, from_="Petrel", type="MKT", task_id="t-1")
    return [
        ("v3 SendMessageToGlobe", v3, lambda: v3c.send_message_to_globe(single)),
        ("v3 BatchSendMessageToGlobe", v3, lambda: v3c.batch_send_message_to_globe(batch)),
        ("v3 QueryMessage", v3, lambda: v3c.query_message(models.QueryMessageRequest(message_id="100200300*"))),
        ("v3 ConversionData (form body)", v3, lambda: v3c.conversion_data(
            models.ConversionDataRequest(conversion_rate="0.25", report_time=1773500966000))),
        ("v1 official SDK SendMessageToGlobe", v1, lambda: v1c.send_message_to_globe(single)),
        ("v1 official SDK BatchSendMessageToGlobe", v1, lambda: v1c.batch_send_message_to_globe(batch)),
    ]


def legacy(endpoint):
    """aliyun-python-sdk-core's CommonRequest: V1, parameters in the query or in a form body."""
    import aliyunsdkcore.utils.parameter_helper as helper
    helper.get_iso_8061_date = lambda: DATE
    helper.get_uuid = lambda: NONCE
    from aliyunsdkcore.client import AcsClient
    from aliyunsdkcore.request import CommonRequest
    AcsClient.user_agent_header = staticmethod(lambda: "AlibabaCloud (vectors)")
    AcsClient.default_user_agent = staticmethod(lambda: {"Python": "3", "Core": "2.16.1"})
    host, port = endpoint.split(":")
    client = AcsClient(KEY_ID, SECRET, "ap-southeast-1", port=int(port))

    def request(action, query, form):
        r = CommonRequest(domain=host, version="2018-05-01", action_name=action)
        r.set_method("POST")
        r.set_protocol_type("http")
        r.set_accept_format("json")
        for k, v in query.items():
            r.add_query_param(k, v)
        for k, v in form.items():
            r.add_body_params(k, v)
        return lambda: client.do_action_with_exception(r)

    single = {"To": "85291234567", "Message": TEXT, "From": "Petrel", "Type": "OTP"}
    batch = {"To": TO, "Message": TEXTS, "From": "Petrel", "Type": "NOTIFY"}
    return [
        ("v1 legacy SDK SendMessageToGlobe (query)", v1, request("SendMessageToGlobe", single, {})),
        ("v1 legacy SDK BatchSendMessageToGlobe (form body)", v1, request("BatchSendMessageToGlobe", {}, batch)),
    ]


def vectors(calls):
    out = []
    for name, check, call in calls:
        call()
        request = Capture.captured[-1]
        out.append({"name": name, "secret": SECRET, "request": request, "signature": check(request)})
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, default=18080)
    p.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    a = p.parse_args()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", a.port), Capture)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint = f"127.0.0.1:{a.port}"
    for name, calls in (("official", official(endpoint)), ("legacy", legacy(endpoint))):
        path = a.out / f"vectors_{name}.json"
        path.write_text(json.dumps(vectors(calls), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"{path}: {len(calls)} vectors")
    server.shutdown()


if __name__ == "__main__":
    main()
