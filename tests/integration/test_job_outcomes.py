"""The main job's and the batch's verdicts, quickly: a failing step is reported "failed" (and the job
exits non-zero), the deploy step reports its own run's bag, the batch counts unusable clips as such,
and every tool closes with a 2-5 line summary."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import pytest
from videomimic_offline.batch import print_summary
from videomimic_offline.cli import finished
from videomimic_offline.contracts.report_inputs import read_report_inputs
from videomimic_offline.mainjob import STEPS, Context, main, step_deploy


def test_a_failing_step_is_reported_failed_and_the_job_exits_non_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--video", str(tmp_path / "missing.mp4"), "--out", str(tmp_path / "run")])
    assert exc.value.code == 1
    rec = read_report_inputs(tmp_path / "run")
    assert rec.outcome["input video"].startswith("failed: video") and rec.failed == ["input video"]
    assert rec.outcome["reconstruction"] == "skipped (needs video)"
    assert rec.outcome["report"].startswith("done") and (tmp_path / "run" / "report" / "index.html").is_file()
    tail = capsys.readouterr().out.strip().splitlines()[-5:]
    first = next(i for i, line in enumerate(tail) if line.startswith("vm_main_job: "))
    assert tail[first] == f"vm_main_job: 1/{len(STEPS)} steps done, failed: input video" and "look at:" in tail[-1]
    assert "input video: failed: video" in tail[first + 1]


def test_the_deploy_step_reports_the_bag_its_own_run_recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An older, newer-looking bag in the deploy folder is never taken for this run's."""
    # fakes where the job finds workspace tools, as ros2 run does: <prefix>/lib/<package>/<name> on AMENT_PREFIX_PATH
    prefix = tmp_path / "prefix"
    launcher = prefix / "lib" / "videomimic" / "vm_launch"
    checker = prefix / "lib" / "videomimic_nodes" / "vm_deploy_check"  # has its own tests (tests/deploy)
    for tool, script in ((launcher, 'mkdir -p "$VM_BAG_DIR/vm_bag" && touch "$VM_BAG_DIR/vm_bag/metadata.yaml"'),
                         (checker, 'echo \'{"ok": true, "problems": []}\'')):  # fmt: skip
        tool.parent.mkdir(parents=True)
        tool.write_text(f"#!/bin/sh\n{script}\n")
        tool.chmod(tool.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("AMENT_PREFIX_PATH", f"{prefix}{os.pathsep}{os.environ.get('AMENT_PREFIX_PATH', '')}")
    out = tmp_path / "run"
    old = out / "deploy" / "run_old" / "vm_bag"
    old.mkdir(parents=True)
    (old / "metadata.yaml").touch()
    future = time.time() + 3600
    os.utime(old, (future, future))
    ctx = Context(out=out, video=None, height_m=None, deploy_seconds=1.0, train_iterations=1)
    ctx.artifacts.update(
        recon=tmp_path / "recon", policy=tmp_path / "student.onnx", robot_motion=tmp_path / "robot_motion.npz"
    )
    step_deploy(ctx)
    first = ctx.artifacts["bag"]
    assert first.name == "vm_bag" and first.parent != old.parent and first.parent.parent == out / "deploy"
    step_deploy(ctx)  # a re-run: its own new folder, its own bag
    assert ctx.artifacts["bag"] != first and ctx.artifacts["bag"].is_dir()


def test_batch_table_counts_unusable_clips_as_such(capsys: pytest.CaptureFixture[str]) -> None:
    rows = [
        {"clip": "a", "ok": True, "usable": True, "reason": "", "metrics": {}, "seconds": 1.0},
        {"clip": "b", "ok": True, "usable": False, "reason": "terrain penetration 19.3 mm > 10.0 mm",
         "metrics": {"retarget_max_penetration_mm": 19.3}, "seconds": 1.0},
        {"clip": "c", "ok": False, "usable": None, "reason": "video unreadable", "metrics": {}, "seconds": 0.1},
    ]  # fmt: skip
    counts = print_summary(rows)
    assert counts == {"usable": 1, "NOT usable": 1, "failed": 1, "not retargeted": 0}
    out = capsys.readouterr().out
    assert "1/3 clips usable for training, 1 NOT usable, 1 failed" in out and "penetration" in out


def test_a_tool_summary_is_two_to_five_lines(capsys: pytest.CaptureFixture[str]) -> None:
    finished("tool", "did a thing", "figure 1", look=["out/x"])
    assert capsys.readouterr().out.splitlines() == ["tool: did a thing", "  figure 1", "  look at: out/x"]
    with pytest.raises(ValueError):
        finished("tool", "one line only")
    with pytest.raises(ValueError):
        finished("tool", "did", "1", "2", "3", "4", look=["x"])
