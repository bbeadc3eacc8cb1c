"""Every command the docs give works as written (issue 16: the first hour of a new user).

Every shell code block (```bash / sh / shell / console) of ``README.md``, ``DEVELOPING.md``,
``docs/*.md`` and ``docker/*.md`` is read command by command, as a user would type it:

- the program exists: a ``./vm`` subcommand, a workspace tool (on PATH after ``. scripts/env.sh``,
  which is run for real to see that it does put them there), ``./vm run PKG EXE`` / ``ros2 run``
  (the executable is installed), ``./vm launch`` / ``ros2 launch`` (the graph and launch file exist),
  ``torchrun`` (the script exists);
- every ``--option`` is in the program's ``--help``, a value is one of its listed choices, every
  ``name:=value`` is an argument of the graph (booleans ``true``/``false``);
- every path is in the repository (or the build), or an output: written by an earlier command of
  the doc, or under ``runs/`` (where outputs go) or ``data/`` (the user's training data);
  ``<clip>`` and ``/path/...`` are placeholders;
- the cheap ones run for real and must exit 0 (``--help``, ``--show-args``, ``--print``, ``./vm
  help``, ``. scripts/env.sh``, and a simulated deploy graph resolved with ``--print``). The
  expensive ones (``./vm demo``, ``./vm test``, a real robot, the operator's actions that wait for a
  running bridge) are checked by parse only: what runs them is named in ``EXPENSIVE``;
- the training commands (GPU-scale as documented) are parsed here and, in the slow
  ``test_documented_training_commands_run_one_iteration``, run as written in a temp folder with the
  tool's own flags of ``ONE_ITERATION`` appended (one iteration, two envs, CPU), each stage on the
  previous one's output, on the sample data ``make_mocap --sample-clip`` writes.

A block the checker cannot read carries ``<!-- not-checked: why -->`` on the line before its fence;
an unmarked block it cannot check fails. Inline commands (`./vm demo --video ...`) are checked the
same way for programs and options (their metasyntax ``VIDEO``, ``[--x]``, ``a|b`` allowed), not run.
"""

from __future__ import annotations

import functools
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))
import catalog  # noqa: E402

DOCS = [REPO / "README.md", REPO / "DEVELOPING.md", *sorted((REPO / "docs").glob("*.md")),
        *sorted((REPO / "docker").glob("*.md"))]  # fmt: skip
SHELL_LANGS = {"bash", "sh", "shell", "console", "zsh"}
SKIP_MARK = re.compile(r"<!--\s*not-checked:(.*?)-->")
FENCE = re.compile(r"^(\s*)(```+|~~~+)\s*([\w+-]*)")
VM_SUBS = {c for group in re.findall(r"^\s*([\w|-]+)\)", (REPO / "vm").read_text(), re.M) for c in group.split("|")}
PACKAGES = ("videomimic_offline", "videomimic_nodes", "videomimic")

#: Where documented outputs and user data go: a path under these need not exist in a fresh clone.
OUTPUT_ROOTS = {
    "runs/": "outputs: `./vm demo` writes runs/main, the recorder runs/bags",
    "data/": "the user's training data (docs/training.md 'Data'; `make_mocap --out data/mocap` writes one)",
}
#: Options whose value is a path the command writes.
OUTPUT_OPTIONS = {"--out", "--png"}
PLACEHOLDER = re.compile(r"<[^>]+>|^/path/|^[A-Z][A-Z_]*/?$|^\.\.\.$")
PATHLIKE = re.compile(r"/|\.(npz|onnx|pt|json|png|mp4|yaml|xml|sh|py|ply|csv|bvh|md)$")
#: What runs the commands this test only parses.
EXPENSIVE = {
    "demo": "tests/integration/test_main_job.py (the whole job, minutes)",
    "test": ".ci/run",
    "training": "test_documented_training_commands_run_one_iteration (slow) runs them: one iteration on the CPU",
    "torchrun": "several GPUs: parse only (tests/training/test_pipeline.py runs the stages on one CPU process)",
    "launch": "a real robot graph (livox driver, DDS on the robot's network): parse only; sim graphs run with --print",
    "vm_operator": "tests/deploy/test_operator.py (each action waits for a running bridge)",
}
TRAINING_TOOLS = {"train_mpt", "train_teacher", "distill_student", "finetune_student", "export_student",
                  "eval_policy", "sim2sim", "plot_training", "torchrun"}  # fmt: skip
