"""`render_egoview`: what the G1's head camera would see along the retargeted motion, in RGB-D.

The head RealSense D435 (intrinsics and mount from ``robot/g1.py``) rides on the torso of the
retargeted robot motion through the reconstructed scene; RGB comes from the video projected onto
the scene, depth is metric, and pixels whose ray meets no reconstructed surface (or lies outside
the sensor's range) are marked invalid. See ``egoview/render.py`` for the artifact.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from videomimic_offline import artifacts, settings
from videomimic_offline.cli import finished, run_tool
from videomimic_offline.errors import ConfigError, InputError
from videomimic_offline.robot import g1
from videomimic_offline.settings import setting


@dataclass
class EgoviewConfig:
    """Inputs and settings of the ego-view render."""

    #: robot_motion.npz of the retargeted motion (its torso_link carries the camera).
    robot_motion: Path = Path("robot/robot_motion.npz")
    #: real2sim output folder (scene_mesh.ply, heightfield.npz, scene.json, cameras.npz).
    recon: Path = Path("recon")
    #: The input video, for colour; None = the one the reconstruction read (its stages/persons/video.json).
    video: Path | None = None
    #: Output folder (replaced atomically).
    out: Path = setting(Path("egoview"), hashed=False)
    #: Image width [px]; the focal length scales with it (640 = the D435 depth mode the robot runs).
    width: int = g1.HEAD_CAMERA_RESOLUTION[0]
    #: Image height [px].
    height: int = g1.HEAD_CAMERA_RESOLUTION[1]
    #: Frames per second rendered (the D435 runs at 30).
    fps: float = float(g1.HEAD_CAMERA_FPS)
    #: Scene triangles kept for rendering (vertex clustering beyond this; rasterising cost grows with it).
    max_triangles: int = 60_000
    #: Video frames projected onto the scene for its colours.
    keyframes: int = 24
    #: Also store the RGB frames (uint8) in egoview.npz (the mp4 is lossy).
    rgb_in_npz: bool = False
    #: Show a progress bar.
    progress: bool = setting(True, hashed=False)

    def __post_init__(self) -> None:
        if self.width < 16 or self.height < 16:
            raise ConfigError(f"image size {self.width}x{self.height} is too small: use at least 16x16 px")
        if not 1.0 <= self.fps <= 120.0:
            raise ConfigError(f"fps {self.fps} is outside 1..120")
        if self.max_triangles < 100 or self.keyframes < 1:
            raise ConfigError("max_triangles must be >= 100 and keyframes >= 1")


def _video_of(recon: Path) -> Path | None:
    """The video a reconstruction read, from its persons stage record (None when unknown or gone)."""
    rec = Path(recon) / "stages" / "persons" / "video.json"
    if not rec.is_file():
        return None
    path = Path(json.loads(rec.read_text()).get("path", ""))
    return path if path.is_file() else None


def render_egoview(cfg: EgoviewConfig) -> Path:
    """Render (or reuse, when inputs and settings are unchanged) the ego view; returns the folder."""
    from rich.progress import Progress

    from videomimic_offline.contracts.robot_motion import read_robot_motion
    from videomimic_offline.egoview.camera import head_camera_poses, intrinsics
    from videomimic_offline.egoview.render import render_frames, write_egoview
    from videomimic_offline.egoview.scene import load_scene

    if not Path(cfg.robot_motion).is_file():
        raise InputError(f"{cfg.robot_motion} not found: run `retarget` first (it writes robot_motion.npz)")
    if not Path(cfg.recon).is_dir():
        raise InputError(f"{cfg.recon} is not a reconstruction folder: run `reconstruct VIDEO OUT` first")
    video = cfg.video if cfg.video is not None else _video_of(cfg.recon)
    if video is not None and not Path(video).is_file():
        raise InputError(f"video {video} not found: pass the clip the scene was reconstructed from with --video")
    key = artifacts.hash_inputs(settings.cache_key(cfg), video)
    out = Path(cfg.out)
    if artifacts.stage_done(out, key):
        return out
    motion = read_robot_motion(cfg.robot_motion)
    times, poses = head_camera_poses(motion, cfg.fps)
    K = intrinsics(cfg.width, cfg.height)
    scene = load_scene(cfg.recon, video, cfg.max_triangles, cfg.keyframes)
    if len(scene.faces) == 0:
        raise InputError(f"{cfg.recon} holds no scene geometry (no scene_mesh.ply, heightfield or solids)")
    depth_range = g1.HEAD_CAMERA_DEPTH_RANGE_M
    with Progress(transient=True, disable=not cfg.progress) as bar:
        task = bar.add_task("ego view", total=len(poses))
        frames = render_frames(scene, K, (cfg.width, cfg.height), times, poses, depth_range,
                               progress=lambda n: bar.advance(task, n))  # fmt: skip
    with artifacts.atomic_dir(out) as tmp:
        write_egoview(tmp, frames, depth_range, cfg.fps, cfg.rgb_in_npz)
        fps_render = len(poses) / max(frames.render_s, 1e-9)
        info = {
            "frames": len(poses),
            "image_size": [cfg.width, cfg.height],
            "scene_geometry": scene.geometry,
            "scene_triangles_rendered": int(len(scene.faces)),
            "scene_coloured_fraction": round(scene.seen_fraction, 4),
            "valid_fraction": round(float(frames.valid.mean()), 4),
            "render_fps": round(fps_render, 1),
            "video": str(video) if video else None,
        }
        artifacts.write_json(tmp / "info.json", info)
        settings.save_resolved(cfg, tmp / "config.json")
        artifacts.mark_stage(tmp, "egoview", key)
    return out


@run_tool
def main(argv: Sequence[str] | None = None) -> int:
    cfg = settings.parse_cli(EgoviewConfig, argv, prog="render_egoview", description=__doc__.split("\n\n")[0])
    started = time.time()
    out = render_egoview(cfg)
    info = artifacts.read_json(out / "info.json")
    fresh = (out / "info.json").stat().st_mtime >= started - 1.0
    finished(
        "render_egoview",
        f"{'wrote' if fresh else 'reused (same motion, scene and settings)'} {out}: {info['frames']} frames "
        f"{info['image_size'][0]}x{info['image_size'][1]} at {cfg.fps:g} fps",
        f"{100 * info['valid_fraction']:.0f} % of the pixels have depth (the rest: no reconstructed surface or out "
        f"of range); scene from {info['scene_geometry']}"
        + (f", rendered at {info['render_fps']:.0f} fps" if fresh else ""),
        look=[out / "egoview.mp4", out / "egoview.npz"],
    )
    return 0
