"""Rewrite the Python/numpy include paths that ROS 2 PyPI wheels hard-code from their build host.

About 20 exported CMake files in the wheels point at ``/opt/python/cp311-cp311/...``; building an
interface package then fails to find Python.h. Idempotent: files already fixed are left alone.
"""

from __future__ import annotations

import re
import sys
import sysconfig
from pathlib import Path

import numpy

BAD = re.compile(
    r"/opt/python/cp3\d+-cp3\d+/include/python3\.\d+;/opt/python/cp3\d+-cp3\d+/lib/python3\.\d+/site-packages/numpy/_?core/include"
)


def main(prefix: str) -> int:
    good = f"{sysconfig.get_paths()['include']};{numpy.get_include()}"
    fixed = 0
    for path in Path(prefix, "share").rglob("*.cmake"):
        text = path.read_text(errors="ignore")
        if "/opt/python/" not in text:
            continue
        new = BAD.sub(good.replace("\\", "/"), text)
        if new != text:
            path.write_text(new)
            fixed += 1
    if fixed:
        print(f"[setup] fixed build paths in {fixed} ROS wheel CMake files")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