#: Appended to a documented training command to shrink it to one iteration on two envs on the CPU:
#: flags of the tool's own command line (the last of a repeated flag wins), checked against its --help.
_STAGE = ["--device", "cpu", "--num-envs", "2", "--iterations", "1", "--steps-per-env", "8", "--no-progress"]
ONE_ITERATION = {
    "train_mpt": [*_STAGE, "--terrain", "flat"],
    "train_teacher": _STAGE,
    "distill_student": _STAGE,
    "finetune_student": _STAGE,
    "export_student": [],
    "eval_policy": ["--device", "cpu", "--no-progress"],
    "sim2sim": ["--seconds", "0.5", "--no-progress"],
    "plot_training": [],
}
#: The clip ``make_mocap --out data --sample-clip`` writes (``data/clips/<clip>/`` in the docs).
SAMPLE_CLIP = "stepclip"


def _env() -> dict[str, str]:
    return {**os.environ, "VM_SETUP_DONE": "1", "COLUMNS": "200"}  # setup itself is run by .ci/run


def _run(cmd: list[str], timeout: float = 120, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=cwd, env=_env())


@functools.cache
def help_of(*cmd: str) -> str:
    """``cmd --help`` (stdout and stderr); raises if it fails."""
    res = _run([*cmd, "--help"])
    if res.returncode != 0:
        raise RuntimeError(f"`{' '.join(cmd)} --help` exit {res.returncode}: {res.stderr[-500:]}")
    return res.stdout + res.stderr


@functools.cache
def launch_args(graph: str) -> dict[str, str]:
    """{argument: default} of a graph, from ``./vm launch GRAPH --show-args``."""
    res = _run([str(REPO / "vm"), "launch", graph, "--show-args"])
    assert res.returncode == 0, res.stderr
    return dict(re.findall(r"^\s*(\w+):='([^']*)'", res.stdout, re.M))


def has_option(text: str, opt: str) -> bool:
    return re.search(r"(?<![\w-])" + re.escape(opt) + r"(?![\w-])", text) is not None


def metavar(text: str, opt: str) -> str | None:
    """What ``opt`` takes according to its help (``PATH``, ``{a,b}``), or None for a flag."""
    for m in re.finditer(r"(?<![\w-])" + re.escape(opt) + r"(?:[ =](\[?\{[^}]*\}[^\s,\]]*|[^\s,\]]+))?", text):
        mv = m.group(1)
        if mv and re.match(r"^(\[?\{|[A-Z][A-Z0-9_.|-]*$)", mv):
            return mv
    return None


def choices(mv: str) -> list[str] | None:
    m = re.match(r"^\[?\{([^}]*)\}$", mv)
    return m.group(1).split(",") if m else None


@dataclass(frozen=True)
class Block:
    doc: str
    line: int
    text: str
    skip: str | None  #: the reason of a ``<!-- not-checked: ... -->`` marker, or None

    def __str__(self) -> str:
        return f"{self.doc}:{self.line}"


def fenced_blocks(text: str, doc: str) -> list[tuple[str, Block]]:
    """(language, block) of every fenced code block."""
    lines = text.splitlines()
    out, i = [], 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence, lang = m.groups()
        j = i + 1
        while j < len(lines) and not lines[j].strip().startswith(fence):
            j += 1
        body = [ln[len(indent) :] if ln.startswith(indent) else ln.lstrip() for ln in lines[i + 1 : j]]
        before = next((ln for ln in reversed(lines[:i]) if ln.strip()), "")
        mark = SKIP_MARK.search(before)
        out.append((lang.lower(), Block(doc, i + 1, "\n".join(body), mark.group(1).strip() if mark else None)))
        i = j + 1
    return out


def shell_blocks(doc: Path) -> list[Block]:
    name = str(doc.relative_to(REPO)) if doc.is_relative_to(REPO) else doc.name
    return [b for lang, b in fenced_blocks(doc.read_text(), name) if lang in SHELL_LANGS]


