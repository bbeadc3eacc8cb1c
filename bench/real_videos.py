"""Real casual videos through the default pipeline and retargeting, judged without ground truth.

Every video in ``../shared/data/video`` (more clips get added there) that shows a visible
full-body person for at least 2 s is reconstructed with the default ``reconstruct`` (no height
given: the pipeline's prior or estimate is the ruler) and then retargeted to the G1 with
``retarget``, each in a child process (a cold run; its wall time and peak RSS are the tool's).
Whether a clip qualifies is decided here, automatically, by MediaPipe Pose on frames sampled at
5 fps: a sample counts when the nose, shoulders, hips, knees and ankles are all visible inside the
image; a clip qualifies when such samples cover 2 s in a row. A clip that does not qualify is
listed with the reason and not counted. "Visible" follows MediaPipe's own meaning (not occluded):
a person seen from the side hides the far knee or ankle behind the near leg, and is still a
full-body person, so each left/right pair needs one side visible; all nine must lie inside the
image (MediaPipe places an occluded landmark where it would be, a cropped one off the image).

Per-clip choices a user would make (which person to follow) are in ``bench/real_videos.yaml``.

Per clip it prints: ok or the refusal; the camera regime; the height used and where it came from;
planted-foot sole distance to the reconstructed ground (median and p95, mm); foot slide while
planted (mm/frame); the median 2D reprojection error of the fitted body against the detector as %
of the image height; the human motion's joint-acceleration RMS (m/s^2); the retargeting verdict
and its joint-acceleration RMS (rad/s^2); seconds per frame. Retargeting runs with its defaults;
where it reports that its whole-clip refinement (which it tries) makes the clip usable and advises
``--refine``, the bench re-runs it so, as a user would, and says so in the verdict. The figures come from the outputs
(``report.json``'s ``quality``, written by real2sim's export with ``real2sim/quality.py``; for an
output folder written before that existed, the same functions on ``motion.npz``,
``heightfield.npz``, ``cameras.npz`` and the keypoint stage).

The last line is one JSON object: ``clips`` (qualifying), ``ok``, ``ground_p95_mm``,
``slide_mm_per_frame``, ``reproj_pct`` (each the worst over the ok clips, so a target met there
is met by every clip), ``retarget_usable`` (count), ``targets`` and ``targets_met`` (issue 12:
every qualifying clip ok, p95 <= 30 mm, slide <= 5 mm/frame, reprojection <= 3 %, every
retargeted motion usable), ``not_qualified`` and ``per_clip``.

    python bench/real_videos.py                   # every qualifying clip (cold runs)
    python bench/real_videos.py --only taiji      # clips whose name contains "taiji"
    python bench/real_videos.py --reuse           # resume earlier outputs (timings then mean little)
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
VIDEOS = HERE.parent / "../shared/data/video"
TABLE = HERE / "real_videos.yaml"
SUFFIXES = (".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm")

#: Issue-12 targets on real clips.
TARGETS = {"ground_p95_mm": 30.0, "slide_mm_per_frame": 5.0, "reproj_pct": 3.0}
#: A qualifying clip shows a full-body person this long (s), judged on samples at this rate (Hz).
MIN_FULL_BODY_S, SAMPLE_HZ = 2.0, 5.0
#: MediaPipe landmarks that must all lie inside the image: nose, shoulders, hips, knees, ankles.
FULL_BODY = (0, 11, 12, 23, 24, 25, 26, 27, 28)
#: Of these, the nose and one side of each left/right pair must be visible (not self-occluded).
VISIBLE_ONE_OF = ((0,), (11, 12), (23, 24), (25, 26), (27, 28))
MIN_VISIBILITY = 0.5


def _default_out() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "videomimic" / "bench_real_videos"


# ------------------------------------------------------------------ qualification


def full_body_samples(mp2d: Any, width: int, height: int) -> Any:
    """(N,) bool: every FULL_BODY landmark inside the image, the nose and one side of each pair visible.

    A side view hides the far knee behind the near leg (MediaPipe's visibility ~0.2 there on the
    generator's own clips); that is self-occlusion, not a person cut off by the frame.
    """
    import numpy as np

    lm = mp2d[:, list(FULL_BODY)]
    with np.errstate(invalid="ignore"):
        inside = (lm[..., 0] >= 0) & (lm[..., 0] < width) & (lm[..., 1] >= 0) & (lm[..., 1] < height)
        ok = inside.all(axis=1)
        for group in VISIBLE_ONE_OF:
            ok &= (mp2d[:, list(group), 2] >= MIN_VISIBILITY).any(axis=1)
    return ok


def longest_run_s(ok: Any, dt: float) -> float:
    """Longest stretch of consecutive True samples, in seconds (each sample covers ``dt``)."""
    best = run = 0
    for v in ok:
        run = run + 1 if v else 0
        best = max(best, run)
    return best * dt


def qualify(video: Path) -> tuple[bool, str, dict[str, Any]]:
    """(qualifies, why not / how, facts) for one video."""
    import numpy as np
    from videomimic_offline.errors import InputError
    from videomimic_offline.real2sim.persons import run_mediapipe
    from videomimic_offline.real2sim.video import iter_frames, probe

    try:
        info = probe(video, 640, None, 1)
    except InputError as exc:
        return False, f"unreadable: {exc}", {}
    facts = {"frames": info.num_frames, "fps": round(info.fps, 3), "seconds": round(info.num_frames / info.fps, 2)}
    if info.num_frames / info.fps < MIN_FULL_BODY_S:
        return False, f"too short: {facts['seconds']} s < {MIN_FULL_BODY_S:g} s", facts
    stride = max(1, round(info.fps / SAMPLE_HZ))
    frames = np.stack([f for t, f in enumerate(iter_frames(video, 640)) if t % stride == 0])
    mp2d, _, _ = run_mediapipe(frames, None)
    ok = full_body_samples(mp2d, info.width, info.height)
    run = longest_run_s(ok, stride / info.fps)
    run = min(run, info.num_frames / info.fps)
    facts.update(full_body_s=round(run, 2), full_body_fraction=round(float(ok.mean()), 3))
    if run < MIN_FULL_BODY_S:
        return False, f"no full-body person for {MIN_FULL_BODY_S:g} s in a row (longest {run:.1f} s)", facts
    return True, f"full-body person for {run:.1f} s", facts


# ------------------------------------------------------------------ running the tools


def _run(cmd: list[str], timeout: float) -> tuple[int, str, float, float]:
    """(exit code, its output, wall s, peak RSS GB) of one child process (``os.wait4``: that child only)."""
    import threading

    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    chunks: list[str] = []
    reader = threading.Thread(target=lambda: chunks.append(p.stdout.read() if p.stdout else ""), daemon=True)
    reader.start()
    timer = threading.Timer(timeout, p.kill)
    timer.start()
    _, status, usage = os.wait4(p.pid, 0)
    timer.cancel()
    reader.join()
    code = os.waitstatus_to_exitcode(status)
    p.returncode = code
    out = "".join(chunks)
    if code == -9 and time.perf_counter() - t0 >= timeout:
        code, out = 124, out + f"\n(timed out after {timeout:.0f} s)"
    return code, out, time.perf_counter() - t0, usage.ru_maxrss / 1024**2


def _error_line(out: str) -> str:
    """The tool's one-line refusal (after ``error:``), else its last line."""
    lines = [ln.strip() for ln in out.splitlines() if ln.strip()]
    errs = [ln[ln.index("error:") + len("error:") :].strip() for ln in lines if "error:" in ln]
    return (errs[-1] if errs else (lines[-1] if lines else "no output"))[:300]


def reconstruct(video: Path, out: Path, person: int, timeout: float) -> tuple[int, str, float, float]:
    cmd = [sys.executable, "-m", "videomimic_offline.real2sim.tools", str(video), str(out), "--no-progress"]
    if person:
        cmd += ["--person", str(person)]
    return _run(cmd, timeout)


def retarget(out: Path, timeout: float, refine: bool = False) -> tuple[int, str, float, float]:
    cmd = [sys.executable, "-c", "from videomimic_offline.retarget.tool import main; main()",
           str(out / "motion.npz"), "--scene", str(out / "heightfield.npz"), "--out", str(out / "robot")]  # fmt: skip
    return _run(cmd + (["--refine", "--force"] if refine else []), timeout)


#: What ``retarget`` advises (feasibility.json ``advice``) when its whole-clip refinement, which it
#: tried, makes the clip usable; the bench then does what a user is told to do: re-run with --refine.
REFINE_ADVICE = "re-run with --refine"


# ------------------------------------------------------------------ figures from the outputs


def clip_figures(out: Path) -> dict[str, Any]:
    """Regime, height and quality figures of a finished reconstruction folder."""
    from videomimic_offline import artifacts

    rep = artifacts.read_json(out / "report.json")
    q = rep.get("quality") or _quality_from_artifacts(out)
    cam = rep.get("camera") or {}
    regime = cam.get("regime")
    if regime is None and (out / "stages/cameras/info.json").is_file():
        regime = artifacts.read_json(out / "stages/cameras/info.json").get("regime")
    vi = rep.get("video_info", {})
    return {
        "regime": regime or "?",
        "focal_source": cam.get("focal_source"),
        "height_m": rep.get("height_m"),
        "height_source": rep.get("height_source"),
        "frames": vi.get("num_frames"),
        "ground_median_mm": q.get("ground_median_mm"),
        "ground_p95_mm": q.get("ground_p95_mm"),
        "ground_known_fraction": q.get("ground_known_fraction"),
        "slide_mm_per_frame": q.get("slide_mm_per_frame"),
        "reproj_pct": q.get("reproj_pct_of_height"),
        "human_accel_rms": q.get("joint_accel_rms"),
        "people": (rep.get("persons") or {}).get("num_people"),
    }


def _quality_from_artifacts(out: Path) -> dict[str, Any]:
    """``report.json``'s quality for a folder whose export did not write it (same functions)."""
    import numpy as np
    from videomimic_offline.contracts.cameras import read_cameras
    from videomimic_offline.contracts.heightfield import read_heightfield
    from videomimic_offline.contracts.human_motion import read_human_motion
    from videomimic_offline.real2sim.config import FitConfig
    from videomimic_offline.real2sim.quality import quality

    from videomimic_offline import artifacts

    m = read_human_motion(out / "motion.npz")
    c = read_cameras(out / "cameras.npz")
    hf = read_heightfield(out / "heightfield.npz")
    k = artifacts.read_npz(out / "stages/keypoints/keypoints.npz", schema="videomimic.r2s_keypoints", max_version=1)
    rep = artifacts.read_json(out / "report.json")
    cfg = rep.get("config", {})
    fit = cfg.get("fit", cfg)  # nested (this branch) or flat (older outputs)

    def ground(xy: Any) -> Any:
        return np.where(hf.known_at(xy), hf.height_at(xy), np.nan)

    contacts = m.contacts if m.contacts is not None else np.zeros((m.num_frames, 2), bool)
    return quality(
        m.joints_w, contacts, m.fps, c.T_world_cam, c.K, c.image_size[1], k["kp2d"], k["conf"],
        float(fit.get("min_keypoint_conf", 0.3)), ground,
        FitConfig(ankle_height_m=fit.get("ankle_height_m")).ankle_height(float(rep["height_m"])),
    )  # fmt: skip


# ------------------------------------------------------------------ main


def _fmt(v: Any, spec: str = ".1f", unit: str = "") -> str:
    return "n/a" if v is None or (isinstance(v, float) and not math.isfinite(v)) else f"{v:{spec}}{unit}"


def _worst(rows: list[dict[str, Any]], key: str) -> float | None:
    vals = [r[key] for r in rows if isinstance(r.get(key), (int, float)) and math.isfinite(r[key])]
    return max(vals) if vals else None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--videos", type=Path, default=VIDEOS, help="folder of videos (default ../shared/data/video)")
    ap.add_argument("--out", type=Path, default=_default_out(), help="where each clip's outputs go")
    ap.add_argument("--table", type=Path, default=TABLE, help="per-clip choices (YAML)")
    ap.add_argument("--only", nargs="*", default=[], help="clips whose file name contains one of these")
    ap.add_argument("--reuse", action="store_true", help="resume earlier outputs instead of cold runs")
    ap.add_argument("--timeout", type=float, default=3600.0, help="seconds per tool run")
    a = ap.parse_args(argv)
    import yaml

    videos_dir = a.videos.resolve()
    if not videos_dir.is_dir():
        print(f"error: {a.videos} is not a folder of videos", file=sys.stderr)
        return 2
    table = yaml.safe_load(a.table.read_text()) if a.table.is_file() else {}
    videos = sorted(p for p in videos_dir.iterdir() if p.suffix.lower() in SUFFIXES)
    if a.only:
        videos = [v for v in videos if any(s in v.name for s in a.only)]
    rows: list[dict[str, Any]] = []
    skipped: dict[str, str] = {}
    for video in videos:
        ok, why, facts = qualify(video)
        if not ok:
            skipped[video.name] = why
            print(f"{video.name}: does not qualify ({why})", flush=True)
            continue
        choice = table.get(video.name) or {}
        person = int(choice.get("person", 0))
        out = a.out / video.stem
        if out.exists() and not a.reuse:
            shutil.rmtree(out)
        row: dict[str, Any] = {"clip": video.name, "qualifies": why, "person": person, **facts}
        code, log, wall, rss = reconstruct(video, out, person, a.timeout)
        row.update(ok=code == 0, recon_s=round(wall, 1), peak_rss_gb=round(rss, 2))
        if code != 0:
            row["refusal"] = _error_line(log)
        else:
            fig = clip_figures(out)
            row.update(fig)
            row["s_per_frame"] = round(wall / max(1, fig["frames"] or facts["frames"]), 3)
            rcode, rlog, _, _ = retarget(out, a.timeout)
            if rcode in (0, 3) and (out / "robot/feasibility.json").is_file():
                from videomimic_offline.contracts.feasibility import read_feasibility

                feas = read_feasibility(out / "robot/feasibility.json")
                refined = False
                if not feas.usable and any(REFINE_ADVICE in x for x in feas.advice):
                    rcode, rlog, _, _ = retarget(out, a.timeout, refine=True)
                    if rcode in (0, 3) and (out / "robot/feasibility.json").is_file():
                        feas, refined = read_feasibility(out / "robot/feasibility.json"), True
                row.update(retarget_usable=feas.usable, retarget_refined=refined,
                           retarget_verdict=feas.verdict + (" (with --refine, as retarget advised)" if refined else ""),
                           retarget_accel_rms=round(feas.joint_accel_rms, 1))  # fmt: skip
            else:
                row.update(retarget_usable=False, retarget_verdict=f"failed: {_error_line(rlog)}")
        rows.append(row)
        _print_row(row, choice.get("why"))
    ok_rows = [r for r in rows if r["ok"]]
    summary: dict[str, Any] = {
        "clips": len(rows),
        "ok": len(ok_rows),
        "ground_p95_mm": _worst(ok_rows, "ground_p95_mm"),
        "slide_mm_per_frame": _worst(ok_rows, "slide_mm_per_frame"),
        "reproj_pct": _worst(ok_rows, "reproj_pct"),
        "retarget_usable": sum(1 for r in ok_rows if r.get("retarget_usable")),
        "targets": {**TARGETS, "all_ok": True, "all_usable": True},
    }
    met = len(rows) > 0 and summary["ok"] == len(rows) and summary["retarget_usable"] == len(rows)
    for k, lim in TARGETS.items():
        met = met and summary[k] is not None and summary[k] <= lim
    summary.update(targets_met=met, not_qualified=skipped, per_clip=rows)
    print(json.dumps(summary))
    return 0


def _print_row(r: dict[str, Any], why: str | None) -> None:
    head = f"{r['clip']}: "
    if not r["ok"]:
        print(head + f"REFUSED: {r['refusal']}  ({r['recon_s']:.0f} s)", flush=True)
        return
    lines = [
        head
        + f"ok | camera {r['regime']}"
        + (f" (focal {r['focal_source']})" if r.get("focal_source") else "")
        + f" | height {_fmt(r['height_m'], '.2f', ' m')} ({r['height_source']})"
        + (f" | person {r['person']}: {why}" if why else ""),
        f"  ground median {_fmt(r['ground_median_mm'])} mm, p95 {_fmt(r['ground_p95_mm'])} mm"
        f" ({_fmt(r['ground_known_fraction'] and 100 * r['ground_known_fraction'], '.0f')} % of planted frames"
        f" over known ground) | slide {_fmt(r['slide_mm_per_frame'], '.2f')} mm/frame"
        f" | reprojection {_fmt(r['reproj_pct'], '.2f')} % of height | accel RMS {_fmt(r['human_accel_rms'])} m/s^2",
        f"  retarget: {r['retarget_verdict']} (accel RMS {_fmt(r.get('retarget_accel_rms'))} rad/s^2)"
        f" | {r['s_per_frame']:.2f} s/frame, peak RSS {_fmt(r['peak_rss_gb'], '.2f')} GB",
    ]
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    sys.exit(main())
