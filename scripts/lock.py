"""Re-resolve requirements.in into requirements/constraints.txt (exact pins of the whole set).

Uses pip's resolver in dry-run mode (no install), so the lock lists exactly what a fresh setup
installs — unlike `pip freeze`, which would also list the workspace's own colcon packages.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "-q",
                        "--report", str(report), "-r", str(ROOT / "requirements" / "requirements.in")], check=True)  # fmt: skip
        pins = sorted(
            (f"{i['metadata']['name']}=={i['metadata']['version'].split('+')[0]}" for i in json.loads(report.read_text())["install"]),
            key=str.lower,
        )  # fmt: skip
    out = ROOT / "requirements" / "constraints.txt"
    out.write_text(
        "# Fully resolved pins for requirements.in (Python 3.11, linux). Regenerate: ./vm lock\n"
        + "\n".join(pins)
        + "\n"
    )
    print(f"[vm] wrote {out.relative_to(ROOT)} ({len(pins)} pins)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