def commands(text: str, first_line: int = 1) -> list[tuple[int, list[str]]]:
    """(line, argv) of each command: continuation lines joined, comments dropped, split at ; && || |."""
    out: list[tuple[int, list[str]]] = []
    pending, start = "", 0
    for n, raw in enumerate(text.splitlines(), first_line + 1):
        if not pending:
            start = n
        if raw.rstrip().endswith("\\"):
            pending += raw.rstrip()[:-1] + " "
            continue
        toks = shlex.split(pending + raw, comments=True)
        pending = ""
        cur: list[str] = []
        for t in [*toks, ";"]:
            if t in {";", "&&", "||", "|"}:
                if cur:
                    out.append((start, cur))
                cur = []
            else:
                cur.append(t)
    return out


@dataclass
class Checker:
    """Checks commands in order, keeping what a user's shell would keep (variables, a sourced env)."""

    inline: bool = False  #: an inline span: metasyntax allowed, no paths checked, nothing run
    vars: dict[str, str] = field(default_factory=dict)
    env_sourced: bool = False
    outputs: list[str] = field(default_factory=list)
    bare_tools: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)
    ran: list[str] = field(default_factory=list)
    parsed: list[str] = field(default_factory=list)
    where: str = ""
    #: Run the training commands for real, shrunk by ``ONE_ITERATION``, in this folder (None: parse them).
    train_in: Path | None = None

    def problem(self, msg: str) -> None:
        self.problems.append(f"{self.where}: {msg}")

    def expand(self, tok: str) -> str:
        return re.sub(r"\$\{?(\w+)\}?", lambda m: self.vars.get(m.group(1), m.group(0)), tok)

    def block(self, block: Block) -> None:
        for line, argv in commands(block.text, block.line):
            self.where = f"{block.doc}:{line} `{shlex.join(argv)}`"
            self.command(argv)
        self.finish()

    def run(self, cmd: list[str]) -> None:
        """Run a cheap command for real: exit 0."""
        res = _run(cmd)
        self.ran.append(shlex.join(cmd))
        if res.returncode != 0:
            self.problem(f"exit {res.returncode}: {(res.stderr or res.stdout)[-600:]}")

    # -- dispatch ------------------------------------------------------------------------------
    def command(self, argv: list[str]) -> None:
        argv = [self.expand(t) for t in argv]
        while argv and re.match(r"^[A-Za-z_]\w*=", argv[0]):  # OUT=runs/g1 [cmd]
            name, value = argv.pop(0).split("=", 1)
            self.vars[name] = value
        if not argv:
            return
        head, rest = argv[0], argv[1:]
        if head in {".", "source"}:
            self.source(rest)
        elif head == "export":
            for item in rest:
                if "=" not in item:
                    self.problem(f"export {item}: no value")
                name, _, value = item.partition("=")
                self.vars[name] = value
        elif head == "./vm":
            self.vm(rest)
        elif head == "ros2":
            self.ros2(rest)
        elif head == "torchrun":
            self.bare(head)
            self.torchrun(rest)
        elif head == "vm_launch":
            self.bare(head)
            self.launch(rest)
        elif head in self.tools():
            self.bare(head)
            self.tool(head, self.tools()[head], rest)
        else:
            self.problem(
                f"cannot check `{head}`: make it a command this test knows, or put "
                "`<!-- not-checked: why -->` on the line before the block"
            )

    @staticmethod
    @functools.cache
    def tools() -> dict[str, str]:
        """{console tool: package} of the workspace (videomimic_nodes' need `./vm run` / `ros2 run`)."""
        return {name: ("videomimic_nodes" if area == "deploy" else "videomimic_offline")
                for area, rows in catalog.tools().items() for name, _ in rows}  # fmt: skip

    def bare(self, tool: str) -> None:
        """A tool called by name: on PATH once scripts/env.sh is sourced (checked for real in finish)."""
        if self.inline:
            return
        if not self.env_sourced:
            self.problem(f"`{tool}` is not on PATH in a new shell: source scripts/env.sh first in the doc")
        self.bare_tools.add(tool)

    def source(self, rest: list[str]) -> None:
        if not rest or not (REPO / rest[0]).is_file():
            self.problem(f"no file {rest[:1]} to source")
            return
        if rest[0] == "scripts/env.sh":
            self.env_sourced = True

    def finish(self) -> None:
        """Source scripts/env.sh for real in a shell without the workspace on PATH, and look up the
        tools the block calls by name."""
        if self.inline or not self.env_sourced:
            return
        tools = sorted(self.bare_tools | {"vm_launch"})
        script = (
            ". scripts/env.sh >/dev/null && for t in " + " ".join(tools) + "; do command -v $t || echo MISSING $t; done"
        )
        env = {"HOME": os.environ.get("HOME", "/tmp"), "PATH": "/usr/local/bin:/usr/bin:/bin", "TERM": "dumb"}
        res = subprocess.run(["bash", "--noprofile", "--norc", "-c", script], capture_output=True, text=True,
                             cwd=REPO, env=env, timeout=60)  # fmt: skip
        self.ran.append(". scripts/env.sh; command -v " + " ".join(tools))
        missing = re.findall(r"^MISSING (\S+)", res.stdout, re.M)
        if res.returncode != 0 or missing:
            self.problem(f"after `. scripts/env.sh` not on PATH: {missing or res.stderr[-400:]}")

    # -- ./vm ----------------------------------------------------------------------------------
    def vm(self, rest: list[str]) -> None:
        if not rest:
            self.problem("`./vm` alone: name a command")
            return
        sub, args = rest[0], rest[1:]
        if sub not in VM_SUBS:
            self.problem(f"vm has no command '{sub}' (it has {sorted(VM_SUBS)})")
        elif sub == "run":
            self.ros_run(args)
        elif sub == "launch":
            self.launch(args)
        elif sub == "demo":
            self.tool("vm_main_job", "videomimic_offline", args, expensive="demo")
        elif sub == "test":
            if args[:1] == ["--quick"] and not has_option(help_of(str(REPO / "vm")), "--quick"):
                self.problem("./vm test has no --quick")
            self.parsed.append(f"./vm test (run by {EXPENSIVE['test']})")
        elif sub == "bench":
            self.bench(args)
        elif sub in {"help", "-h", "--help"} and not self.inline:
            self.run([str(REPO / "vm"), sub])
        elif args and not self.inline and sub in {"setup", "build", "shell", "lint", "lock"}:
            self.problem(f"./vm {sub} takes no arguments")

    def bench(self, args: list[str]) -> None:
        names = catalog.benches()
        if not args:
            if not self.inline:
                self.run([str(REPO / "vm"), "bench"])
            return
        for name in args[0].split("|"):
            if PLACEHOLDER.search(name):
                continue
            if name not in {n for n, _ in names}:
                self.problem(f"no bench '{name}'")
            elif args[1:]:
                self.options(f"bench/{name}.py", help_of(sys.executable, str(REPO / "bench" / f"{name}.py")), args[1:])

    def ros_run(self, args: list[str]) -> None:
        if len(args) < 2 or PLACEHOLDER.search(args[0]) or PLACEHOLDER.search(args[1]):
            if not self.inline:
                self.problem("`run` needs PACKAGE EXECUTABLE")
            return
        pkg, exe, rest = args[0], args[1], args[2:]
        if pkg not in PACKAGES:
            self.problem(f"no package '{pkg}' in this workspace ({', '.join(PACKAGES)})")
            return
        self.tool(exe, pkg, rest, expensive="vm_operator" if exe == "vm_operator" else None)

    # -- launch --------------------------------------------------------------------------------
    def launch(self, args: list[str], via_ros2: bool = False) -> None:
        flags = [a for a in args if a.startswith("-")]
        words = [a for a in args if not a.startswith("-") and ":=" not in a]
        pairs = dict(a.split(":=", 1) for a in args if ":=" in a)
        runner_help = help_of(str(self.executable("videomimic", "vm_launch")))
        for f in flags:
            if not has_option(runner_help, f.split("=")[0]):
                self.problem(f"vm_launch has no option {f}")
        if not words:
            self.problem("no graph named")
            return
        graph = words[0].removesuffix(".py").removesuffix(".launch")
        if graph not in catalog.graphs():
            self.problem(f"no graph '{words[0]}' (graphs: {catalog.graphs()})")
            return
        declared = launch_args(graph)
        for name, value in pairs.items():
            if name not in declared:
                self.problem(f"'{name}' is not an argument of {graph} (it takes {sorted(declared)})")
            elif declared[name] in {"true", "false"} and value not in {"true", "false"} and value:
                self.problem(f"{name}:={value} is not a boolean")
            elif value and PATHLIKE.search(value):
                self.path(value, name)
        if self.inline:
            return
        cheap = {"--show-args", "--print"} & set(flags)
        if not via_ros2 and (cheap or pairs.get("sim") == "true"):
            self.run([str(REPO / "vm"), "launch", *args, *([] if cheap else ["--print"])])
        else:
            self.parsed.append(f"launch {graph} ({EXPENSIVE['launch']})")

    def ros2(self, args: list[str]) -> None:
        verb, rest = (args[0], args[1:]) if args else ("", [])
        if verb == "run":
            self.ros_run(rest)
        elif verb == "launch":
            if len(rest) < 2:
                if not self.inline:
                    self.problem("`ros2 launch` needs PACKAGE FILE")
                return
            from videomimic.ament import package_share

            share = package_share(rest[0])
            if share is None or not (share / "launch" / rest[1]).is_file():
                self.problem(f"no launch file {rest[1]} in package {rest[0]}")
                return
            self.launch(rest[1:], via_ros2=True)
        elif not self.inline:
            self.problem(f"`ros2 {verb}` needs a ROS install: mark the block `<!-- not-checked: needs ROS -->`")

    # -- tools ---------------------------------------------------------------------------------
    @staticmethod
    def executable(pkg: str, exe: str) -> Path:
        from videomimic.ament import find_executable

        return find_executable(pkg, exe)

    def tool(self, name: str, pkg: str, args: list[str], expensive: str | None = None) -> None:
        try:
            exe = self.executable(pkg, name)
        except LookupError as exc:
            self.problem(str(exc))
            return
        if "--help" in args or "-h" in args or (name == "vm_info" and args in ([], ["--json"])):
            if not self.inline:  # cheap: run as written
                self.run([str(exe), *args])
            return
        self.options(name, help_of(str(exe)), args)
        if name in TRAINING_TOOLS and expensive is None:
            if self.train_in is not None and not self.inline:
                self.train(name, exe, args)
                return
            expensive = "training"
        if not self.inline:
            self.parsed.append(f"{name} ({EXPENSIVE.get(expensive or '', 'parse only')})")

    def train(self, name: str, exe: Path, args: list[str]) -> None:
        """Run a documented training command as written, plus the flags that shrink it to one iteration."""
        shrink = ONE_ITERATION.get(name)
        if shrink is None:
            self.problem(f"no ONE_ITERATION flags for {name}: add them to run its documented command")
            return
        self.options(name, help_of(str(exe)), shrink)
        argv = [str(exe), *(a.replace("<clip>", SAMPLE_CLIP) for a in args), *shrink]
        assert self.train_in is not None
        res = _run(argv, timeout=900, cwd=self.train_in)
        said = " / ".join(ln.strip() for ln in res.stdout.strip().splitlines()[-3:])  # the tool's closing lines
        self.ran.append(f"{shlex.join([name, *argv[1:]])}  (in {self.train_in}: {said})")
        if res.returncode != 0:
            self.problem(f"exit {res.returncode}: {(res.stderr or res.stdout)[-1500:]}")

    def torchrun(self, args: list[str]) -> None:
        text = help_of(sys.executable, "-m", "torch.distributed.run")
        i = 0
        while i < len(args) and args[i].startswith("-"):
            opt = args[i].split("=")[0]
            if not has_option(text, opt):
                self.problem(f"torchrun has no option {opt}")
            i += 2 if "=" not in args[i] and metavar(text, opt) else 1
        if i >= len(args):
            self.problem("torchrun: no training script")
            return
        script = Path(args[i])
        if not (REPO / script).is_file():
            self.problem(f"torchrun script {script} does not exist (build the workspace: ./vm build)")
            return
        self.tool(script.name, script.parent.name, args[i + 1 :], expensive="torchrun")

    def options(self, name: str, text: str, args: list[str]) -> None:
        """Every option of ``args`` is in the help ``text``; values are valid choices; paths exist."""
        args = [a.strip("[]") for a in args if a.strip("[]") and a not in {"...", "|"}]
        i = 0
        while i < len(args):
            tok = args[i]
            i += 1
            if tok.startswith("-") and not re.match(r"^-\d", tok):
                opt, eq, value = tok.partition("=")
                if not has_option(text, opt):
                    self.problem(f"{name} has no option {opt}")
                    continue
                mv = metavar(text, opt)
                if mv and not eq and i < len(args):
                    value = args[i].strip("[]")
                    i += 1
                if not mv or not value:
                    continue
                valid = choices(mv)
                if valid and value not in valid and not PLACEHOLDER.search(value):
                    self.problem(f"{name} {opt} {value}: not one of {valid}")
                elif PATHLIKE.search(value) and not valid:
                    self.path(value, opt)
            elif PLACEHOLDER.search(tok) or re.match(r"^-?[\d.]+$", tok):
                continue
            elif PATHLIKE.search(tok):
                self.path(tok, None)
            elif not re.search(r"(?<![\w-])" + re.escape(tok) + r"(?![\w-])", text):
                self.problem(f"{name}: '{tok}' is neither an option, a path nor a word of its --help")

    def path(self, p: str, opt: str | None) -> None:
        if self.inline or PLACEHOLDER.search(p):
            return
        q = p.rstrip("/")
        if (REPO / q).exists():
            return
        if opt in OUTPUT_OPTIONS:
            self.outputs.append(q)
            return
        if any(q == o or q.startswith(o + "/") for o in self.outputs):
            return
        if not any(q.startswith(root) for root in OUTPUT_ROOTS):
            self.problem(f"{p}: not in the repository, not written by an earlier command, not under "
                         f"{' or '.join(OUTPUT_ROOTS)}")  # fmt: skip


