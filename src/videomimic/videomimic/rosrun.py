"""`vm_run <package> <executable> [args...]`: what `ros2 run` does, for machines without ros2cli."""

from __future__ import annotations

import os
import sys

from videomimic.ament import executables, find_executable


def main(argv: list[str] | None = None) -> int:
    """Replace this process with the package's executable (signals and exit code pass through)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) < 1 or args[0] in ("-h", "--help"):
        print("usage: vm_run <package> <executable> [arguments...]\n       vm_run <package>   (lists its executables)")
        return 0 if args else 2
    if len(args) == 1:
        names = executables(args[0])
        if not names:
            print(f"error: package '{args[0]}' not found or has no executables", file=sys.stderr)
            return 2
        print("\n".join(f"{args[0]} {n}" for n in names))
        return 0
    try:
        exe = find_executable(args[0], args[1])
    except LookupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    os.execv(str(exe), [str(exe), *args[2:]])
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
