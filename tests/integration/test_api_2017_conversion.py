"""dysmsapi 2017-05-25's SmsConversionIntl and ConversionDataIntl through the unchanged 4.6.0 SDK, on SQLite and
PostgreSQL: the records 2018-05-01's SmsConversion and ConversionData keep, answered in `{Code, Message}`."""
import sqlite3
import subprocess

import pytest
from alibabacloud_dysmsapi20170525 import models as m17
from alibabacloud_dysmsapi20180501 import models as m18
from alibabacloud_tea_openapi.exceptions import ClientException

from test_api_2017 import MAINLAND, client17, send_sms, server, store_env  # noqa: F401 (fixtures)


def rows(server, store_env, sql):
    """The rows of `sql` on either store, as text: booleans 1/0, NULL empty."""
    url = store_env.get("PETREL_STORE")
    if url:
        r = subprocess.run(["psql", url, "-tA", "-F", "|", "-c", sql], capture_output=True, text=True, timeout=60,
                           check=True)
        found = [line.split("|") for line in r.stdout.split()]
        return [tuple({"t": "1", "f": "0"}.get(v, v) for v in row) for row in found]
    with sqlite3.connect(f"file:{server.data_dir}/petrel.sqlite?mode=ro", uri=True, timeout=10) as db:
        return [tuple("" if v is None else str(v) for v in row) for row in db.execute(sql)]


@pytest.mark.parametrize("algo", ["v3", "v2"])
def test_conversions_are_recorded_as_2018s(server, store_env, algo):
    c = client17(server, algo)
    sent = send_sms(c, MAINLAND)
    first = sent.biz_id.split("^")[0]
    by_biz = c.sms_conversion_intl(m17.SmsConversionIntlRequest(message_id=sent.biz_id, delivered=True,
                                                                conversion_time=1349055900000)).body
    assert (by_biz.code, by_biz.message) == ("OK", "OK"), by_biz.to_map()
    assert c.sms_conversion_intl(m17.SmsConversionIntlRequest(message_id=first, delivered=False)).body.code == "OK"
    # A 2018-05-01 message's id is as good (one store).
    m = server.client().send_message_to_globe(m18.SendMessageToGlobeRequest(to="85291234567", message="hi")).body
    assert c.sms_conversion_intl(m17.SmsConversionIntlRequest(message_id=m.message_id, delivered=True)).body.code == "OK"
    unknown = c.sms_conversion_intl(m17.SmsConversionIntlRequest(message_id="42^0", delivered=True)).body
    assert unknown.code == "isv.INVALID_PARAMETERS" and "42" in unknown.message, unknown.to_map()
    with pytest.raises(ClientException) as e:
        c.sms_conversion_intl(m17.SmsConversionIntlRequest(message_id=first))
    assert e.value.code == "MissingDelivered"
    assert rows(server, store_env, "SELECT message_id, recipient, delivered, conversion_time FROM conversions "
                                   "ORDER BY received_at, message_id") == [
        (first, "8613800138000", "1", "1349055900000"), (first, "8613800138000", "0", ""),
        (m.message_id, "85291234567", "1", "")]

    ok = c.conversion_data_intl(m17.ConversionDataIntlRequest(conversion_rate="0.53", report_time=1349055900000))
    assert (ok.body.code, ok.body.message) == ("OK", "OK"), ok.body.to_map()
    for bad in (m17.ConversionDataIntlRequest(conversion_rate="1.2"),
                m17.ConversionDataIntlRequest(conversion_rate="0.5", report_time=-1)):
        assert c.conversion_data_intl(bad).body.code == "isv.INVALID_PARAMETERS"
    assert rows(server, store_env, "SELECT rate, report_time FROM conversion_data") == [("0.53", "1349055900000")]
