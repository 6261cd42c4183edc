"""A hand-written V3 / V1 signer (hashlib only), to send requests the SDK cannot: replays, stale dates."""
import base64
import hashlib
import hmac
import uuid
from datetime import datetime, timezone
from urllib.parse import quote, urlencode

import requests


def pct(s):
    return quote(str(s), safe="~")


def v3_request(endpoint, ak, sk, action, params, date=None, nonce=None, body=b"", version="2018-05-01"):
    date = date or datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    nonce = nonce or uuid.uuid4().hex
    headers = {
        "host": endpoint,
        "x-acs-action": action,
        "x-acs-version": version,
        "x-acs-date": date,
        "x-acs-signature-nonce": nonce,
        "x-acs-content-sha256": hashlib.sha256(body).hexdigest(),
        "accept": "application/json",
    }
    if body:
        headers["content-type"] = "application/x-www-form-urlencoded"
    canonical_query = "&".join(f"{pct(k)}={pct(v)}" for k, v in sorted(params.items()))
    names = sorted(headers)
    canonical_headers = "".join(f"{n}:{headers[n].strip()}\n" for n in names)
    canonical = "\n".join(["POST", "/", canonical_query, canonical_headers, ";".join(names), headers["x-acs-content-sha256"]])
    sts = "ACS3-HMAC-SHA256\n" + hashlib.sha256(canonical.encode()).hexdigest()
    sig = hmac.new(sk.encode(), sts.encode(), hashlib.sha256).hexdigest()
    headers["Authorization"] = f"ACS3-HMAC-SHA256 Credential={ak},SignedHeaders={';'.join(names)},Signature={sig}"
    return {"url": f"http://{endpoint}/?{urlencode(params)}", "headers": headers, "data": body}


def send(prepared):
    return requests.post(prepared["url"], headers=prepared["headers"], data=prepared["data"], timeout=10)
