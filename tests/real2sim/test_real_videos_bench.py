"""bench/real_videos.py: which clips qualify, and one clip through reconstruct + retarget."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "real_videos.py"


def _bench():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("real_videos", BENCH)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_full_body_rule_and_longest_run() -> None:
    rv = _bench()
    mp = np.full((6, 33, 3), np.nan)
    mp[:, :, :2] = 50.0
    mp[:, :, 2] = 0.9
    mp[1, [27, 28], 2] = 0.2  # both ankles hidden
    mp[2, 0, 0] = 130.0  # the nose outside a 120 px wide image
    mp[3, [25, 27], 2] = 0.2  # side view: the far knee and ankle behind the near leg
    mp[4, 28, 1] = 120.0  # an ankle below a 100 px high image (cut off), though "visible"
    mp[5, 0, 2] = 0.1  # the face hidden
    assert rv.full_body_samples(mp, 120, 100).tolist() == [True, False, False, True, False, False]
    assert rv.longest_run_s([True, True, False, True, True, True], 0.2) == pytest.approx(0.6)
    assert rv.longest_run_s([], 0.2) == 0.0
    assert rv._error_line("INFO: Created delegate\nINFO: error: too few points\n") == "too few points"


def test_a_too_short_real_clip_does_not_qualify(shared_video: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    rv = _bench()
    assert rv.main(["--videos", str(shared_video), "--only", "mmpose_demo", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert "does not qualify (too short: 1.0 s < 2 s)" in out[0]
    last = json.loads(out[-1])
    assert last["clips"] == 0 and last["ok"] == 0 and "mmpose_demo_street_walking.mp4" in last["not_qualified"]
    assert not last["targets_met"]


@pytest.mark.slow
def test_one_clip_through_reconstruct_and_retarget(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """A generated 3 s clip qualifies, reconstructs and retargets; the JSON line carries its figures."""
    from videomimic_offline.real2sim.synthetic.clip import make_clip

    clip = make_clip("stairs_up", tmp_path / "gen", seconds=3.0, seed=0, progress=False)
    videos = tmp_path / "videos"
    videos.mkdir()
    shutil.copy(clip / "video.mp4", videos / "stairs.mp4")
    rv = _bench()
    assert rv.main(["--videos", str(videos), "--out", str(tmp_path / "out"), "--table", str(tmp_path / "none")]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    res = json.loads(out[-1])
    assert res["clips"] == 1 and res["ok"] == 1, out
    row = res["per_clip"][0]
    assert row["regime"] == "translating" and row["height_source"] == "prior" and row["height_m"] == 1.7
    for key in ("ground_p95_mm", "slide_mm_per_frame", "reproj_pct", "human_accel_rms", "s_per_frame"):
        assert isinstance(row[key], float) and np.isfinite(row[key]), key
    assert row["reproj_pct"] < 3.0
    assert "retarget_verdict" in row and isinstance(row["retarget_usable"], bool)
    assert any(line.startswith("stairs.mp4: ok | camera translating") for line in out)
