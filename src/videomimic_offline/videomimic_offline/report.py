"""The main job's report: one HTML page (plus PNG/MP4/HTML assets beside it) that opens from
``file://`` with no server.

It shows what numbers cannot: the input video with the fitted body mesh overlaid; an interactive 3D view
(viser's static export, embedded as a page of its own) of the reconstructed scene coloured by
source, the camera path, and the human and the G1 on one timeline; the human next to the
retargeted G1; the G1 head camera's RGB-D view; the training curves; and, from the main job's own
deploy rosbag, a video of the simulated robot with the heightmap it saw, the heightmap over time,
commanded vs measured joints, the bridge state and the control latency. Missing pieces are listed
as missing, never drawn as placeholders.
"""

from __future__ import annotations

import html
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from videomimic_offline.contracts.report_inputs import ReportInputs
from videomimic_offline.topics import TOPICS

REPORT_DIR = "report"


def _copy(src: Path, assets: Path) -> str:
    """Copy ``src`` into the assets folder; return its path relative to the report page."""
    dst = assets / f"{src.parent.name}_{src.name}"
    shutil.copy2(src, dst)
    return f"assets/{dst.name}"


def _media(rel: str, caption: str) -> str:
    tag = (f'<video controls muted loop playsinline src="{rel}"></video>' if rel.endswith(".mp4")
           else f'<img src="{rel}" alt="{html.escape(caption)}">')  # fmt: skip
    return f"<figure>{tag}<figcaption>{html.escape(caption)}</figcaption></figure>"


def _find(folder: Path | None, patterns: tuple[str, ...]) -> list[Path]:
    if folder is None or not Path(folder).is_dir():
        return []
    found: list[Path] = []
    for pat in patterns:
        found += sorted(p for p in Path(folder).glob(pat) if ".partial" not in str(p) and p not in found)
    return found  # top level only: the deliverables, not per-stage debug images


# ------------------------------------------------------------------------------- bag plots


#: Topics the report reads from a deploy bag (the point clouds and gamepad are left out: cost, no plot).
REPORT_TOPICS = tuple(TOPICS[k] for k in ("lowcmd", "lowstate", "heightmap", "bridge_state", "odom", "events"))


def read_bag(bag: Path, topics: tuple[str, ...] | None = None) -> dict[str, list[tuple[int, Any]]]:
    """Messages per topic as (receive time ns, message), using the workspace's message types."""
    from rosbags.highlevel import AnyReader

    from videomimic_offline.bag_types import interface_typestore

    out: dict[str, list[tuple[int, Any]]] = {}
    with AnyReader([Path(bag)], default_typestore=interface_typestore()) as reader:
        conns = [c for c in reader.connections if topics is None or c.topic in topics]
        for conn, t_ns, raw in reader.messages(connections=conns):
            out.setdefault(conn.topic, []).append((t_ns, reader.deserialize(raw, conn.msgtype)))
    return out


