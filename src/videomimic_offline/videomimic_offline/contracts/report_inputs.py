"""Report inputs ``main_job.json``: schema ``videomimic.report_inputs`` v1 — the record, its one writer and one reader.

Written by the main job (``vm_main_job``) as each run finishes; read by the HTML report
(``report.write_report``), so a report can be rebuilt from a run folder alone.

Conventions: ``outcome`` maps each step's name to what happened, in run order: "done in N s"
(optionally "; <note>"), "failed: <message>" or "skipped (needs ...)". ``artifacts`` maps a role
to an absolute path: ``video``, ``gt`` (synthetic ground truth), ``recon`` (reconstruction folder),
``robot_motion``, ``policy`` (exported student), ``bag`` (the deploy run's rosbag2 folder, the one
this run recorded), ``report``. ``info`` holds figures the steps produced, e.g. ``retarget`` (the
feasibility report as stored in ``feasibility.json``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from videomimic_offline import artifacts
from videomimic_offline.errors import ArtifactError

SCHEMA = "videomimic.report_inputs"
VERSION = 1
FILE = "main_job.json"


@dataclass
class ReportInputs:
    """What one main-job run produced (see the module docstring)."""

    out: Path
    outcome: dict[str, str] = field(default_factory=dict)
    artifacts: dict[str, Path] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> list[str]:
        return [k for k, v in self.outcome.items() if v.startswith("failed")]


def write_report_inputs(path: Path, rec: ReportInputs) -> None:
    """Write ``main_job.json`` (the only writer of this schema)."""
    artifacts.write_json(
        Path(path),
        {
            "schema": SCHEMA, "version": VERSION, "out": str(rec.out), "outcome": rec.outcome,
            "artifacts": {k: str(v) for k, v in rec.artifacts.items()}, "info": rec.info,
        },
    )  # fmt: skip


def read_report_inputs(path: Path) -> ReportInputs:
    """Read ``main_job.json`` (the only reader of this schema); a run folder works too."""
    path = Path(path)
    if path.is_dir():
        path = path / FILE
    d = artifacts.read_json(path)
    if d.get("schema") != SCHEMA or int(d.get("version", -1)) > VERSION:
        raise ArtifactError(f"{path} is not a {SCHEMA} v{VERSION} file; re-run vm_main_job")
    return ReportInputs(
        Path(d.get("out", path.parent)), dict(d.get("outcome", {})),
        {k: Path(v) for k, v in d.get("artifacts", {}).items()}, dict(d.get("info", {})),
    )  # fmt: skip
