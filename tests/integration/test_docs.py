"""README.md and docs/*.md are true: every command block they show runs here, against the built `petrel`.

The convention (docblocks.py says it in full): a fenced sh/bash/shell/console block runs by default, in document
order, the blocks of one file in one shell and one scratch directory, with the built binaries first on PATH as
`petrel` and `petrel-bench`. `petrel serve` and `petrel smsc` start in the background, the next command waits until
they answer, and they are stopped when the file's blocks end. A block that cannot run here says why, in the
markdown, with `<!-- docs-test: skip (reason) -->`; a usage synopsis is checked against `--help` instead.
"""
import os
import secrets
import signal
import socket
import subprocess
import sys
import uuid

import pytest

import docblocks
from conftest import PETREL, REPO

BLOCKS = docblocks.read_blocks(REPO)
POSTGRES = os.environ.get("PETREL_TEST_POSTGRES")


def groups():
    """The blocks that run, by the shell they run in: one per file, and one per `alone` block."""
    found = {}
    for b in BLOCKS:
        if b.mode == "run" and not b.errors and not b.is_config:
            found.setdefault(b.where + " (alone)" if b.alone else b.file, []).append(b)
    return found


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def bin_dir(tmp_path):
    """`petrel` and `petrel-bench`, the debug builds the suite uses (README shows `swift run -c release petrel`:
    the same program; the suite does not spend a release build on it)."""
    d = tmp_path / "bin"
    d.mkdir()
    for name in ("petrel", "petrel-bench"):
        (d / name).symlink_to(os.path.join(os.path.dirname(PETREL), name))
    return d


def built(path):
    assert os.access(path, os.X_OK), f"{path.resolve()} is not built (swift build --build-tests builds it)"
    return str(path)


def test_every_command_block_is_run_or_says_why_not():
    assert BLOCKS, "no command blocks found: the reader of README.md is broken"
    errors = [f"{b.where}: {e}" for b in BLOCKS for e in b.errors]
    assert errors == []
    ran = [b for blocks in groups().values() for b in blocks]
    unmarked = [b for b in BLOCKS if b.mode == "run" and not b.is_config]
    # Every unmarked block runs exactly once (groups order them by session, not by file position).
    assert sorted(b.where for b in ran) == sorted(b.where for b in unmarked)
    skipped = [f"{b.where}: {b.reason}" for b in BLOCKS if b.mode == "skip"]
    skipped += [f"{b.where}: lines starting {p!r}: {why}" for b in BLOCKS for p, why in b.skip_lines]
    print(f"{len(ran)} blocks run, {sum(b.mode == 'synopsis' for b in BLOCKS)} synopses and {len(CONFIGS)} configs"
          " checked, not run:")
    print("\n".join(skipped))


@pytest.mark.parametrize("group", sorted(groups()))
def test_command_blocks_run(group, tmp_path, bin_dir):
    blocks = groups()[group]
    code, output = run_blocks(blocks, tmp_path, bin_dir)
    print(output)
    assert code == 0, f"{group}: a documented command failed:\n{output[-4000:]}"
    done = [b.where for b in blocks if f"docs-test: done {b.where}" in output]
    assert done == [b.where for b in blocks]


def test_a_mistyped_or_unexplained_directive_is_an_error():
    doc = "<!-- docs-test: skipp (typo) -->\n```sh\ntrue\n```\n\n<!-- docs-test: skip -->\n```sh\ntrue\n```\n"
    typo, bare = docblocks.blocks_of(doc, "x.md")
    assert typo.errors == ["unknown docs-test directive: skipp (typo)"] and typo.mode == "run"
    assert bare.errors == ["`skip` needs a reason in parentheses"]


def test_a_failing_block_names_its_file_line_and_command(tmp_path, bin_dir):
    doc = "Intro\n\n```sh\npetrel smsc --listen 127.0.0.1:2775\npetrel config check missing.yaml\n```\n"
    code, output = run_blocks(docblocks.blocks_of(doc, "x.md"), tmp_path, bin_dir)
    assert code != 0
    assert "docs-test: x.md:5: failed (exit 1): petrel config check missing.yaml" in output
    assert "docs-test: done" not in output


def test_console_output_the_doc_shows_is_checked(tmp_path, bin_dir):
    (tmp_path / "scratch").mkdir()
    (tmp_path / "scratch" / "c.yaml").write_text("listen: 127.0.0.1:9\n")
    good = "```console\n$ petrel config check c.yaml\nc.yaml: OK (listen 127.0.0.1:9, … 0 account(s))\n```\n"
    code, output = run_blocks(docblocks.blocks_of(good, "good.md"), tmp_path, bin_dir)
    assert code == 0, output
    bad = good.replace("OK", "FINE")
    code, output = run_blocks(docblocks.blocks_of(bad, "bad.md"), tmp_path, bin_dir)
    assert code != 0
    assert 'docs-test: bad.md:2: the output lacks "c.yaml: FINE (listen 127.0.0.1:9,"' in output


