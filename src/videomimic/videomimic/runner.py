"""`vm_launch <graph> [name:=value ...]`: start a node graph as processes, like `ros2 launch`.

Where ``launch``/``launch_ros`` are not installable (ROS 2 from PyPI wheels), this starts exactly the
graph that ``launch/<graph>.launch.py`` starts on a ROS install — both read
:mod:`videomimic.graph` — with the same parameters and remappings. Like ``ros2 launch`` it keeps
the nodes in its own process group, so a terminal's Ctrl-C reaches every node directly and then
once more from here (each node handles both: ``videomimic_nodes.shutdown``); it forwards SIGINT and
SIGTERM, stops everything when a required node exits, and then exits non-zero.

Exit codes: 0 clean shutdown (signal or ``--duration`` elapsed), 1 a required node exited,
2 bad arguments / parameter files / missing executables (nothing was started).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from videomimic import graph
from videomimic.ament import find_executable, package_share
from videomimic.graph import NodeSpec

#: Graph builders by launch-file stem: ``deploy`` ↔ ``launch/deploy.launch.py``.
GRAPHS: dict[
    str,
    tuple[
        Callable[[dict[str, str], Path], list[NodeSpec]],
        dict[str, tuple[str, str]],
        Callable[[dict[str, str]], list[str]],
    ],
] = {
    "deploy": (graph.deploy_graph, graph.DEPLOY_ARGUMENTS, graph.deploy_notes),
}


def _stem(name: str) -> str:
    return Path(name).name.removesuffix(".py").removesuffix(".launch")


STOP_GRACE_S = 5.0
TERM_GRACE_S = 3.0


class GraphError(Exception):
    """A problem found before anything was started (exit code 2)."""


def parse_launch_args(items: Sequence[str]) -> dict[str, str]:
    """``['sim:=true', ...]`` -> ``{'sim': 'true'}`` (the `ros2 launch` argument syntax)."""
    out: dict[str, str] = {}
    for item in items:
        if ":=" not in item:
            raise GraphError(f"launch argument '{item}' must look like name:=value")
        key, value = item.split(":=", 1)
        out[key.strip()] = value
    return out


def check_params_file(path: str) -> None:
    """Fail early, naming the file, when a ROS parameter file is missing or malformed."""
    p = Path(path)
    if not p.is_file():
        raise GraphError(f"parameter file {p} does not exist")
    try:
        data = yaml.safe_load(p.read_text())
    except yaml.YAMLError as exc:
        raise GraphError(f"parameter file {p} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict) or not data:
        raise GraphError(f"parameter file {p} must map node names to {{ros__parameters: ...}}")
    for node, section in data.items():
        if not isinstance(section, dict) or "ros__parameters" not in section:
            raise GraphError(f"parameter file {p}: section '{node}' has no 'ros__parameters' key")
        if not isinstance(section["ros__parameters"], dict):
            raise GraphError(f"parameter file {p}: '{node}.ros__parameters' must be a mapping")


def _flat(params: dict[str, object], prefix: str = "") -> dict[str, object]:
    """Nested parameter dicts as dotted names (what launch_ros does with them too)."""
    out: dict[str, object] = {}
    for k, v in params.items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def node_command(spec: NodeSpec) -> list[str]:
    """The argv that starts ``spec``: its parameter files in order, then its inline parameters as
    ``-p name:=value`` (which take precedence over every file, as launch_ros's inline parameters do
    when they come last), then remappings. No temporary files: ``--print`` shows a command that runs."""
    exe = find_executable(spec.package, spec.executable)
    cmd = [str(exe), *spec.arguments, "--ros-args", "-r", f"__node:={spec.name}"]
    inline: dict[str, object] = {}
    for param in spec.parameters:
        if isinstance(param, dict):
            inline.update(_flat(param))
        elif inline:
            raise GraphError(f"node {spec.name}: parameter file {param} comes after inline parameters; put files first")
        else:
            check_params_file(param)
            cmd += ["--params-file", str(param)]
    for name, value in inline.items():
        cmd += ["-p", f"{name}:={yaml.safe_dump(value, default_flow_style=True).strip().removesuffix('...').strip()}"]
    for src, dst in spec.remappings:
        cmd += ["-r", f"{src}:={dst}"]
    return cmd


def printable(spec: NodeSpec, cmd: list[str]) -> str:
    """One shell line that starts the node (its environment first)."""
    return shlex.join([*(f"{k}={v}" for k, v in spec.env.items()), *cmd])


@dataclass
class _Proc:
    spec: NodeSpec
    popen: subprocess.Popen[bytes]


def _pump(name: str, stream, out) -> None:  # noqa: ANN001 - file objects
    for raw in iter(stream.readline, b""):
        out.write(f"[{name}] {raw.decode(errors='replace')}")
        out.flush()


class GraphRunner:
    """Start, supervise and stop a list of nodes."""

    def __init__(self, specs: Sequence[NodeSpec], log=sys.stdout) -> None:  # noqa: ANN001
        self.specs = list(specs)
        self.log = log
        self.procs: list[_Proc] = []
        # Set from a signal handler: a plain flag. An Event's set() takes the lock that the main thread
        # holds inside Event.wait(), and a handler run there deadlocked the runner (a Ctrl-C ignored,
        # the graph orphaned when the caller gave up and killed it).
        self._stop = False
        names = [s.name for s in self.specs]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise GraphError(f"duplicate node names in graph: {sorted(dup)}")
        # Resolve everything before starting anything: a bad graph starts no process.
        self.commands = [node_command(s) for s in self.specs]

    def _say(self, msg: str) -> None:
        self.log.write(f"[vm_launch] {msg}\n")
        self.log.flush()

    def start(self) -> None:
        """Start every node in this process group, as ``ros2 launch`` does: a terminal's Ctrl-C reaches them all."""
        for spec, cmd in zip(self.specs, self.commands, strict=True):
            env = {**os.environ, **spec.env}
            popen = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
            threading.Thread(target=_pump, args=(spec.name, popen.stdout, self.log), daemon=True).start()
            self.procs.append(_Proc(spec, popen))
            self._say(f"started {spec.name} [{spec.package}/{spec.executable}] pid {popen.pid}")

    def request_stop(self, *_: object) -> None:
        """Signal handler: ask the supervision loop to shut the graph down."""
        self._stop = True

    @property
    def stop_requested(self) -> bool:
        return self._stop

    def supervise(self, duration: float | None = None) -> int:
        """Wait until a signal, ``duration`` seconds, or a required node's exit; then stop all."""
        deadline = None if duration is None else time.monotonic() + duration
        code = 0
        reported: set[int] = set()
        while not self._stop:
            if deadline is not None and time.monotonic() >= deadline:
                self._say(f"duration {duration:.1f} s elapsed: shutting down")
                break
            for p in self.procs:
                rc = p.popen.poll()
                if rc is None or p.popen.pid in reported:
                    continue
                reported.add(p.popen.pid)
                if p.spec.required:
                    self._say(f"required node {p.spec.name} exited with code {rc}: stopping the graph")
                    code = 1
                    self._stop = True
                else:
                    self._say(f"node {p.spec.name} exited with code {rc} (not required; the graph keeps running)")
            time.sleep(0.05)
        self.shutdown()
        return code

    def shutdown(self) -> None:
        """SIGINT every node, then SIGTERM, then SIGKILL stragglers (like launch's escalation)."""
        live = [p for p in self.procs if p.popen.poll() is None]
        for p in live:
            _signal(p.popen, signal.SIGINT)
        for sig, grace in ((signal.SIGTERM, STOP_GRACE_S), (signal.SIGKILL, TERM_GRACE_S)):
            end = time.monotonic() + grace
            while time.monotonic() < end and any(p.popen.poll() is None for p in live):
                time.sleep(0.05)
            for p in live:
                if p.popen.poll() is None:
                    self._say(f"{p.spec.name} did not stop: sending {sig.name}")
                    _signal(p.popen, sig)
        for p in self.procs:
            rc = p.popen.wait()
            if p in live and rc != 0:
                self._say(f"{p.spec.name} exited with code {rc} while stopping")


