"""Each kind of unusable input gives one clear InputError and leaves no output folder behind."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from videomimic_offline.errors import InputError
from videomimic_offline.real2sim.config import PipelineConfig
from videomimic_offline.real2sim.pipeline import run_pipeline, run_until

from tests.real2sim.conftest import textured_frames, write_video

FAST = PipelineConfig(progress=False, write_overlay=False, write_snapshot=False)


def _fails(video: Path, out: Path, match: str, cfg: PipelineConfig = FAST, last: str = "export") -> None:
    with pytest.raises(InputError, match=match):
        run_until(video, out, cfg, last)
    assert not out.exists(), "a failed run must not leave an output folder"


def test_not_a_video(tmp_path: Path) -> None:
    p = tmp_path / "notes.mp4"
    p.write_text("this is a text file, not a video\n" * 20)
    _fails(p, tmp_path / "out", "not a readable video")


def test_empty_file(tmp_path: Path) -> None:
    p = tmp_path / "empty.mp4"
    p.touch()
    _fails(p, tmp_path / "out", "empty file")


def test_missing_file(tmp_path: Path) -> None:
    _fails(tmp_path / "nope.mp4", tmp_path / "out", "does not exist")


def test_corrupt_file(tmp_path: Path) -> None:
    good = write_video(tmp_path / "good.mp4", textured_frames(30))
    data = bytearray(good.read_bytes())
    bad = tmp_path / "corrupt.mp4"
    bad.write_bytes(bytes(data[: len(data) // 3]) + bytes(np.random.default_rng(0).integers(0, 255, 2000, np.uint8)))
    with pytest.raises(InputError, match="corrupt|not a readable|no decodable|only"):
        run_until(bad, tmp_path / "out", FAST)
    assert not (tmp_path / "out").exists()


def test_too_few_frames(tmp_path: Path) -> None:
    p = write_video(tmp_path / "short.mp4", textured_frames(4))
    _fails(p, tmp_path / "out", "only 4 frames")


def test_no_person(noise_video: Path, tmp_path: Path) -> None:
    _fails(noise_video, tmp_path / "out", "no person found")


def test_person_index_out_of_range(noise_video: Path, tmp_path: Path) -> None:
    cfg = PipelineConfig(progress=False, person=3)
    _fails(noise_video, tmp_path / "out", "--person 3", cfg)


def test_output_is_a_file(noise_video: Path, tmp_path: Path) -> None:
    f = tmp_path / "out.txt"
    f.write_text("x")
    with pytest.raises(InputError, match="is a file"):
        run_pipeline(noise_video, f, FAST)


def test_cli_one_line_error(tmp_path: Path) -> None:
    p = tmp_path / "notes.mp4"
    p.write_text("not a video")
    r = subprocess.run(
        [sys.executable, "-c", "from videomimic_offline.real2sim.tools import reconstruct_main; reconstruct_main()",
         str(p), str(tmp_path / "out")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert r.returncode == 2
    lines = [ln for ln in r.stderr.strip().splitlines() if ln.startswith("error:")]
    assert len(lines) == 1 and "not a readable video" in lines[0], r.stderr
    assert "Traceback" not in r.stderr
