"""The command blocks of README.md and docs/*.md, read for test_docs.py, and the bash scripts that run them.

A fenced block tagged sh, bash, shell or console (or untagged, with `$ ` lines) is a command block and runs by
default. An HTML comment right above the fence changes that; it is visible in the markdown and greppable:

    <!-- docs-test: skip (why it cannot run here) -->   not run; the reason is required and reported
    <!-- docs-test: synopsis -->                        usage lines: each `petrel …` line's command must exist and
                                                         know every --flag the line shows (checked with --help)
    <!-- docs-test: alone -->                           runs in a scratch directory of its own (not the file's)
    <!-- docs-test: replace OLD NEW -->                 OLD becomes NEW before it runs (shell words; NEW may name
                                                         $DOCS_POSTGRES, a fresh database on the suite's PostgreSQL,
                                                         or $DOCS_MASTER_KEY)
    <!-- docs-test: skip-line PREFIX (why) -->          lines starting with PREFIX are not run
    <!-- docs-test: fails PREFIX -->                    commands starting with PREFIX must exit non-zero (a
                                                         refusal the doc shows); their output is still checked

A ```python block runs with the test's Python (the official SDKs installed) after the blocks above it, with `AK`
and `SECRET` set to the access key `serve` was given; `<!-- docs-test: expect TEXT -->` asks for TEXT in its output.
A ```yaml block is a config file: `petrel config check` must accept it. `<!-- docs-test: with-previous -->` checks
it appended to the file's yaml block before it (an example that names a channel the one above defines).

Several directives may share one comment, one a line. In a console block, `$ ` lines are commands and the lines
after one are output the command must print (`…` stands for anything: each piece between must appear).
"""
import re
import shlex
from dataclasses import dataclass, field

SHELL_TAGS = {"sh", "bash", "shell", "console"}
CONFIG_TAGS = {"yaml", "yml"}
PYTHON_TAGS = {"python", "py"}
PYTHON_PRELUDE = 'import os; AK, SECRET = os.environ["PETREL_ACCESS_KEY_ID"], os.environ["PETREL_ACCESS_KEY_SECRET"]'
FENCE = re.compile(r"^(\s*)(```+|~~~+)\s*([\w+-]*)")
DIRECTIVE = re.compile(r"<!--\s*docs-test:(.*?)-->", re.S)
LONG_RUNNING = {"serve": "http", "smsc": "port"}


@dataclass
class Block:
    file: str                  # path relative to the repository
    line: int                  # line of the opening fence
    tag: str
    lines: list                # (line number, text) of the block's body
    mode: str = "run"          # run | skip | synopsis
    reason: str = ""
    alone: bool = False
    replacements: list = field(default_factory=list)
    skip_lines: list = field(default_factory=list)   # (prefix, reason)
    with_previous: bool = False
    expect: list = field(default_factory=list)
    fails: list = field(default_factory=list)        # prefixes of commands that must exit non-zero
    errors: list = field(default_factory=list)

    @property
    def is_config(self):
        return self.tag in CONFIG_TAGS

    @property
    def text(self):
        return "\n".join(line for _, line in self.lines) + "\n"

    @property
    def where(self):
        return f"{self.file}:{self.line}"


def read_blocks(repo):
    """Every command block of README.md and docs/*.md, in order, with the directives written above it."""
    blocks = []
    for path in [repo / "README.md", *sorted((repo / "docs").glob("*.md"))]:
        blocks += blocks_of(path.read_text(encoding="utf-8"), str(path.relative_to(repo)))
    return blocks


def blocks_of(text, name):
    lines = text.split("\n")
    blocks, i = [], 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, tag, start = m.group(2), m.group(3).lower(), i
        body, i = [], i + 1
        while i < len(lines) and not lines[i].strip().startswith(fence):
            body.append((i + 1, lines[i]))
            i += 1
        i += 1
        is_commands = tag in SHELL_TAGS or (tag == "" and any(t.startswith("$ ") for _, t in body))
        if is_commands or tag in CONFIG_TAGS or tag in PYTHON_TAGS:
            block = Block(name, start + 1, tag or "console", body)
            apply_directives(block, directives_above(lines, start))
            blocks.append(block)
    return blocks


def directives_above(lines, fence_index):
    """The docs-test comments between the fence and the text above it (blank lines allowed)."""
    j = fence_index - 1
    while j >= 0 and lines[j].strip() == "":
        j -= 1
    end = j
    while j >= 0 and "<!--" not in lines[j] and lines[j].strip() != "":
        j -= 1
    if j < 0 or "-->" not in lines[end]:
        return []
    text = "\n".join(lines[j:end + 1])
    return [d.strip() for m in DIRECTIVE.finditer(text) for d in m.group(1).split("\n") if d.strip()]