def _signal(popen: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):  # already gone
        popen.send_signal(sig)


def resolve_graph(name: str, args: dict[str, str]) -> list[NodeSpec]:
    """Build graph ``name`` (``deploy`` or ``deploy.launch.py``) for launch arguments ``args``."""
    stem = _stem(name)
    if stem not in GRAPHS:
        raise GraphError(f"unknown graph '{name}'; known: {', '.join(f'{g}.launch.py' for g in GRAPHS)}")
    builder, declared, _notes = GRAPHS[stem]
    unknown = sorted(set(args) - set(declared))
    if unknown:
        raise GraphError(f"unknown launch argument(s) {unknown}; {stem}.launch.py takes: {', '.join(declared)}")
    if args.get("config_dir"):
        config_dir = Path(args["config_dir"])
    else:
        share = package_share("videomimic")
        if share is None:
            raise GraphError("package 'videomimic' is not installed: run `./vm build`")
        config_dir = share / "config"
    if not config_dir.is_dir():
        raise GraphError(f"config folder {config_dir} does not exist")
    return builder(args, config_dir)


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point."""
    parser = argparse.ArgumentParser(prog="vm_launch", description=__doc__.split("\n\n")[0])
    parser.add_argument("graph", help=f"graph / launch file, one of: {', '.join(GRAPHS)} (or deploy.launch.py)")
    parser.add_argument("args", nargs="*", help="launch arguments name:=value")
    parser.add_argument(
        "--duration", type=float, default=None, help="stop cleanly after this many seconds (default: run until Ctrl-C)"
    )
    parser.add_argument("--print", action="store_true", help="print the node commands and exit")
    parser.add_argument("--show-args", action="store_true", help="list the launch arguments and exit")
    ns = parser.parse_args(argv)
    early: list[int] = []  # a Ctrl-C before the graph exists: start nothing, exit cleanly
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda signum, _f: early.append(signum))
    try:
        if ns.show_args:
            show_args(ns.graph)
            return 0
        args = parse_launch_args(ns.args)
        specs = resolve_graph(ns.graph, args)
        runner = GraphRunner(specs)
        notes = GRAPHS[_stem(ns.graph)][2](args)
    except (GraphError, LookupError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, runner.request_stop)
    if early:
        runner.request_stop()
    for note in notes:
        print(f"[vm_launch] note: {note}", file=sys.stderr, flush=True)
    if ns.print:
        for spec, cmd in zip(runner.specs, runner.commands, strict=True):
            print(printable(spec, cmd))
        return 0
    return run(runner, ns.duration)


def show_args(graph_name: str) -> None:
    """Print a graph's launch arguments with defaults, like ``ros2 launch ... --show-args``."""
    stem = _stem(graph_name)
    if stem not in GRAPHS:
        raise GraphError(f"unknown graph '{graph_name}'; known: {', '.join(f'{g}.launch.py' for g in GRAPHS)}")
    shown = {key: f"{key}:={default!r}" for key, (default, _doc) in GRAPHS[stem][1].items()}
    width = max(map(len, shown.values()))
    for key, (_default, doc) in GRAPHS[stem][1].items():
        print(f"  {shown[key]:<{width}}  {doc}")


def run(runner: GraphRunner, duration: float | None = None) -> int:
    """Start ``runner``'s graph with Ctrl-C/SIGTERM forwarding and supervise it to the end."""
    signal.signal(signal.SIGINT, runner.request_stop)
    signal.signal(signal.SIGTERM, runner.request_stop)
    if runner.stop_requested:  # Ctrl-C before anything started: start nothing
        return 0
    runner.start()
    return runner.supervise(duration)


if __name__ == "__main__":
    sys.exit(main())