# -- the docs ----------------------------------------------------------------------------------
BLOCKS = [b for doc in DOCS for b in shell_blocks(doc)]


def _state_before(block: Block) -> Checker:
    """The shell state a user has when reaching ``block``: earlier blocks of the same doc, replayed
    for their variables and sourced files only."""
    chk = Checker()
    for earlier in BLOCKS:
        if earlier.doc == block.doc and earlier.line < block.line and earlier.skip is None:
            for _, argv in commands(earlier.text, earlier.line):
                argv = [chk.expand(t) for t in argv]
                while argv and re.match(r"^[A-Za-z_]\w*=", argv[0]):
                    name, value = argv.pop(0).split("=", 1)
                    chk.vars[name] = value
                if argv[:1] in (["."], ["source"]) and argv[1:2] == ["scripts/env.sh"]:
                    chk.env_sourced = True
                elif argv[:1] == ["export"]:
                    chk.vars.update(a.split("=", 1) for a in argv[1:] if "=" in a)
    return chk


def test_the_docs_have_shell_blocks() -> None:
    assert len(BLOCKS) >= 7, [str(b) for b in BLOCKS]
    assert {b.doc for b in BLOCKS} >= {"README.md", "docs/training.md", "docs/real_robot.md"}


@pytest.mark.parametrize("block", BLOCKS, ids=[str(b) for b in BLOCKS])
def test_documented_block_works_as_written(block: Block) -> None:
    if block.skip is not None:
        assert block.skip, f"{block}: a not-checked marker must say why"
        pytest.skip(f"{block}: not checked: {block.skip}")
    chk = _state_before(block)
    chk.block(block)
    print("ran:", *chk.ran, sep="\n  ")
    print("parsed:", *chk.parsed, sep="\n  ")
    assert chk.ran or chk.parsed
    assert not chk.problems, "\n".join(chk.problems)


