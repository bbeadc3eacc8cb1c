"""Several people in view: counted, ranked by visibility, chosen by ``person`` (default most visible)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from videomimic_offline.errors import InputError
from videomimic_offline.real2sim.persons import track_person
from videomimic_offline.real2sim.video import read_frames

from tests.real2sim.conftest import write_video


@pytest.fixture(scope="module")
def two_people(tmp_path_factory: pytest.TempPathFactory) -> np.ndarray:
    """Two renders of the synthetic walker side by side: a big one on the left, a smaller one right."""
    from videomimic_offline.real2sim.synthetic.clip import make_clip

    d = tmp_path_factory.mktemp("two")
    clip = make_clip("curb", d / "clip", seconds=1.0, seed=3, progress=False)
    frames = read_frames(clip / "video.mp4", 640)
    T, H, W = frames.shape[:3]
    canvas = np.full((T, H, 2 * W, 3), 127, np.uint8)
    canvas[:, :, :W] = frames
    small = np.stack([cv2.resize(f, (int(W * 0.7), int(H * 0.7)), interpolation=cv2.INTER_AREA) for f in frames])
    y0 = (H - small.shape[1]) // 2
    canvas[:, y0 : y0 + small.shape[1], W + 40 : W + 40 + small.shape[2]] = small
    path = write_video(d / "two.mp4", canvas)
    return read_frames(path, 1280)


def test_most_visible_person_by_default(two_people: np.ndarray) -> None:
    W = two_people.shape[2]
    first = track_person(two_people, person=0, samples=6, min_fraction=0.5)
    assert first.num_people == 2
    assert np.nanmedian(first.mp_2d[:, :, 0]) < W / 2, "person 0 is the bigger one on the left"
    second = track_person(two_people, person=1, samples=6, min_fraction=0.5)
    assert np.nanmedian(second.mp_2d[:, :, 0]) > W / 2, "person 1 is the smaller one on the right"
    # the masks follow the chosen person
    assert second.masks[:, :, W // 2 :].sum() > 10 * second.masks[:, :, : W // 2].sum()
    with pytest.raises(InputError, match="--person 2"):
        track_person(two_people, person=2, samples=6, min_fraction=0.5)


@pytest.mark.slow
def test_several_people_through_pipeline(two_people: np.ndarray, tmp_path: Path) -> None:
    from videomimic_offline.real2sim.config import PipelineConfig, VideoConfig
    from videomimic_offline.real2sim.pipeline import run_until

    from videomimic_offline import artifacts

    video = write_video(tmp_path / "two.mp4", two_people)
    d = run_until(
        video,
        tmp_path / "out",
        PipelineConfig(person=1, video=VideoConfig(max_side_px=1280), progress=False),
        "persons",
    )
    p = artifacts.read_npz(d / "persons.npz", schema="videomimic.r2s_persons", max_version=1)
    assert int(p["num_people"]) == 2 and int(p["person"]) == 1


def test_span_starts_where_the_legs_show() -> None:
    """A person walking in from below the frame is reconstructed from the first frame an ankle is in
    view; gaps inside stay, and a span whose legs never show is kept."""
    from videomimic_offline.real2sim.persons import legs_span

    T, W, H = 10, 120, 100
    mp = np.full((T, 33, 3), np.nan)
    mp[:, :, :2] = 50.0
    mp[:, :, 2] = 0.9
    mp[:4, [27, 28], 1] = 130.0  # frames 0-3: the ankles below the image
    mp[5, [27, 28], 2] = 0.1  # frame 5: hidden (a gap inside the span)
    mp[8:, 27, 2] = 0.1  # frames 8-9: one ankle in view is enough
    mp[9:, :, :] = np.nan  # frame 9: nobody found
    assert legs_span(mp, (0, 9), W, H) == (4, 9)
    mp[:, [27, 28], 1] = 130.0
    assert legs_span(mp, (0, 9), W, H) == (0, 9)


def test_span_drops_collapsed_detections_at_its_ends() -> None:
    """A detector locking on to a distant person first returns a few confident but collapsed
    skeletons (shoulders at the hips' height): the span starts at the first upright torso. A short
    torso inside the span (a bend towards the camera) stays."""
    from videomimic_offline.real2sim.persons import upright_span

    T = 60
    mp = np.zeros((T, 33, 3))
    mp[:, :, 2] = 0.9
    mp[:, [23, 24], 1] = 200.0
    mp[:, [11, 12], 1] = 170.0  # a 30 px torso
    mp[:6, [11, 12], 1] = 195.0  # frames 0-5: collapsed (5 px)
    mp[30:33, [11, 12], 1] = 185.0  # frames 30-32: half its length, inside the span
    mp[58:, [11, 12], 1] = 199.0  # the last two frames: collapsed
    assert upright_span(mp, (0, T), 30.0) == (6, 58)
    assert upright_span(mp, (10, 50), 30.0) == (10, 50)
