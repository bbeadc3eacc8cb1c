"""Long clips are refused up front with a way to trim them; Ctrl-C at any stage loses no finished
work, and the resumed run ends with the outputs of an uninterrupted one."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from videomimic_offline.errors import InputError
from videomimic_offline.real2sim.config import PipelineConfig, VideoConfig
from videomimic_offline.real2sim.pipeline import run_until
from videomimic_offline.real2sim.video import check_memory

from tests.real2sim.conftest import textured_frames, write_video


def test_a_clip_too_long_for_the_memory_budget_is_refused_before_any_work(tmp_path: Path) -> None:
    video = write_video(tmp_path / "long.mp4", textured_frames(600, h=240, w=320, shift_px=0.5))
    # 600 frames of 320x240 need ~1.45 GiB by the measured model; a 1.3 GiB budget refuses it
    cfg = PipelineConfig(progress=False, video=VideoConfig(memory_budget_gb=1.3))
    t0 = time.perf_counter()
    with pytest.raises(InputError) as exc:
        run_until(video, tmp_path / "out", cfg)
    msg = str(exc.value)
    assert "600 frames at 30 fps" in msg and "0:20 long" in msg and "--video.memory-budget-gb" in msg
    n = int(msg.split("--max-frames ")[1].split()[0])
    assert 0 < n < 600 and "ffmpeg -ss" in msg and "-c copy part.mp4" in msg
    assert not (tmp_path / "out").exists(), "refused before anything was written"
    assert time.perf_counter() - t0 < 60  # metadata only: not a decode of the clip (generous bound)
    check_memory(video, 640, n, 1.3)  # the suggested --max-frames fits
    with pytest.raises(InputError):
        check_memory(video, 640, n + 5, 1.3)


def _outputs(out: Path) -> dict[str, object]:
    """Every output, comparable across runs: arrays by value, files by bytes, timings left out."""
    got: dict[str, object] = {}
    for f in sorted(p for p in out.iterdir() if p.is_file()):
        if f.suffix == ".npz":
            with np.load(f) as z:
                got[f.name] = {k: z[k].tobytes() for k in z.files}
        elif f.name == "report.json":
            rep = json.loads(f.read_text())
            rep.pop("stage_seconds")
            rep["optimize"].pop("seconds", None)
            got[f.name] = rep
        else:
            got[f.name] = f.read_bytes()
    return got


def _reconstruct(video: Path, out: Path, stop_at: str | None) -> subprocess.CompletedProcess:
    """reconstruct in its own process group; with ``stop_at``, SIGINT to the whole group (as a
    terminal's Ctrl-C) once that stage has started, after a moment of work."""
    cmd = [sys.executable, "-m", "videomimic_offline.real2sim.tools", str(video), str(out), "--height-m", "1.7"]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    if stop_at is None:
        so, se = p.communicate(timeout=1800)
        return subprocess.CompletedProcess(cmd, p.returncode, so, se)
    err = ""
    assert p.stderr is not None
    while True:  # stage lines end with a newline (progress bars only redraw with \r)
        line = p.stderr.readline()
        assert line, f"the run ended before the {stop_at} stage: {err[-2000:]}"
        err += line
        if f"] {stop_at}: " in line and line.rstrip().endswith("..."):
            break
    time.sleep(2.0)  # inside the stage's work
    os.killpg(p.pid, signal.SIGINT)
    so, se = p.communicate(timeout=600)
    return subprocess.CompletedProcess(cmd, p.returncode, so, err + se)


@pytest.mark.slow
def test_ctrl_c_at_each_stage_then_resume_gives_the_uninterrupted_outputs(tmp_path: Path) -> None:
    from videomimic_offline.real2sim.synthetic.clip import make_clip

    clip = make_clip("stairs_up", tmp_path / "clip", seconds=3.0, seed=0, progress=False)
    video = clip / "video.mp4"
    ref = _reconstruct(video, tmp_path / "a" / "recon", None)
    assert ref.returncode == 0, ref.stderr
    out = tmp_path / "b" / "recon"  # same folder name: the snapshot's title shows it
    done: list[str] = []
    for stage in ("persons", "cameras", "optimize", "scene"):
        r = _reconstruct(video, out, stage)
        assert r.returncode == 130, (stage, r.returncode, r.stderr[-3000:])
        assert "interrupted: finished stages are kept" in r.stderr and "Traceback" not in r.stderr, r.stderr[-3000:]
        assert not list(out.rglob("*.partial-*")) and not list(out.glob(".*.npz")), "nothing half-written"
        kept = sorted(p.parent.name for p in (out / "stages").glob("*/stage.json")) if out.exists() else []
        assert set(done) <= set(kept), (stage, done, kept)  # finished work is never lost
        assert stage not in kept, f"{stage} was interrupted but marked done"
        done = kept
    r = _reconstruct(video, out, None)
    assert r.returncode == 0, r.stderr
    assert "reused persons, keypoints, cameras, optimize; ran scene, export" in r.stdout, r.stdout
    assert _outputs(out) == _outputs(tmp_path / "a" / "recon")