def _runs_training(block: Block) -> bool:
    return block.skip is None and any(
        argv and argv[0] in TRAINING_TOOLS - {"torchrun"} for _, argv in commands(block.text, block.line)
    )


@pytest.mark.slow
def test_documented_training_commands_run_one_iteration(tmp_path: Path) -> None:
    """Issue 16: each documented training command (docs/training.md's stages, export, eval, sim2sim,
    plots) runs as written, in order, in a temp folder, with ``ONE_ITERATION`` appended: every stage
    trains one iteration on two envs on the CPU from the previous stage's output, and each exits 0.
    The data are the sample clips ``make_mocap --out data --sample-clip`` writes where the docs'
    ``data/mocap`` and ``data/clips`` are."""
    blocks = [b for b in BLOCKS if _runs_training(b)]
    assert "docs/training.md" in {b.doc for b in blocks}, [str(b) for b in BLOCKS]
    make_mocap = Checker.executable("videomimic_offline", "make_mocap")
    res = _run([str(make_mocap), "--out", "data", "--sample-clip", "--seconds", "1.5"], cwd=tmp_path)
    assert res.returncode == 0 and (tmp_path / "data" / "clips" / SAMPLE_CLIP).is_dir(), res.stderr[-2000:]
    ran = []
    for block in blocks:
        chk = _state_before(block)
        chk.train_in = tmp_path
        chk.block(block)
        print(f"{block} ran:", *chk.ran, sep="\n  ")
        assert not chk.problems, "\n".join(chk.problems)
        ran += [r.split()[0] for r in chk.ran]
    stages = ["train_mpt", "train_teacher", "distill_student", "finetune_student", "export_student", "eval_policy"]
    assert [t for t in ran if t in stages] == stages, ran  # every stage ran, in the order of the docs
    out = tmp_path / "runs" / "g1"  # OUT of docs/training.md: each stage wrote its checkpoint where the next reads it
    assert [p.name for p in sorted((out / "finetune").glob("model_*.pt"))] == ["model_0.pt"]
    assert (out / "export" / "student.onnx").is_file() and (out / "eval.json").is_file()
    # The checker fails a documented training command that exits non-zero (here: the teacher without --init).
    doc = tmp_path / "x.md"
    doc.write_text("```bash\n. scripts/env.sh\ntrain_teacher --motions data/clips --out runs/x\n```\n")
    chk = Checker(train_in=tmp_path)
    chk.block(shell_blocks(doc)[0])
    assert any("exit 2" in p and "--init" in p for p in chk.problems), chk.problems


