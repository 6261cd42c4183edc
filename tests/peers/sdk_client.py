#!/usr/bin/env python3
"""The official Alibaba Cloud SDK (alibabacloud-dysmsapi20180501) against a Dysmsapi 2018-05-01 endpoint.

usage: sdk_client.py HOST:PORT ACCESS_KEY_ID ACCESS_KEY_SECRET [--algo v3|v2] [--to N1,N2,...]

Calls BatchSendMessageToGlobe (to every --to number), SendMessageToGlobe (to the first), QueryMessage (the message
just sent), and SendMessageToGlobe signed with a wrong secret. Prints each result as JSON, then
{"checks": {...}, "all_passed": true|false}; exits 0 when the first three answered ResponseCode OK and the last
was refused with a signature error."""
import argparse
import json
import sys

from alibabacloud_dysmsapi20180501 import models
from alibabacloud_dysmsapi20180501.client import Client
from alibabacloud_tea_openapi import models as openapi

SIGNATURE_ERRORS = {"SignatureDoesNotMatch", "IncompleteSignature", "InvalidAccessKeySecret"}


def client(endpoint, key_id, secret, algo):
    config = openapi.Config(access_key_id=key_id, access_key_secret=secret, endpoint=endpoint, protocol="http",
                            region_id="ap-southeast-1", read_timeout=10000, connect_timeout=5000)
    if algo == "v2":
        config.signature_algorithm = "v2"   # the SDK's name for the RPC V1 HMAC-SHA1 signature
    return Client(config)


def call(name, action):
    """Runs one SDK call; returns (answered OK, a JSON-able record of what came back)."""
    try:
        response = action()
        body = response.body.to_map() if response.body is not None else {}
        record = {"call": name, "status": response.status_code, "body": body}
        ok = response.status_code == 200 and body.get("ResponseCode") == "OK"
    except Exception as e:                  # the SDK raises for every error answer; the code is what we check
        record = {"call": name, "exception": type(e).__name__, "code": getattr(e, "code", None),
                  "message": str(getattr(e, "message", e))}
        ok = False
    print(json.dumps(record, ensure_ascii=False), flush=True)
    return ok, record


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("endpoint")
    p.add_argument("access_key_id")
    p.add_argument("access_key_secret")
    p.add_argument("--algo", choices=("v3", "v2"), default="v3")
    p.add_argument("--to", default="85291234567,6581234567")
    a = p.parse_args()
    to = [n.strip() for n in a.to.split(",") if n.strip()]
    good = client(a.endpoint, a.access_key_id, a.access_key_secret, a.algo)
    wrong = client(a.endpoint, a.access_key_id, a.access_key_secret + "-wrong", a.algo)

    checks = {}
    checks["BatchSendMessageToGlobe"], _ = call("BatchSendMessageToGlobe", lambda: good.batch_send_message_to_globe(
        models.BatchSendMessageToGlobeRequest(
            to=json.dumps(to), message=json.dumps([f"Batch message {i + 1} to {n}" for i, n in enumerate(to)]),
            from_="Alicloud321", type="NOTIFY", task_id="sdk-client-batch")))
    checks["SendMessageToGlobe"], sent = call("SendMessageToGlobe", lambda: good.send_message_to_globe(
        models.SendMessageToGlobeRequest(to=to[0], message="Your code is 123456", from_="Alicloud321", type="OTP",
                                         task_id="sdk-client-single")))
    message_id = sent.get("body", {}).get("MessageId") or "0"
    checks["QueryMessage"], _ = call("QueryMessage", lambda: good.query_message(
        models.QueryMessageRequest(message_id=message_id)))
    _, refused = call("WrongSecret", lambda: wrong.send_message_to_globe(
        models.SendMessageToGlobeRequest(to=to[0], message="must be refused")))
    checks["WrongSecret"] = refused.get("code") in SIGNATURE_ERRORS

    print(json.dumps({"checks": checks, "all_passed": all(checks.values())}))
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
