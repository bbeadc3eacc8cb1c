"""Batch processing on a local Ray: three generated clips, one deliberately corrupt. Two succeed,
the corrupt one is reported failed with its reason, and nothing finished is lost."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from videomimic_offline.real2sim.synthetic.clip import make_clip

    root = tmp_path_factory.mktemp("videos")
    make_clip("stairs_up", root / "stairs", seconds=3.0, seed=3, progress=False)
    make_clip("stairs_down", root / "down", seconds=3.0, seed=5, progress=False)
    (root / "broken").mkdir()
    (root / "broken" / "video.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"garbage" * 500)
    return root


def test_batch_on_local_ray(videos: Path, tmp_path: Path) -> None:
    from videomimic_offline.batch import SUMMARY, find_videos, run_batch

    assert [p.parent.name for p in find_videos(videos)] == ["broken", "down", "stairs"]
    out = tmp_path / "out"
    rows = run_batch(videos, out, {"progress": False}, num_cpus=2)
    by_clip = {r["clip"]: r for r in rows}
    assert set(by_clip) == {"broken", "down", "stairs"}
    assert not by_clip["broken"]["ok"]
    assert "video" in by_clip["broken"]["reason"].lower()  # the pipeline's own clear message
    assert "internal error" not in by_clip["broken"]["reason"]
    for name in ("down", "stairs"):
        row = by_clip[name]
        assert row["ok"], row["reason"]
        assert (out / name / "motion.npz").is_file() and (out / name / "robot" / "robot_motion.npz").is_file()
        assert row["usable"] in (True, False) and "retarget_max_penetration_mm" in row["metrics"]
        assert row["seconds"] > 0
    saved = json.loads((out / SUMMARY).read_text())["rows"]
    assert [r["clip"] for r in saved] == ["broken", "down", "stairs"]

    # Re-run: every finished stage is reused, so the successful clips come back fast and unchanged.
    motion = (out / "stairs" / "motion.npz").stat().st_mtime_ns
    rows2 = run_batch(videos, out, {"progress": False}, num_cpus=2)
    assert [r["ok"] for r in rows2] == [r["ok"] for r in rows]
    assert (out / "stairs" / "motion.npz").stat().st_mtime_ns == motion


def test_batch_workers_run_at_the_callers_priority(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ray's default worker niceness (15) let any other load on the machine starve a batch."""
    import os

    from videomimic_offline import batch

    def niceness(video: str, out: str, config: dict, retarget: bool) -> dict:
        return {"clip": Path(out).name, "ok": True, "nice": os.nice(0)}

    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "video.mp4").write_bytes(b"")
    monkeypatch.delenv("RAY_worker_niceness", raising=False)
    monkeypatch.setattr(batch, "process_video", niceness)
    rows = batch.run_batch(tmp_path, tmp_path / "out", {}, num_cpus=1)
    assert [r["nice"] for r in rows] == [os.nice(0)]
