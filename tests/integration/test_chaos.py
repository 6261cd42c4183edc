"""A short crash run (tests/integration/chaos.py runs the long one)."""
from chaos import check, run


def test_kill9_under_load_loses_nothing(tmp_path):
    result = run(rounds=3, work=tmp_path)
    print(result)
    check(result)