def apply_directives(block, directives):
    for d in directives:
        word, _, rest = d.partition(" ")
        rest = rest.strip()
        reason = rest[1:-1].strip() if rest.startswith("(") and rest.endswith(")") else ""
        if word == "skip":
            block.mode, block.reason = "skip", reason
            if not reason:
                block.errors.append("`skip` needs a reason in parentheses")
        elif word == "synopsis":
            block.mode = "synopsis"
        elif word == "fails" and rest:
            block.fails.append(rest)
        elif word == "expect" and rest:
            block.expect.append(rest)
        elif word == "with-previous":
            block.with_previous = True
        elif word == "alone":
            block.alone = True
        elif word == "replace":
            parts = shlex.split(rest)
            if len(parts) != 2:
                block.errors.append(f"`replace` takes OLD and NEW: {d}")
            else:
                block.replacements.append(tuple(parts))
        elif word == "skip-line":
            prefix, _, why = rest.partition(" (")
            if not why.endswith(")") or not prefix:
                block.errors.append(f"`skip-line` takes a PREFIX and a (reason): {d}")
            else:
                block.skip_lines.append((prefix, why[:-1]))
        else:
            block.errors.append(f"unknown docs-test directive: {d}")


@dataclass
class Command:
    line: int
    text: str          # as the doc shows it (continuations and heredocs joined)
    expected: list     # output lines a console block shows after it


def commands_of(block):
    """The block's commands: `\\` continuations joined, heredocs kept whole; console output collected."""
    commands, rows, i = [], block.lines, 0
    console = block.tag == "console"
    while i < len(rows):
        number, text = rows[i]
        i += 1
        if console:
            if not text.startswith("$ "):
                if commands and text.strip():
                    commands[-1].expected.append(text.strip())
                continue
            text = text[2:]
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        while text.endswith("\\") and i < len(rows):
            text = text + "\n" + rows[i][1]
            i += 1
        heredoc = re.search(r"<<-?\s*['\"]?(\w+)['\"]?", text)
        if heredoc:
            while i < len(rows):
                text += "\n" + rows[i][1]
                i += 1
                if rows[i - 1][1].strip() == heredoc.group(1):
                    break
        commands.append(Command(number, text, []))
    return commands


def rewrite(text, block, ports):
    """What runs instead of the doc's text: the block's replacements, `swift run … petrel` as the built binary
    (the suite builds debug; README shows a release run), and every documented address on a free local port (the
    doc's 8080 and 2775 may be taken on a shared machine; 0.0.0.0 becomes 127.0.0.1 so a test listens on no
    public address)."""
    for old, new in block.replacements:
        text = text.replace(old, new)
    text = re.sub(r"\bswift run(?: -c \w+)? (petrel(?:-bench)?)\b", r"\1", text)
    return re.sub(r"\b(?:127\.0\.0\.1|0\.0\.0\.0|localhost):(\d{2,5})\b",
                  lambda m: f"127.0.0.1:{ports(int(m.group(1)))}", text)


def long_running(text, ports):
    """(kind, address) when the command is `petrel serve` or `petrel smsc`, which run until stopped."""
    words = text.split("#", 1)[0].split()
    if len(words) < 2 or words[0] != "petrel" or words[1] not in LONG_RUNNING:
        return None
    listen = words[words.index("--listen") + 1] if "--listen" in words[:-1] else None
    return LONG_RUNNING[words[1]], listen or f"127.0.0.1:{ports(8080)}"


PRELUDE = r"""set -Eeo pipefail
DOCS_PIDS=()
docs_fail() { echo "docs-test: $DOCS_AT: failed (exit $1): $DOCS_CMD" >&2; }
trap 'docs_fail $?' ERR
docs_stop() {
    for p in "${DOCS_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${DOCS_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap docs_stop EXIT
docs_wait() {  # KIND ADDRESS PID LOG: until the server answers (GET /healthz, or a TCP connect)
    for _ in $(seq 1 600); do
        if ! kill -0 "$3" 2>/dev/null; then
            echo "docs-test: $DOCS_AT: exited before it answered: $DOCS_CMD" >&2; cat "$4" >&2; return 1
        fi
        if [ "$1" = http ]; then curl -fsS -o /dev/null "http://$2/healthz" 2>/dev/null && return 0
        else (exec 3<>"/dev/tcp/${2%:*}/${2##*:}") 2>/dev/null && return 0; fi
        sleep 0.1
    done
    echo "docs-test: $DOCS_AT: did not answer on $2 within 60 s: $DOCS_CMD" >&2; cat "$4" >&2; return 1
}
docs_expect() {  # OUTPUT-FILE PIECE…: each piece of the output the doc shows must be in the file
    local out=$1; shift
    for piece in "$@"; do
        grep -qF -- "$piece" "$out" && continue
        echo "docs-test: $DOCS_AT: the output lacks \"$piece\", which the doc shows: $DOCS_CMD" >&2; return 1
    done
}
"""