def test_a_refusal_the_doc_shows_must_happen(tmp_path, bin_dir):
    doc = "<!-- docs-test: fails petrel config check -->\n```console\n$ petrel config check {}\n{}\n```\n"
    (tmp_path / "scratch").mkdir()
    (tmp_path / "scratch" / "bad.yaml").write_text("nope: 1\n")
    (tmp_path / "scratch" / "good.yaml").write_text("listen: 127.0.0.1:9\n")
    refused = doc.format("bad.yaml", "unknown config key nope")
    code, output = run_blocks(docblocks.blocks_of(refused, "a.md"), tmp_path, bin_dir)
    assert code == 0, output
    accepted = doc.format("good.yaml", "")
    code, output = run_blocks(docblocks.blocks_of(accepted, "b.md"), tmp_path, bin_dir)
    assert code != 0
    assert "docs-test: b.md:3: exited 0, but the doc shows it refused: petrel config check good.yaml" in output


def run_blocks(blocks, tmp_path, bin_dir):
    """Runs the blocks as one bash script in tmp_path/scratch; (exit code, output)."""
    built(bin_dir / "petrel")
    scratch, logs = tmp_path / "scratch", tmp_path / "logs"
    scratch.mkdir(exist_ok=True)
    logs.mkdir(exist_ok=True)
    mapped = {}

    def ports(documented):
        return mapped.setdefault(documented, free_port())

    env = {k: v for k, v in os.environ.items() if not k.startswith("PETREL_")}
    env.update({
        "PATH": f"{bin_dir}:{env.get('PATH', '')}",
        # What `serve` makes sure exists, so that a block may use the key (curl -u, SDK, campaign send).
        "PETREL_ACCESS_KEY_ID": "docsAccessKeyId",
        "PETREL_ACCESS_KEY_SECRET": "docsAccessKeySecret0123",
        "DOCS_MASTER_KEY": secrets.token_hex(32),
        "DOCS_PYTHON": sys.executable,
    })
    database = None
    if any("$DOCS_POSTGRES" in new for b in blocks for _, new in b.replacements):
        if not POSTGRES:
            pytest.fail("PETREL_TEST_POSTGRES is not set: run scripts/test.sh, which starts a PostgreSQL server")
        database = "petrel_docs_" + uuid.uuid4().hex[:8]
        psql(f"CREATE DATABASE {database}")
        env["DOCS_POSTGRES"] = POSTGRES.rsplit("/", 1)[0] + "/" + database
    script = logs / "script.sh"
    script.write_text(docblocks.script_for(blocks, ports, logs))
    proc = subprocess.Popen(["bash", str(script)], cwd=scratch, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        output, _ = proc.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        output, _ = proc.communicate()
        output += "\ndocs-test: the blocks did not finish within 300 s"
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # anything a block left running
        except ProcessLookupError:
            pass
        if database:
            psql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
    return proc.returncode, f"(script: {script})\n{output}"


SYNOPSES = [(b.where, line, binary, path, flags) for b in BLOCKS if b.mode == "synopsis"
            for line, binary, path, flags in docblocks.synopsis_of(b)]


@pytest.mark.parametrize("where,line,binary,path,flags", SYNOPSES,
                         ids=[f"{s[0].split(':')[0]}:{s[1]} {s[2]} {' '.join(s[3])}" for s in SYNOPSES])
def test_synopsis_lines_name_real_commands_and_flags(where, line, binary, path, flags, bin_dir):
    r = subprocess.run([built(bin_dir / binary), *path, "--help"], capture_output=True, text=True, timeout=60)
    help_text = r.stdout + r.stderr
    usage = " ".join([binary, *path])
    assert r.returncode == 0 and f"USAGE: {usage}" in help_text, \
        f"{where.split(':')[0]}:{line}: `{usage}` is not a command:\n{help_text}"
    missing = [f for f in flags if f not in help_text]
    assert missing == [], f"{where.split(':')[0]}:{line}: `{usage} --help` does not know {missing}"


def psql(sql):
    subprocess.run(["psql", POSTGRES, "-tA", "-c", sql], capture_output=True, text=True, timeout=60, check=True)


CONFIGS = [b for b in BLOCKS if b.is_config and b.mode == "run"]


@pytest.mark.parametrize("block", CONFIGS, ids=[b.where for b in CONFIGS])
def test_config_examples_pass_config_check(block, tmp_path, bin_dir):
    text = block.text
    if block.with_previous:
        before = [b for b in BLOCKS if b.file == block.file and b.is_config and b.line < block.line]
        assert before, f"{block.where}: with-previous, but no yaml block before it"
        text = before[-1].text + text
    path = tmp_path / "example.yaml"
    path.write_text(text)
    r = subprocess.run([built(bin_dir / "petrel"), "config", "check", str(path)], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, f"{block.where}: petrel config check refuses the example: {r.stdout}{r.stderr}"
