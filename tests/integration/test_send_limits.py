"""`limits:` through the official SDK: per-number limits and countries refused with Alibaba's codes, counts that
survive kill -9, and exact limits across two nodes of a shared PostgreSQL store."""
import json
import subprocess
from concurrent.futures import ThreadPoolExecutor

from alibabacloud_dysmsapi20180501 import models as m

import requests

from conftest import FAST_SANDBOX, HK, PETREL, SG, wait_for
from test_shared_store import database, node, psql  # noqa: F401  (the fixture is used by name)

LIMITS = {"perNumber": {"OTP": {"minute": 1, "day": 3}, "*": {"day": 5}}, "countries": {"deny": ["SG"]}}


def single(client, to, text="code 1234", type_="OTP"):
    return client.send_message_to_globe(m.SendMessageToGlobeRequest(to=to, message=text, type=type_)).body


def test_per_number_limits_and_countries_through_the_sdk_survive_kill9(make_server, tmp_path):
    s = make_server(dict(FAST_SANDBOX, limits=LIMITS), data_dir=tmp_path / "data")
    c = s.client()
    assert single(c, HK).response_code == "OK"
    refused = single(c, HK)
    assert refused.response_code == "BUSINESS_LIMIT_CONTROL_MINUTE", refused
    assert "the limit is 1" in refused.response_description and refused.message_id is None
    country = single(c, SG)
    assert country.response_code == "isv.NOT_SUPPORTED_COUNTRY" and "(SG)" in country.response_description

    # A batch (NOTIFY): "*" allows 5 a day to HK, one is used; the SG recipient is refused by its country.
    to = [HK, SG, HK, HK, HK, HK, "85291234568"]
    r = c.batch_send_message_to_globe(m.BatchSendMessageToGlobeRequest(
        to=json.dumps(to), message=json.dumps([f"t{i}" for i in range(len(to))]), type="NOTIFY")).body
    assert r.response_code == "OK" and r.success_count == "5", r
    assert json.loads(r.failed_list) == [SG, HK]
    assert len(json.loads(r.message_id_list)) == 5

    # kill -9 and a restart: the counts are in the store, written with the accepts.
    s.kill9()
    s.start()
    c = s.client()
    r = c.batch_send_message_to_globe(m.BatchSendMessageToGlobeRequest(
        to=json.dumps([HK, SG]), message=json.dumps(["a", "b"]), type="NOTIFY")).body
    assert r.response_code == "isv.BUSINESS_LIMIT_DAY" and r.success_count == "0", r
    assert json.loads(r.failed_list) == [HK, SG]
    # Another number has its own count (the one it received in the batch).
    assert single(c, "85291234568").response_code == "OK"


def test_twenty_concurrent_otps_through_two_nodes_accept_exactly_the_day_limit(tmp_path, database):  # noqa: F811
    config = {"dispatcher": {"pollMs": 50}, "limits": {"perNumber": {"OTP": {"day": 10}}}}
    a = node(tmp_path, "a", database, config)
    b = node(tmp_path, "b", database, config)
    try:
        clients = [a.client(), b.client()]
        with ThreadPoolExecutor(max_workers=20) as pool:
            codes = list(pool.map(lambda i: single(clients[i % 2], HK, f"code {i}").response_code, range(20)))
        assert codes.count("OK") == 10 and codes.count("isv.BUSINESS_LIMIT_DAY") == 10, codes
        assert psql(database, f"SELECT COUNT(*) FROM messages WHERE recipient = '{HK}'") == [["10"]]
    finally:
        a.stop()
        b.stop()


def test_caps_count_parts_refuse_with_out_of_service_and_survive_kill9(make_server, tmp_path):
    caps = [{"account": "default", "day": 4, "warnAt": 0.5}, {"account": "default", "country": "SG", "hour": 1}]
    config = dict(FAST_SANDBOX, accounts=[{"name": "default"}], limits={"caps": caps})
    s = make_server(config, data_dir=tmp_path / "data")
    c = s.client()
    # 200 GSM characters are two parts: twice is the day's cap of 4.
    assert single(c, HK, "a" * 200, "NOTIFY").response_code == "OK"
    r = c.batch_send_message_to_globe(m.BatchSendMessageToGlobeRequest(
        to=json.dumps([SG, SG]), message=json.dumps(["x", "y"]), type="NOTIFY")).body
    assert r.response_code == "OK" and r.success_count == "1" and json.loads(r.failed_list) == [SG], r
    s.kill9()
    s.start()
    c = s.client()
    assert single(c, HK, "b", "NOTIFY").response_code == "OK"
    refused = single(c, HK, "c", "NOTIFY")
    assert refused.response_code == "OUT_OF_SERVICE", refused
    assert "cap of 4 parts per calendar day" in refused.response_description and refused.message_id is None

    # On /metrics (sampled every 5 s) and in the log, once.
    reached = 'petrel_cap_reached{account="default",country="all",window="day"} 1'
    assert wait_for(lambda: reached in requests.get(s.url("/metrics"), timeout=5).text, timeout=20)
    text = requests.get(s.url("/metrics"), timeout=5).text
    assert 'petrel_cap_used_ratio{account="default",country="SG",window="hour"} 1' in text, text
    assert single(c, HK, "d", "NOTIFY").response_code == "OUT_OF_SERVICE"
    log = "".join(s.output)
    assert log.count("account default reached its cap of 4 parts this day") == 1, log

    # The counters from the store while the server runs; lift says a cap is no halt.
    shown = json.loads(s.cli("limits", "show", "--json").stdout)
    counted = {(r["account"], r["country"], r["window"]): r["parts"] for r in shown["caps"]}
    assert counted == {("default", "all", "day"): 4, ("default", "SG", "hour"): 1}, shown
    assert shown["halts"] == []
    assert "default\tall\tday\t" in s.cli("limits", "show", "--account", "default").stdout
    lift = s.cli("limits", "lift", "--account", "default").stdout
    assert "Nothing to lift for account default" in lift and "day all 4 parts until" in lift, lift
    assert "no account nobody" in s.cli("limits", "show", "--account", "nobody", check=False).stderr
    missing = subprocess.run([PETREL, "limits", "show", "--data-dir", str(tmp_path / "nothing-here")],
                             capture_output=True, text=True, timeout=60)
    assert missing.returncode != 0 and "nothing-here" in missing.stderr, missing