def script_for(blocks, ports, logs):
    """One bash script that runs the blocks in order in one shell (a file's blocks read as one session): a
    failure names the doc's file, line and command; servers started by a block run until the script ends."""
    out = [PRELUDE, f"DOCS_LOGS={shlex.quote(str(logs))}"]
    for block in blocks:
        if block.tag in PYTHON_TAGS:
            out += python_step(block, ports)
            continue
        for c in commands_of(block):
            shown = c.text.split("\n", 1)[0]
            out.append(f"DOCS_AT={shlex.quote(f'{block.file}:{c.line}')}; DOCS_CMD={shlex.quote(shown)}")
            out += command_step(c, block, ports)
        out.append(f"echo 'docs-test: done {block.where}'")
    return "\n".join(out) + "\n"


def command_step(c, block, ports):
    skipped = [why for prefix, why in block.skip_lines if c.text.lstrip().startswith(prefix)]
    if skipped:
        return [f'echo "docs-test: $DOCS_AT: not run ({skipped[0]}): $DOCS_CMD"']
    text = rewrite(c.text, block, ports)
    server = long_running(text, ports)
    if server:
        kind, address = server
        text = re.sub(r"\s+#[^'\"]*$", "", text)   # the doc's comment, which would swallow the redirection
        if "--listen" not in text.split():
            text = text.replace(" serve", f" serve --listen {address}", 1)
        log = f'"$DOCS_LOGS/{c.line}.log"'
        return [f"{text} > {log} 2>&1 &", f"DOCS_PIDS+=($!); docs_wait {kind} {address} $! {log}"]
    refused = any(c.text.lstrip().startswith(f) for f in block.fails)
    if not c.expected and not refused:
        return [text]
    pieces = [p.strip() for e in c.expected for p in re.split(r"…|\.\.\.", e) if p.strip()]
    captured = f'{{ {text}\n}} > "$DOCS_LOGS/out" 2>&1'
    if refused:
        run = (captured + ' && { cat "$DOCS_LOGS/out"; echo "docs-test: $DOCS_AT: exited 0, but the doc shows it '
               'refused: $DOCS_CMD" >&2; exit 1; } || true')
    else:
        run = captured + ' || { docs_rc=$?; cat "$DOCS_LOGS/out"; docs_fail $docs_rc; exit $docs_rc; }'
    return [run, 'cat "$DOCS_LOGS/out"', 'docs_expect "$DOCS_LOGS/out" ' + " ".join(map(shlex.quote, pieces))]


def python_step(block, ports):
    source = PYTHON_PRELUDE + "\n" + rewrite(block.text, block, ports)
    return [f"DOCS_AT={shlex.quote(block.where)}; DOCS_CMD='the python block'",
            f"\"$DOCS_PYTHON\" - > \"$DOCS_LOGS/out\" 2>&1 <<'DOCS_PYTHON_END' || "
            '{ docs_rc=$?; cat "$DOCS_LOGS/out"; docs_fail $docs_rc; exit $docs_rc; }',
            source + "DOCS_PYTHON_END",
            'cat "$DOCS_LOGS/out"',
            'docs_expect "$DOCS_LOGS/out" ' + " ".join(shlex.quote(e) for e in block.expect),
            f"echo 'docs-test: done {block.where}'"]


def synopsis_of(block):
    """(line, binary, command words, flags) for each command a synopsis line names: `petrel keys list [--json] |
    disable ID` names `keys list` with --json and `keys disable`."""
    found = []
    for number, text in block.lines:
        text = re.sub(r"\s+#\s.*$", "", text).strip()
        if not text:
            continue
        alternatives = split_outside_brackets(text, " | ")
        binary, path = alternatives[0].split()[0], command_words(alternatives[0].split()[1:])
        found.append((number, binary, path, flags(alternatives[0])))
        for alt in alternatives[1:]:
            found.append((number, binary, path[:-1] + command_words(alt.split()), flags(alt)))
    return found


def split_outside_brackets(text, separator):
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += {"[": 1, "]": -1}.get(ch, 0)
        if depth == 0 and text.startswith(separator, i):
            parts.append(text[start:i])
            start = i + len(separator)
    return parts + [text[start:]]


def command_words(words):
    taken = []
    for w in words:
        if not re.fullmatch(r"[a-z][a-z-]*", w):
            break
        taken.append(w)
    return taken


def flags(text):
    return re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", text)
