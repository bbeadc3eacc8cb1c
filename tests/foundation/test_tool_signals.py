"""A tool Ctrl-C'd anywhere exits 130 ("interrupted ..."), never killed by the signal (-2).

CPython marks a KeyboardInterrupt as unhandled when it leaves code run from ``exec``/``eval`` of a
string (how ``dataclasses``, ``namedtuple``, torch and others build code), even when an ``except``
handles it further up; under ``python -m`` the process then kills itself with SIGINT at exit. CI
saw it once: a reconstruction interrupted in its 'optimize' stage printed "interrupted" and ended -2.
(The module case fails without ``cli.forget_interrupt``; the script case exits 130 either way.)
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

TOOL = textwrap.dedent(
    """
    import sys
    from videomimic_offline.cli import run_tool

    @run_tool
    def main():
        print("working", file=sys.stderr, flush=True)
        exec("while True: pass")  # the interrupt lands inside code built from a string

    if __name__ == "__main__":
        main()
    """
)


@pytest.mark.parametrize("how", ["module", "script"])
def test_sigint_to_the_group_inside_exec_of_a_string_exits_130(tmp_path: Path, how: str) -> None:
    (tmp_path / "busy_tool.py").write_text(TOOL)
    cmd = [sys.executable, "-m", "busy_tool"] if how == "module" else [sys.executable, str(tmp_path / "busy_tool.py")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    p = subprocess.Popen(cmd, cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True, start_new_session=True)
    assert p.stderr is not None
    assert p.stderr.readline().strip() == "working"
    time.sleep(0.3)
    os.killpg(p.pid, signal.SIGINT)  # a terminal's Ctrl-C: once, to the whole group
    _, err = p.communicate(timeout=60)
    assert p.returncode == 130, (p.returncode, err)
    assert "interrupted: finished stages are kept" in err and "Traceback" not in err, err


def test_an_interrupt_wrapped_by_python_still_exits_130(capsys: pytest.CaptureFixture[str]) -> None:
    """CI: Ctrl-C landed while torch built a dataclass on import; CPython 3.11 re-raised it as
    ``RuntimeError: Error calling __set_name__ ...`` (cause: the KeyboardInterrupt) and the tool
    exited 1 with a traceback. Any error caused by an interrupt is the interrupt; others are not."""
    from videomimic_offline.cli import run_tool

    class Named:
        def __set_name__(self, owner: type, name: str) -> None:
            raise KeyboardInterrupt

    @run_tool
    def interrupted() -> None:
        type("Built", (), {"field": Named()})  # what a Ctrl-C inside a class body's set-up gives

    with pytest.raises(SystemExit) as stop:
        interrupted()
    assert stop.value.code == 130 and "interrupted" in capsys.readouterr().err

    @run_tool
    def broken() -> None:
        raise RuntimeError("a real bug")

    with pytest.raises(RuntimeError, match="a real bug"):
        broken()
