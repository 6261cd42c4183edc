"""dysmsapi 2017-05-25's SmsUpExtendCode (SendSms) and SmsUpExtendCodeJson (SendBatchSms), through the unchanged
4.6.0 SDK on SQLite and PostgreSQL: kept with each message, and pushed as SmsUp's dest_code with the reply that
answers it (the reply's account is the one that last sent to the phone, as for every inbound message)."""
import json

import requests
from alibabacloud_dysmsapi20170525 import models as m17

from conftest import FAST_SANDBOX, wait_for
from receiver import Receiver
from test_api_2017 import client17, send_sms, start, store_env  # noqa: F401 (store_env: fixture)

SECRET = "extend-code-secret-0123"


def test_a_reply_is_pushed_with_the_extend_code_of_the_message_it_answers(make_server, store_env):
    r = Receiver(secret=SECRET).start()
    try:
        config = {**FAST_SANDBOX, "sandbox": {**FAST_SANDBOX["sandbox"], "retrospection": "open"},
                  "receipts": {"maxWaitMs": 100, "pollMs": 50},
                  "accounts": [{"name": "default", "moUrl": r.url, "webhookSecret": SECRET}]}
        s = start(make_server, store_env, config=config)
        c = client17(s)
        bad = send_sms(c, "13800138000", sms_up_extend_code="12a")
        assert bad.code == "isv.INVALID_PARAMETERS" and "SmsUpExtendCode" in bad.message, bad.to_map()
        assert send_sms(c, "13800138000", sms_up_extend_code="90999").code == "OK"
        batch = c.send_batch_sms(m17.SendBatchSmsRequest(
            phone_number_json=json.dumps(["13900139000", "85291234567"]), sign_name_json='["Petrel","Petrel"]',
            template_code="SMS_1", template_param_json='[{"code":"1"},{"code":"2"}]',
            sms_up_extend_code_json='["7","8"]')).body
        assert batch.code == "OK", batch.to_map()
        short = c.send_batch_sms(m17.SendBatchSmsRequest(
            phone_number_json='["13900139000","85291234567"]', sign_name_json='["Petrel","Petrel"]',
            template_code="SMS_1", template_param_json='[{"code":"1"},{"code":"2"}]', sms_up_extend_code_json='["7"]'))
        assert short.body.code == "isv.INVALID_JSON_PARAM", short.body.to_map()
        for phone in ("8613800138000", "8613900139000", "85291234567"):
            wait_for(lambda: requests.get(s.url("/sandbox/messages"), params={"to": phone}, timeout=5).json()["Messages"])
            answer = requests.post(s.url("/sandbox/inbound"), timeout=10,
                                   json={"From": phone, "To": "106900001", "Text": "reply " + phone})
            assert answer.status_code == 200, answer.text
        # A phone no one sent to: the number it wrote to, as before.
        requests.post(s.url("/sandbox/inbound"), timeout=10, json={"From": "85291230009", "To": "106900001", "Text": "hi"})
        wait_for(lambda: len(r.reports()) >= 4, timeout=20)
        got = {u["phone_number"]: u["dest_code"] for u in r.reports()}
        assert got == {"8613800138000": "90999", "8613900139000": "7", "85291234567": "8", "85291230009": "106900001"}
    finally:
        r.stop()
