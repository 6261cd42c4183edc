"""The test suite runs on a clone with nothing beside it (README's test command): nothing it runs reads ../shared."""
from conftest import REPO

OUTSIDE = ("../shared", "PETREL_SHARED", "parent / \"shared\"", "appendingPathComponent(\"shared\")")


def test_nothing_the_tests_run_reaches_outside_the_clone():
    files = [REPO / "scripts" / "test.sh", REPO / ".ci" / "run"]
    files += [p for p in (REPO / "tests").rglob("*") if p.suffix in (".py", ".sh", ".txt")]
    files += list((REPO / "Tests").rglob("*.swift"))
    me = __file__
    found = [f"{p.relative_to(REPO)}: {word}" for p in files if str(p) != me
             for word in OUTSIDE if word in p.read_text(encoding="utf-8")]
    assert found == []


def test_the_peers_and_vectors_the_tests_use_are_in_the_repository():
    for name in ("peers/smsc.py", "peers/esme_client.py", "peers/sdk_client.py", "vectors/vectors_official.json",
                 "vectors/vectors_legacy.json", "requirements-sdk.txt"):
        assert (REPO / "tests" / name).is_file(), name
