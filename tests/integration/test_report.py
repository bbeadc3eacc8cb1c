"""The run report: built from real artifacts (a rosbag2 MCAP, a PNG, an MP4) and rendered in
headless Chromium, where it must load with all its images and no console errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from videomimic_offline.contracts.report_inputs import ReportInputs
from videomimic_offline.report import deploy_plots, write_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _bag(path: Path) -> Path:
    """A 2 s deploy-like bag at 50 Hz: LowState, LowCmd, heightmap and bridge state."""
    from rosbags.rosbag2 import StoragePlugin, Writer
    from videomimic_offline.bag_types import interface_typestore

    store = interface_typestore()
    M = store.types
    lowcmd_t, lowstate_t = "unitree_hg/msg/LowCmd", "unitree_hg/msg/LowState"
    with Writer(path, version=9, storage_plugin=StoragePlugin.MCAP) as w:
        conns = {t: w.add_connection(t, ty, typestore=store) for t, ty in [
            ("/lowstate", lowstate_t), ("/lowcmd", lowcmd_t), ("/vm/heightmap", "std_msgs/msg/Float32MultiArray"),
            ("/vm/bridge_state", "std_msgs/msg/String")]}  # fmt: skip
        Header = M["std_msgs/msg/MultiArrayLayout"]
        for k in range(100):
            t = 1_000_000_000 + k * 20_000_000
            q = 0.3 * np.sin(k / 10)
            motors = [M["unitree_hg/msg/MotorState"](mode=1, q=q, dq=0.0, ddq=0.0, tau_est=0.0,
                      temperature=np.zeros(2, np.int16), vol=48.0, sensor=np.zeros(2, np.uint32), motorstate=0,
                      reserve=np.zeros(4, np.uint32)) for _ in range(35)]  # fmt: skip
            imu = M["unitree_hg/msg/IMUState"](quaternion=np.array([1, 0, 0, 0], np.float32), gyroscope=np.zeros(3, np.float32),
                                               accelerometer=np.zeros(3, np.float32), rpy=np.zeros(3, np.float32), temperature=30)  # fmt: skip
            ls = M[lowstate_t](version=np.zeros(2, np.uint32), mode_pr=0, mode_machine=0, tick=k, imu_state=imu,
                               motor_state=motors, wireless_remote=np.zeros(40, np.uint8), reserve=np.zeros(4, np.uint32), crc=0)  # fmt: skip
            w.write(conns["/lowstate"], t, store.serialize_cdr(ls, lowstate_t))
            cmds = [M["unitree_hg/msg/MotorCmd"](mode=1, q=q + 0.01, dq=0.0, tau=0.0, kp=75.0 if k > 20 else 0.0, kd=2.0, reserve=0)
                    for _ in range(35)]  # fmt: skip
            lc = M[lowcmd_t](mode_pr=0, mode_machine=0, motor_cmd=cmds, reserve=np.zeros(4, np.uint32), crc=0)
            w.write(conns["/lowcmd"], t + 1_500_000, store.serialize_cdr(lc, lowcmd_t))
            hm = M["std_msgs/msg/Float32MultiArray"](layout=Header(dim=[], data_offset=0),
                                                     data=np.full(121, 0.75, np.float32))  # fmt: skip
            w.write(conns["/vm/heightmap"], t, store.serialize_cdr(hm, "std_msgs/msg/Float32MultiArray"))
            state = "damping" if k < 20 else "stand" if k < 60 else "policy"
            w.write(
                conns["/vm/bridge_state"],
                t,
                store.serialize_cdr(M["std_msgs/msg/String"](data=state), "std_msgs/msg/String"),
            )
    return path


def _recon(folder: Path) -> Path:
    import av
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True)
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    fig.savefig(folder / "scene_snapshot.png")
    plt.close(fig)
    with av.open(str(folder / "overlay.mp4"), "w") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(10):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), i * 20, np.uint8), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return folder


def test_deploy_plots_read_the_bag(tmp_path: Path) -> None:
    assets = tmp_path / "assets"
    assets.mkdir()
    figs, stats = deploy_plots(_bag(tmp_path / "bag"), assets)
    assert {cap for _, cap in figs} >= {"Commanded vs measured joints", "Control latency", "Bridge state machine"}
    assert stats["topics"]["/lowcmd"] == 100 and stats["topics"]["/lowstate"] == 100
    assert stats["lowstate_to_lowcmd_ms_p50"] == pytest.approx(1.5, abs=0.01)
    for rel, _ in figs:
        assert (tmp_path / rel).stat().st_size > 1000


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is installed by setup (apt package chromium)")
def test_report_renders_in_headless_chromium(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    out = tmp_path / "run"
    arts = {"recon": _recon(out / "recon"), "bag": _bag(tmp_path / "bag")}
    page_path = write_report(ReportInputs(out, {}, arts, {"retarget": {"verdict": "usable"}}))
    assert page_path == out / "report" / "index.html"
    assert not list(out.glob(".report.partial-*"))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu",
                                    "--disable-background-networking", "--disable-component-update", "--no-first-run"])  # fmt: skip
        try:
            page = browser.new_page()
            problems: list[str] = []
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on("requestfailed", lambda r: problems.append(f"failed: {r.url}"))
            page.goto(page_path.as_uri(), wait_until="load")
            images = page.evaluate(
                "[...document.images].map(i => [i.getAttribute('src'), i.complete && i.naturalWidth > 0])"
            )
            videos = page.evaluate("[...document.querySelectorAll('video')].map(v => v.getAttribute('src'))")
            page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        finally:
            browser.close()
    assert problems == []
    assert len(images) >= 4 and all(ok for _, ok in images), images
    assert videos and all((page_path.parent / v).is_file() for v in videos)
    assert "Deployment in simulation" in page_path.read_text()