def test_unlabelled_blocks_hold_no_commands() -> None:
    """A command block without a language would escape the test above: label it ```bash."""
    starts = ("./vm ", ". scripts/", "ros2 ", *(f"{t} " for t in Checker.tools()))
    for doc in DOCS:
        for lang, b in fenced_blocks(doc.read_text(), doc.name):
            if not lang:
                first = b.text.strip().splitlines()[0] if b.text.strip() else ""
                assert not first.startswith(starts), f"{b}: a command block without a language: ```bash"


INLINE_START = re.compile(
    r"^(\./vm |ros2 (run|launch) |vm_launch |python bench/|nice -n \d+ python bench/|bench/\w+\.py)"
)


def _inline_spans() -> list[tuple[str, str]]:
    out = []
    for doc in DOCS:
        text = re.sub(r"```.*?```", "", doc.read_text(), flags=re.S)
        for span in re.findall(r"`([^`\n]+)`", text):
            words = span.split()
            if INLINE_START.match(span) or (words and words[0] in Checker.tools() and len(words) > 1):
                out.append((doc.name, span))
    return out


def test_inline_commands_name_real_programs_and_options() -> None:
    """``./vm demo --video my_clip.mp4 --height-m 1.78``, ``ros2 launch videomimic deploy.launch.py
    policy:=...``, ``retarget motion.npz --scene ... [--refine]``, ``bench/deploy_latency.py --load 4``:
    programs, subcommands, options, launch arguments (not run; paths not checked)."""
    spans = _inline_spans()
    assert len(spans) >= 15, spans
    problems = []
    for doc, span in spans:
        chk = Checker(inline=True, where=f"{doc} `{span}`")
        argv = shlex.split(re.sub(r"^nice -n \d+ ", "", span))
        if argv[0] in {"python", "python3"}:
            argv = argv[1:]
        if argv[0].startswith("bench/"):
            chk.bench([Path(argv[0]).stem, *argv[1:]])
        else:
            chk.command(argv)
        problems += chk.problems
    assert not problems, "\n".join(problems)