def deploy_plots(bag: Path, assets: Path, msgs: dict[str, list[tuple[int, Any]]] | None = None,
                 scene: Path | None = None) -> tuple[list[tuple[str, str]], dict[str, Any]]:  # fmt: skip
    """PNG plots of a deploy run; returns (relative path, caption) pairs and summary numbers.

    ``scene``: the heightfield the run used (default: the one the bag names); the robot's path
    (``/vm/odom``, the scene's frame) is drawn over it from above.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from videomimic_offline.robot import g1

    msgs = read_bag(bag) if msgs is None else msgs
    figs: list[tuple[str, str]] = []
    stats: dict[str, Any] = {"topics": {t: len(v) for t, v in msgs.items()}}
    cmd, state = msgs.get(TOPICS["lowcmd"], []), msgs.get(TOPICS["lowstate"], [])
    if cmd and state:
        t0 = min(cmd[0][0], state[0][0])
        joints = [0, 3, 4, 15]  # left hip pitch, knee, ankle pitch, shoulder pitch
        fig, axes = plt.subplots(len(joints), 1, figsize=(9, 7), sharex=True)
        for ax, j in zip(axes, joints, strict=True):
            armed = [(t, m.motor_cmd[j].q) for t, m in cmd if m.motor_cmd[j].kp > 0]
            ax.plot([(t - t0) / 1e9 for t, _ in state], [m.motor_state[j].q for _, m in state], label="measured")
            if armed:
                ax.plot([(t - t0) / 1e9 for t, _ in armed], [q for _, q in armed], ".", ms=2, label="commanded (kp>0)")
            ax.set_ylabel(g1.JOINT_NAMES_29[j].replace("_joint", ""), fontsize=8)
        axes[0].legend(loc="upper right", fontsize=8)
        axes[-1].set_xlabel("time [s]")
        fig.suptitle("commanded vs measured joint positions [rad]")
        figs.append((_save(fig, assets / "deploy_joints.png"), "Commanded vs measured joints"))
        # Latency: each LowCmd's receive time minus the newest LowState received before it.
        ts = np.array([t for t, _ in state])
        lat = [(t - ts[i - 1]) / 1e6 for t, _ in cmd if (i := np.searchsorted(ts, t)) > 0]
        if lat:
            stats["lowstate_to_lowcmd_ms_p50"] = float(np.percentile(lat, 50))
            stats["lowstate_to_lowcmd_ms_p99"] = float(np.percentile(lat, 99))
            fig, ax = plt.subplots(figsize=(9, 3))
            ax.hist(lat, bins=50)
            ax.set_xlabel("LowState → next LowCmd [ms] (bag receive times)")
            figs.append((_save(fig, assets / "deploy_latency.png"), "Control latency"))
    heights = msgs.get(TOPICS["heightmap"], [])
    if heights:
        shape = g1.HEIGHTMAP_SHAPE
        t0 = heights[0][0]
        grid = np.array([np.asarray(m.data, dtype=float).reshape(shape) for _, m in heights])
        ts = [(t - t0) / 1e9 for t, _ in heights]
        # Over time: each cell of the centre row (left -> right, along the robot's lateral axis) and
        # of the centre column (behind -> ahead), as images with time along x.
        fig, axes = plt.subplots(2, 1, figsize=(9, 4.5), sharex=True)
        c = shape[0] // 2
        for ax, img, label in (
            (axes[0], grid[:, :, c].T, "behind -> ahead"),
            (axes[1], grid[:, c, :].T, "right -> left"),
        ):
            im = ax.imshow(
                img, aspect="auto", origin="lower", cmap="viridis", extent=(ts[0], ts[-1], -0.5, shape[0] - 0.5)
            )
            ax.set_ylabel(label, fontsize=8)
        fig.colorbar(im, ax=axes, label="torso height above cell [m]")
        axes[-1].set_xlabel("time [s]")
        fig.suptitle("11 x 11 policy heightmap over time (centre column and centre row)")
        figs.append((_save(fig, assets / "deploy_heightmap_time.png", tight=False), "The 11×11 heightmap over time"))
        stats["heightmap_messages"] = len(heights)
    odom = msgs.get(TOPICS["odom"], [])
    scene = scene if scene is not None else _bag_scene(bag)
    if odom and scene is not None:
        from videomimic_offline.contracts.heightfield import read_heightfield

        field = read_heightfield(scene)
        xy = np.array([[m.pose.pose.position.x, m.pose.pose.position.y] for _, m in odom])
        stats["odom_on_known_terrain"] = float(field.known_at(xy).mean())
        fig, ax = plt.subplots(figsize=(7, 6))
        ex, ey = field.extent
        x0, y0 = field.origin_xy - field.resolution / 2
        im = ax.imshow(np.where(field.known, field.heights, np.nan), origin="lower", cmap="terrain",
                       extent=(x0, x0 + ex + field.resolution, y0, y0 + ey + field.resolution))  # fmt: skip
        fig.colorbar(im, ax=ax, label="ground height [m] (blank: not scanned)")
        ax.plot(xy[:, 0], xy[:, 1], "k-", lw=1.5)
        ax.plot(*xy[0], "go", ms=8, label="start (spawn)")
        ax.plot(*xy[-1], "rx", ms=9, mew=2, label="end")
        ax.set_xlabel("x [m] (scene frame)")
        ax.set_ylabel("y [m]")
        ax.set_aspect("equal")
        ax.legend(loc="upper right", fontsize=8)
        figs.append(
            (_save(fig, assets / "deploy_path.png"), "The robot's path (torso, /vm/odom) over the scene, from above")
        )
    states = msgs.get(TOPICS["bridge_state"], [])
    if states:
        t0 = states[0][0]
        names = ["damping", "stand", "policy", "estop"]
        fig, ax = plt.subplots(figsize=(9, 2.5))
        ax.step([(t - t0) / 1e9 for t, _ in states], [names.index(m.data) if m.data in names else -1 for _, m in states],
                where="post")  # fmt: skip
        ax.set_yticks(range(len(names)), names)
        ax.set_xlabel("time [s]")
        figs.append((_save(fig, assets / "deploy_bridge_state.png"), "Bridge state machine"))
    return figs, stats


def _save(fig, path: Path, tight: bool = True) -> str:  # noqa: ANN001 - matplotlib figure
    import matplotlib.pyplot as plt

    if tight:
        fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return f"assets/{path.name}"


# -------------------------------------------------------------------------------- the page


def _summary(figures: Mapping[str, Any]) -> str:
    """Scalar figures as one readable line (nested per-joint tables are left to the JSON files)."""
    parts = []
    for key, value in figures.items():
        if isinstance(value, float):
            parts.append(f"{key} {value:.3g}")
        elif isinstance(value, (int, str, bool)):
            parts.append(f"{key} {value}")
        elif isinstance(value, Mapping) and all(isinstance(v, int) for v in value.values()):
            parts.append(f"{key}: " + ", ".join(f"{k} {v}" for k, v in value.items()))
    return "; ".join(parts)


def _scene3d(recon: Path | None, robot_motion: Path | None, assets: Path) -> tuple[list[str], str]:
    """The embedded 3D view (viser's static export as a page of its own, in an iframe) and its note."""
    if recon is None or not (Path(recon) / "motion.npz").is_file():
        return [], ""
    from videomimic_offline.viz.scene3d import SOURCE_COLOURS, build_scene_html

    page, legend = build_scene_html(Path(recon), robot_motion)
    (assets / "scene3d.html").write_text(page)
    swatches = "".join(
        f'<span class="swatch" style="background:rgb{rgb}"></span>{html.escape(name)} '
        for rgb, name in SOURCE_COLOURS.values()
        if name in legend
    )
    frame = ('<figure class="wide"><iframe id="scene3d" src="assets/scene3d.html" title="3D view"></iframe>'
             f"<figcaption>scene by source: {swatches} — camera path and frustum (black), "
             "human (skin colour, translucent) and G1 (grey) on one timeline: play, pause, scrub below the view; "
             "drag to orbit, scroll to zoom</figcaption></figure>")  # fmt: skip
    return [frame], "Reconstructed scene, camera path, human and G1 together; the timeline plays at the video's rate."


def write_report(inputs: ReportInputs) -> Path:
    """Write ``<run>/report/index.html`` (+ ``assets/``) from a run's record (``main_job.json``); returns its path."""
    from videomimic_offline.artifacts import atomic_dir

    out, artifacts, info = Path(inputs.out), inputs.artifacts, inputs.info
    final = out / REPORT_DIR
    with atomic_dir(final) as tmp:
        assets = tmp / "assets"
        assets.mkdir()
        sections: list[tuple[str, list[str], str]] = []

        recon = artifacts.get("recon")
        items = [
            _media(_copy(p, assets), "the fitted body (the body model's mesh, posed by the fitted motion) through "
                   "each frame's reconstructed camera; contact-derived solids (floor, steps, seat) in orange")
            for p in _find(recon, ("overlay*.mp4",))
        ]  # fmt: skip
        sections.append(("Input video and reconstruction", items,
                         "Where the body sits on the person, keypoints, metric scale, cameras and fit agree."))  # fmt: skip

        robot = artifacts.get("robot_motion")
        items, note = _scene3d(Path(recon) if recon else None, Path(robot) if robot else None, assets)
        sections.append(("Interactive 3D view", items, note))

        items = [
            _media(
                _copy(p, assets),
                "the person (orange) and the retargeted G1 (grey) side by side, 30 fps; scene in front of them cut away",
            )
            for p in _find(robot.parent if robot else None, ("*.mp4",))
        ]
        sections.append(("Human vs G1 (retargeted)", items, _summary(info.get("retarget", {}))))

        ego = artifacts.get("egoview")
        items = [
            _media(_copy(p, assets), "G1 head camera (RealSense D435, 640×480): RGB from the video | metric depth")
            for p in _find(ego, ("egoview.mp4",))
        ]
        sections.append(("Ego view: what the G1's head camera would see", items, _summary(info.get("egoview", {}))))

        train = artifacts.get("policy")
        items = [
            _media(_copy(p, assets), p.stem.replace("_", " "))
            for p in _find(out / "train", ("*curve*.png", "*training*.png"))
        ]
        sections.append(("Training curves", items, f"exported student: {train}" if train else ""))

        items, stats = [], {}
        if artifacts.get("bag"):
            bag = Path(artifacts["bag"])
            msgs = read_bag(bag, REPORT_TOPICS)
            from videomimic_offline.viz.deploy_video import render_deploy_video

            scene = _bag_scene(bag)
            video = render_deploy_video(msgs, scene, assets / "deploy_run.mp4")
            if video is not None:
                items.append(_media(f"assets/{video.name}", "the simulated G1 from the bag (odometry + joint states), "
                                    "with the heightmap it saw and the bridge state"))  # fmt: skip
            figs, stats = deploy_plots(bag, assets, msgs, scene)
            items += [_media(rel, cap) for rel, cap in figs]
            stats = {"bag": bag.name, **stats}
        sections.append(("Deployment in simulation (from the rosbag)", items, _summary(stats)))

        body = []
        for title, items, note in sections:
            content = "".join(items) if items else '<p class="missing">not produced in this run</p>'
            body.append(f"<section><h2>{html.escape(title)}</h2><p>{html.escape(note)}</p>{content}</section>")
        page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>VideoMimic run report</title>
<style>body{{font-family:system-ui,sans-serif;max-width:1240px;margin:2em auto;color:#222;padding:0 1em}}
section{{margin-bottom:2.5em}} figure{{display:inline-block;margin:.5em;vertical-align:top}}
img,video{{max-width:min(100%,960px);border:1px solid #ccc}} figure.wide{{display:block}}
iframe{{width:100%;height:620px;border:1px solid #ccc}} video.wide{{max-width:100%}}
figcaption{{font-size:.85em;color:#555;max-width:1200px}} .missing{{color:#a60}}
.swatch{{display:inline-block;width:.9em;height:.9em;margin:0 .3em 0 .6em;vertical-align:middle;border:1px solid #888}}</style>
</head>
<body><h1>VideoMimic run report</h1>
<p>Output folder: {html.escape(str(out))}</p>
{"".join(body)}
</body></html>
"""
        (tmp / "index.html").write_text(page)
    return final / "index.html"


def _bag_scene(bag: Path) -> Path | None:
    """The heightfield a deploy run used, from its bag's metadata (None for a flat floor)."""
    import yaml

    meta = Path(bag) / "metadata.yaml"
    if not meta.is_file():
        return None
    info = yaml.safe_load(meta.read_text()).get("rosbag2_bagfile_information", {})
    scene = (info.get("custom_data") or {}).get("scene")
    return Path(scene) if scene and Path(scene).is_file() else None
