"""Shared pieces of every console tool: one clear line on user mistakes, clean Ctrl-C, and the
closing summary (what the tool did and where to look)."""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from videomimic_offline.errors import VideomimicError

F = TypeVar("F", bound=Callable[..., int | None])


def run_tool(func: F) -> F:
    """Decorate a tool's ``main``: VideomimicError -> ``error: ...`` on stderr, exit code 2.

    KeyboardInterrupt exits 130 without a traceback; stages write atomically, so nothing
    half-written is left behind.
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
        try:
            code = func(*args, **kwargs)
        except VideomimicError as exc:
            print(f"error: {exc}", file=sys.stderr)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            _interrupted()
        except Exception as exc:
            if not _from_interrupt(exc):
                raise
            _interrupted()  # a Ctrl-C that Python wrapped on its way out (see _from_interrupt)
        sys.exit(code or 0)

    return wrapper  # type: ignore[return-value]


def _interrupted() -> None:
    print("interrupted: finished stages are kept; re-run to resume", file=sys.stderr)
    forget_interrupt()
    sys.exit(130)


def _from_interrupt(exc: BaseException) -> bool:
    """Whether ``exc`` was caused by a Ctrl-C: CPython 3.11 turns a KeyboardInterrupt raised while a
    class is being built (``__set_name__``, e.g. a dataclass in an import of torch) into
    ``RuntimeError: Error calling __set_name__ ...`` with the interrupt as its cause (CI: a
    reconstruction Ctrl-C'd in 'optimize' exited 1 with that traceback instead of 130)."""
    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        if isinstance(e, KeyboardInterrupt):
            return True
        seen.add(id(e))
        e = e.__cause__ or e.__context__
    return False


def forget_interrupt() -> None:
    """Call after handling a KeyboardInterrupt when the process is to exit with its own status.

    CPython marks an interrupt as unhandled whenever a KeyboardInterrupt leaves code run by
    ``exec``/``eval`` of a *string* (``dataclasses`` and ``namedtuple`` build their methods that way;
    so do torch and others, at import and at run time), even if an ``except`` further up then handles
    it. When ``python -m tool`` ends, ``Py_RunMain`` sees the mark and kills the process with SIGINT:
    -2 instead of the status passed to ``sys.exit`` (seen in CI: a reconstruction Ctrl-C'd in its
    'optimize' stage printed "interrupted" and died -2; reproduced with ``try: exec("while True:
    pass") except KeyboardInterrupt: sys.exit(130)`` → -2 under ``-m``, 130 as a script).
    Each evaluation of a string clears the mark before it runs, so one of nothing clears it.
    """
    exec("pass")  # noqa: S102 - a constant: clears CPython's unhandled-KeyboardInterrupt mark


class HelpFormatter(argparse.HelpFormatter):
    """``--help`` of an argparse tool: each option's help ends with its default (unless it names one
    itself, or the default is None / a flag's False) or "(required)"; argparse lists ``choices`` in
    the option's metavar. (The tyro tools get the same from :func:`videomimic_offline.settings.parse_cli`.)"""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        if action.required and action.option_strings:
            return f"{text} (required)".lstrip()
        if default is None or default is argparse.SUPPRESS or isinstance(default, bool) or "default" in text:
            return text
        return f"{text} (default: %(default)s)".lstrip()


def argparser(prog: str, doc: str | None, **kwargs: object) -> argparse.ArgumentParser:
    """The argparse parser of a console tool: named ``prog`` in its usage line, described by the first
    paragraph of ``doc``, with :class:`HelpFormatter`. Every option should have a ``help`` (argparse
    prints nothing, not even the default, for an option without one)."""
    description = (doc or "").strip().split("\n\n")[0] or None
    return argparse.ArgumentParser(prog=prog, description=description, formatter_class=HelpFormatter, **kwargs)


#: Exit status of a tool that wrote its outputs but whose verdict says they are not fit for use
#: (e.g. ``retarget``: the robot motion is not usable for training). 2 is a user mistake, 130 Ctrl-C.
EXIT_UNUSABLE = 3


def finished(tool: str, did: str, *details: str, look: Sequence[str | Path] = ()) -> None:
    """Print a tool's closing summary, 2 to 5 lines: what it did, the figures that matter, where to look.

    ``did`` is one line ("wrote out/x.npz (209 frames): usable"); each of ``details`` one more;
    ``look`` the files or folders to open next. Every tool ends with this, so a user always finds
    the verdict and the outputs in the last lines of the terminal.
    """
    lines = [f"{tool}: {did}", *(f"  {d}" for d in details)]
    if look:
        lines.append("  look at: " + ", ".join(str(p) for p in look))
    if not 2 <= len(lines) <= 5:
        raise ValueError(f"a tool's summary is 2 to 5 lines, got {len(lines)}: {lines}")
    print("\n".join(lines), flush=True)