def test_inline_launch_arguments_and_settings_exist() -> None:
    """``odom:=external``, ``joy_device:=/dev/input/js0`` are arguments of the deploy graph; every
    dotted setting (``--cameras.sfm-keyframes``, ``--weights.foot``) is a flag of reconstruct or retarget."""
    declared = launch_args("deploy")
    text = "\n".join(d.read_text() for d in DOCS)
    named = set(re.findall(r"(?<![\w-])(\w+):=", text))
    assert named and named <= set(declared), named - set(declared)
    chk = Checker(inline=True)
    helps = help_of(str(chk.executable("videomimic_offline", "reconstruct"))) + help_of(
        str(chk.executable("videomimic_offline", "retarget"))
    )
    dotted = set(re.findall(r"(?<![\w-])(--[a-z0-9-]+\.[a-z0-9-]+)", text))
    assert len(dotted) >= 10, dotted
    missing = sorted(d for d in dotted if not has_option(helps, d))
    assert not missing, f"settings the docs name that no tool has: {missing}"


def test_every_tool_named_in_the_docs_is_installed() -> None:
    from videomimic.ament import executables

    tools = set(executables("videomimic_offline")) | set(executables("videomimic_nodes"))
    pattern = (r"`(r2s_\w+|make_\w+|train_\w+|distill_\w+|finetune_\w+|export_\w+|eval_\w+|plot_\w+|vm_\w+"
               r"|sim2sim|retarget|reconstruct|render_egoview)\b")  # fmt: skip
    named = {n for d in DOCS for n in re.findall(pattern, d.read_text())} - {"vm_launch", "vm_run"}
    assert len(named) >= 15 and named <= tools, named - tools


