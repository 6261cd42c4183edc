"""SIGHUP reloads `limits:` from the config file without a restart; an invalid file keeps the limits in force."""
import json
import signal
from pathlib import Path

from conftest import FAST_SANDBOX, HK, wait_for
from test_console import sign_in
from test_send_limits import single

HK2 = "85291234568"


def config(otp_day):
    return dict(FAST_SANDBOX, limits={"perNumber": {"OTP": {"day": otp_day}}})


def test_sighup_reloads_the_limits_and_an_invalid_file_keeps_the_old_ones(make_server):
    s = make_server(config(1))
    path = Path(s.data_dir + ".yaml")
    c = s.client()
    assert single(c, HK).response_code == "OK"
    assert single(c, HK).response_code == "isv.BUSINESS_LIMIT_DAY"

    path.write_text(json.dumps(config(3)))
    s.proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: any("limits reloaded from" in line for line in s.output), timeout=10), "".join(s.output)
    assert single(c, HK).response_code == "OK"
    assert single(c, HK).response_code == "OK"
    refused = single(c, HK)
    assert refused.response_code == "isv.BUSINESS_LIMIT_DAY" and "the limit is 3" in refused.response_description
    session, _ = sign_in(s)
    assert "<tr><td>OTP</td><td><span class=\"muted\">–</span></td><td><span class=\"muted\">–</span></td><td>3</td></tr>" \
        in session.get(s.url("/console/limits"), timeout=10).text

    path.write_text(json.dumps(config(0)))
    s.proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: any("limits in force are kept" in line for line in s.output), timeout=10)
    errors = [line for line in s.output if "limits in force are kept" in line]
    assert len(errors) == 1 and "limits.perNumber.OTP.day" in errors[0], errors
    # Still 3 a day, not 0 (refused at startup) nor the first file's 1.
    assert [single(c, HK2).response_code for _ in range(4)] == ["OK", "OK", "OK", "isv.BUSINESS_LIMIT_DAY"]
    assert s.proc.poll() is None


def test_sighup_without_a_config_file_says_so_and_the_server_keeps_running(make_server):
    s = make_server(None)
    s.proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: any("started without --config" in line for line in s.output), timeout=10)
    assert s.proc.poll() is None and single(s.client(), HK).response_code == "OK"
