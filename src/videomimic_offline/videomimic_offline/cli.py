"""Shared wrapper for console tools: one clear line on user mistakes, clean Ctrl-C."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
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
            print("interrupted: finished stages are kept; re-run to resume", file=sys.stderr)
            sys.exit(130)
        sys.exit(code or 0)

    return wrapper  # type: ignore[return-value]