def test_vm_shell_puts_the_tools_on_path() -> None:
    """docs/training.md: "`. scripts/env.sh` (and `./vm shell`) puts the tools on PATH" (issue 16 found
    neither did). From a shell without the workspace on PATH, as a new terminal is."""
    tools = ["train_mpt", "reconstruct", "retarget", "vm_launch", "vm_info"]
    env = {"HOME": os.environ.get("HOME", "/tmp"), "PATH": "/usr/local/bin:/usr/bin:/bin", "VM_SETUP_DONE": "1"}
    script = "".join(f"command -v {t} || echo MISSING {t}\n" for t in tools) + "exit\n"
    res = subprocess.run([str(REPO / "vm"), "shell"], input=script, capture_output=True, text=True, cwd=REPO,
                         env=env, timeout=60)  # fmt: skip
    assert res.returncode == 0, res.stderr[-1000:]
    assert "MISSING" not in res.stdout and all(f"/{t}\n" in res.stdout for t in tools), res.stdout[-1500:]


def test_lint_is_clean() -> None:
    """`./vm lint`: ruff check + ruff format --check over the whole repository."""
    res = _run([str(REPO / "vm"), "lint"], timeout=300)
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]


# -- the checker itself: it fails where it should --------------------------------------------
def _problems(md: str, tmp_path: Path) -> tuple[list[str], list[Block]]:
    doc = tmp_path / "x.md"
    doc.write_text(md)
    found = shell_blocks(doc)
    chk = Checker()
    for b in found:
        if b.skip is None:
            chk.block(b)
    return chk.problems, found


@pytest.mark.parametrize(
    ("md", "expect"),
    [("```bash\nfrobnicate --now\n```\n", "cannot check `frobnicate`"),
     ("```bash\n./vm deploy\n```\n", "vm has no command 'deploy'"),
     ("```bash\n./vm launch deploy sim:=maybe --print\n```\n", "sim:=maybe is not a boolean"),
     ("```bash\n./vm launch deploy speed:=2\n```\n", "'speed' is not an argument"),
     ("```bash\n./vm run videomimic_offline vm_main --help\n```\n", "no executable 'vm_main'"),
     ("```bash\n./vm run videomimic_offline reconstruct --colour red\n```\n", "reconstruct has no option --colour"),
     ("```bash\n. scripts/env.sh\nmake_synthetic_clip --kind stairs --out runs/x\n```\n", "not one of"),
     ("```bash\n./vm run videomimic_offline retarget src/nothing/here.npz --out runs/r\n```\n", "src/nothing/here.npz"),
     ("```bash\ntrain_mpt --motions data/mocap --out runs/g1\n```\n", "not on PATH in a new shell"),
     ("```bash\nros2 topic pub --once /vm/estop std_msgs/msg/Bool '{data: true}'\n```\n", "needs a ROS install")],
)  # fmt: skip
def test_checker_finds_what_a_user_would_trip_on(md: str, expect: str, tmp_path: Path) -> None:
    problems, _ = _problems(md, tmp_path)
    assert any(expect in p for p in problems), problems


def test_checker_passes_what_works_and_honours_markers(tmp_path: Path) -> None:
    md = ("```bash\n. scripts/env.sh\nOUT=runs/x\nmake_mocap --out $OUT/mocap --seconds 1\n"
          "train_mpt --motions $OUT/mocap --out $OUT --device cpu \\\n    --num-envs 2 --terrain flat\n```\n"
          "<!-- not-checked: a vendor tool -->\n```bash\nfrobnicate --now\n```\n")  # fmt: skip
    problems, found = _problems(md, tmp_path)
    assert not problems, problems
    assert [b.skip for b in found] == [None, "a vendor tool"]
