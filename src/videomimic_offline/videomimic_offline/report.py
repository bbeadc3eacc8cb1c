"""The main job's report: one self-contained HTML page (plus PNG/MP4 assets beside it).

It shows what numbers cannot: the input video with the reprojected body, the reconstructed scene
and trajectory, the human next to the retargeted G1, the training curves, and — from the deploy
run's rosbag — commanded vs measured joints, the heightmap the policy saw, the bridge state and
the control latency. Missing pieces are listed as missing, never drawn as placeholders.
"""

from __future__ import annotations

import html
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from videomimic_offline.contracts.report_inputs import ReportInputs

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


def read_bag(bag: Path) -> dict[str, list[tuple[int, Any]]]:
    """Messages per topic as (receive time ns, message), using the workspace's message types."""
    from rosbags.highlevel import AnyReader

    from videomimic_offline.bag_types import interface_typestore

    out: dict[str, list[tuple[int, Any]]] = {}
    with AnyReader([Path(bag)], default_typestore=interface_typestore()) as reader:
        for conn, t_ns, raw in reader.messages():
            out.setdefault(conn.topic, []).append((t_ns, reader.deserialize(raw, conn.msgtype)))
    return out


def deploy_plots(bag: Path, assets: Path) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    """PNG plots of a deploy run; returns (relative path, caption) pairs and summary numbers."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from videomimic_offline.robot import g1

    msgs = read_bag(bag)
    figs: list[tuple[str, str]] = []
    stats: dict[str, Any] = {"topics": {t: len(v) for t, v in msgs.items()}}
    cmd, state = msgs.get("/lowcmd", []), msgs.get("/lowstate", [])
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
    heights = msgs.get("/vm/heightmap", [])
    if heights:
        shape = g1.HEIGHTMAP_SHAPE
        last = np.asarray(heights[-1][1].data, dtype=float).reshape(shape)
        fig, ax = plt.subplots(figsize=(4, 4))
        im = ax.imshow(last, origin="lower", cmap="terrain")
        fig.colorbar(im, ax=ax, label="torso height above ground [m]")
        ax.set_title("policy heightmap (last)")
        figs.append((_save(fig, assets / "deploy_heightmap.png"), "The 11×11 heightmap the policy saw last"))
    states = msgs.get("/vm/bridge_state", [])
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


def _save(fig, path: Path) -> str:  # noqa: ANN001 - matplotlib figure
    import matplotlib.pyplot as plt

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
        items = [_media(_copy(p, assets), p.stem.replace("_", " ")) for p in _find(recon, ("overlay*.mp4", "*.png"))]
        sections.append(("Input video and reconstruction", items,
                         "The input with the reprojected body, and the reconstructed scene with the camera path and trajectory."))  # fmt: skip

        robot = artifacts.get("robot_motion")
        items = [
            _media(_copy(p, assets), p.stem.replace("_", " "))
            for p in _find(robot.parent if robot else None, ("*.mp4", "*.png"))
        ]
        sections.append(("Human vs G1 (retargeted)", items, _summary(info.get("retarget", {}))))

        train = artifacts.get("policy")
        items = [
            _media(_copy(p, assets), p.stem.replace("_", " "))
            for p in _find(out / "train", ("*curve*.png", "*training*.png"))
        ]
        sections.append(("Training curves", items, f"exported student: {train}" if train else ""))

        items, stats = [], {}
        if artifacts.get("bag"):
            figs, stats = deploy_plots(Path(artifacts["bag"]), assets)
            items = [_media(rel, cap) for rel, cap in figs]
        sections.append(("Deployment in simulation (from the rosbag)", items, _summary(stats)))

        body = []
        for title, items, note in sections:
            content = "".join(items) if items else '<p class="missing">not produced in this run</p>'
            body.append(f"<section><h2>{html.escape(title)}</h2><p>{html.escape(note)}</p>{content}</section>")
        page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>VideoMimic run report</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}}
figure{{display:inline-block;margin:.5em;vertical-align:top}} img,video{{max-width:520px;border:1px solid #ccc}}
figcaption{{font-size:.85em;color:#555}} .missing{{color:#a60}}</style></head>
<body><h1>VideoMimic run report</h1>
<p>Output folder: {html.escape(str(out))}</p>
{"".join(body)}
</body></html>
"""
        (tmp / "index.html").write_text(page)
    return final / "index.html"
