"""The run report: built from real artifacts (a rosbag2 MCAP, generated reconstruction and robot
motion, the ego view rendered from them) and opened from file:// in headless Chromium, where it
must load every image and video with no console error, and its 3D view must play and show something."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from videomimic_offline.contracts.report_inputs import ReportInputs
from videomimic_offline.report import deploy_plots, write_report
from videomimic_offline.topics import TOPICS

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _bag(path: Path) -> Path:
    """A 2 s deploy-like bag at 50 Hz: LowState, LowCmd, heightmap and bridge state."""
    from rosbags.rosbag2 import StoragePlugin, Writer
    from videomimic_offline.bag_types import interface_typestore

    store = interface_typestore()
    M = store.types
    lowcmd_t, lowstate_t = "unitree_hg/msg/LowCmd", "unitree_hg/msg/LowState"
    with Writer(path, version=9, storage_plugin=StoragePlugin.MCAP) as w:
        conns = {TOPICS[k]: w.add_connection(TOPICS[k], ty, typestore=store) for k, ty in [
            ("lowstate", lowstate_t), ("lowcmd", lowcmd_t), ("heightmap", "std_msgs/msg/Float32MultiArray"),
            ("bridge_state", "std_msgs/msg/String"), ("odom", "nav_msgs/msg/Odometry")]}  # fmt: skip
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
            w.write(conns[TOPICS["lowstate"]], t, store.serialize_cdr(ls, lowstate_t))
            cmds = [M["unitree_hg/msg/MotorCmd"](mode=1, q=q + 0.01, dq=0.0, tau=0.0, kp=75.0 if k > 20 else 0.0, kd=2.0, reserve=0)
                    for _ in range(35)]  # fmt: skip
            lc = M[lowcmd_t](mode_pr=0, mode_machine=0, motor_cmd=cmds, reserve=np.zeros(4, np.uint32), crc=0)
            w.write(conns[TOPICS["lowcmd"]], t + 1_500_000, store.serialize_cdr(lc, lowcmd_t))
            hm = M["std_msgs/msg/Float32MultiArray"](layout=Header(dim=[], data_offset=0),
                                                     data=np.full(121, 0.75, np.float32))  # fmt: skip
            w.write(conns[TOPICS["heightmap"]], t, store.serialize_cdr(hm, "std_msgs/msg/Float32MultiArray"))
            if k % 2 == 0:
                odom = M["nav_msgs/msg/Odometry"](
                    header=M["std_msgs/msg/Header"](stamp=M["builtin_interfaces/msg/Time"](sec=1, nanosec=0), frame_id="odom"),
                    child_frame_id="pelvis",
                    pose=M["geometry_msgs/msg/PoseWithCovariance"](pose=M["geometry_msgs/msg/Pose"](
                        position=M["geometry_msgs/msg/Point"](x=0.01 * k, y=0.0, z=0.78),
                        orientation=M["geometry_msgs/msg/Quaternion"](x=0.0, y=0.0, z=0.0, w=1.0)),
                        covariance=np.zeros(36)),
                    twist=M["geometry_msgs/msg/TwistWithCovariance"](twist=M["geometry_msgs/msg/Twist"](
                        linear=M["geometry_msgs/msg/Vector3"](x=0.0, y=0.0, z=0.0),
                        angular=M["geometry_msgs/msg/Vector3"](x=0.0, y=0.0, z=0.0)), covariance=np.zeros(36)),
                )  # fmt: skip
                w.write(conns[TOPICS["odom"]], t, store.serialize_cdr(odom, "nav_msgs/msg/Odometry"))
            state = "damping" if k < 20 else "stand" if k < 60 else "policy"
            w.write(
                conns[TOPICS["bridge_state"]],
                t,
                store.serialize_cdr(M["std_msgs/msg/String"](data=state), "std_msgs/msg/String"),
            )
    return path


def _recon(folder: Path) -> Path:
    """A reconstruction folder as real2sim writes it: a person walking 1 m along +x over a floor
    with a box, filmed by a camera 3 m to the side, the overlay video, SfM points, a scene mesh."""
    import av
    from videomimic_offline.artifacts import write_npz
    from videomimic_offline.body.model import BodyShape, build_body
    from videomimic_offline.body.skeleton import HUMAN_JOINTS
    from videomimic_offline.egoview.scene import box_mesh
    from videomimic_offline.real2sim.scene import write_ply

    folder.mkdir(parents=True)
    T, fps = 30, 30.0
    body = build_body(BodyShape(height_m=1.7))
    joints = body.joints_rest[None] + np.stack([np.linspace(0, 1, T), np.zeros(T), np.zeros(T)], 1)[:, None]
    write_npz(folder / "motion.npz", schema="videomimic.human_motion", version=1, fps=np.array(fps),
              joint_names=np.array(HUMAN_JOINTS), joints_w=joints.astype(np.float32),
              root_pos_w=joints[:, 0].astype(np.float32), root_quat_w=np.tile([1.0, 0, 0, 0], (T, 1)),
              contacts=np.ones((T, 2), bool), height_m=np.array(1.7),
              joint_rot_w=np.tile([1.0, 0, 0, 0], (T, len(body.joints_rest), 1)).astype(np.float32),
              rest_joints=body.joints_rest.astype(np.float32))  # fmt: skip
    Twc = np.tile(np.eye(4), (T, 1, 1))
    Twc[:, :3, :3] = [[1, 0, 0], [0, 0, 1], [0, -1, 0]]  # looking along +y, x right, y down
    Twc[:, :3, 3] = np.stack([np.linspace(0, 1, T), np.full(T, -3.0), np.full(T, 1.2)], 1)
    K = np.array([[400.0, 0, 159.5], [0, 400.0, 119.5], [0, 0, 1]])
    write_npz(folder / "cameras.npz", schema="videomimic.cameras", version=1, K=np.tile(K, (T, 1, 1)),
              T_world_cam=Twc, image_size=np.array([320, 240]), fps=np.array(fps))  # fmt: skip
    floor_v, floor_f = box_mesh((0.5, 0.0, -0.05), (4.0, 4.0, 0.1), 0.0, step=0.25)
    box_v, box_f = box_mesh((1.5, 0.8, 0.2), (0.5, 0.5, 0.4), 0.3, step=0.1)
    write_ply(
        folder / "scene_mesh.ply", np.concatenate([floor_v, box_v]), np.concatenate([floor_f, box_f + len(floor_v)])
    )
    (folder / "stages" / "scene").mkdir(parents=True)
    np.save(folder / "stages" / "scene" / "scene_points.npy", np.random.default_rng(0).uniform(-1, 2, (300, 3)))
    with av.open(str(folder / "overlay.mp4"), "w") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(10):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), i * 20, np.uint8), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return folder


def _robot_motion(path: Path) -> Path:
    """The G1 standing in its default pose, walking 1 m along +x in 0.6 s (50 fps)."""
    from videomimic_offline.contracts.robot_motion import from_qpos, write_robot_motion
    from videomimic_offline.robot import g1
    from videomimic_offline.robot.model import g1_model, joint_qpos_indices

    m = g1_model("29dof", actuators=False)
    qpos = np.zeros((30, m.nq))
    qpos[:, :3] = [0.0, 0.0, g1.DEFAULT_PELVIS_HEIGHT]
    qpos[:, 0] = np.linspace(0.0, 1.0, 30)
    qpos[:, 3] = 1.0
    qpos[:, joint_qpos_indices(m, tuple(g1.DEFAULT_POSE))] = list(g1.DEFAULT_POSE.values())
    write_robot_motion(path, from_qpos(qpos, 50.0, np.ones((30, 2), bool)))
    return path


def test_deploy_plots_read_the_bag(tmp_path: Path) -> None:
    assets = tmp_path / "assets"
    assets.mkdir()
    figs, stats = deploy_plots(_bag(tmp_path / "bag"), assets)
    assert {cap for _, cap in figs} >= {"Commanded vs measured joints", "Control latency", "Bridge state machine"}
    assert stats["topics"][TOPICS["lowcmd"]] == 100 and stats["topics"][TOPICS["lowstate"]] == 100
    assert stats["lowstate_to_lowcmd_ms_p50"] == pytest.approx(1.5, abs=0.01)
    for rel, _ in figs:
        assert (tmp_path / rel).stat().st_size > 1000


def _until_changed(page, clock, value: float, timeout_s: float = 90.0) -> float:  # noqa: ANN001 - playwright
    """Poll the 3D view's clock until it shows something other than ``value`` (the page may be slow)."""
    for _ in range(int(timeout_s / 0.25)):
        now = float(clock.input_value(timeout=120_000))
        if now != value:
            return now
        page.wait_for_timeout(250)
    return value


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is installed by setup (apt package chromium)")
def test_report_renders_in_headless_chromium(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright
    from videomimic_offline.egoview.tool import EgoviewConfig, render_egoview
    from videomimic_offline.retarget.terrain import flat
    from videomimic_offline.retarget.video import render_side_by_side

    out = tmp_path / "run"
    recon = _recon(out / "recon")
    (out / "robot").mkdir()
    motion = _robot_motion(out / "robot" / "robot_motion.npz")
    from videomimic_offline.contracts.robot_motion import from_qpos, read_robot_motion

    rm = read_robot_motion(motion)
    qpos = np.concatenate([rm.body_pos_w[:, 0], rm.body_quat_w[:, 0], rm.joint_pos], axis=1)
    human = np.load(recon / "motion.npz")["joints_w"]
    render_side_by_side(out / "robot" / "retarget.mp4", human, from_qpos(qpos, 50.0, rm.contacts), flat(),
                        size=(480, 270))  # fmt: skip
    ego = render_egoview(EgoviewConfig(robot_motion=motion, recon=recon, out=out / "egoview", width=160, height=120,
                                       progress=False))  # fmt: skip
    arts = {"recon": recon, "robot_motion": motion, "egoview": ego, "bag": _bag(tmp_path / "bag")}
    page_path = write_report(ReportInputs(out, {}, arts, {"retarget": {"verdict": "usable"}}))
    assert page_path == out / "report" / "index.html"
    assert not list(out.glob(".report.partial-*"))
    shot = tmp_path / "scene3d.png"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-background-networking",
                                    "--disable-component-update", "--no-first-run"])  # fmt: skip
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 760})
            problems: list[str] = []
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on("requestfailed", lambda r: problems.append(f"failed: {r.url}"))
            page.goto(page_path.as_uri(), wait_until="load")
            images = page.evaluate(
                "[...document.images].map(i => [i.getAttribute('src'), i.complete && i.naturalWidth > 0])"
            )
            # Every video must decode: readyState >= 2 (HAVE_CURRENT_DATA) and no media error.
            page.wait_for_function(
                "[...document.querySelectorAll('video')].every(v => v.readyState >= 2 || v.error)", timeout=60_000
            )
            videos = page.evaluate(
                "[...document.querySelectorAll('video')].map(v => [v.getAttribute('src'), v.readyState, !!v.error,"
                " v.videoWidth])"
            )
            # The 3D view: its timeline plays (time advances), pauses (time holds) and plays again.
            frame = page.frame_locator("#scene3d")
            clock = frame.locator("input.mantine-NumberInput-input")
            clock.wait_for(timeout=90_000)
            t0 = float(clock.input_value(timeout=120_000))
            t1 = _until_changed(page, clock, t0)  # it plays
            play_pause = frame.locator("button.mantine-ActionIcon-root").first
            play_pause.dispatch_event("click")  # the software-WebGL page is too busy for a hover-checked click
            page.wait_for_timeout(500)
            paused_at = float(clock.input_value(timeout=120_000))
            page.wait_for_timeout(2000)
            held = float(clock.input_value(timeout=120_000))  # it pauses
            play_pause.dispatch_event("click")
            resumed = _until_changed(page, clock, held)  # and plays again
            page.evaluate("document.querySelectorAll('video').forEach(v => v.pause())")
            page.locator("#scene3d").scroll_into_view_if_needed(timeout=120_000)
            page.wait_for_timeout(3000)
            box = page.locator("#scene3d").bounding_box(
                timeout=120_000
            )  # (an element screenshot waits for a still page)
            page.screenshot(path=str(shot), clip=box, timeout=120_000)
        finally:
            browser.close()
    assert problems == [], problems
    assert len(images) >= 4 and all(ok for _, ok in images), images
    assert len(videos) >= 4 and all(state >= 2 and not err and w > 0 for _, state, err, w in videos), videos
    assert t1 != t0 and held == paused_at and resumed != held, (t0, t1, paused_at, held, resumed)
    import cv2

    img = cv2.imread(str(shot))
    assert img is not None and img.shape[0] > 300
    # Not blank: the 3D canvas shows the scene, bodies and robot (many distinct colours, real contrast).
    assert img.std() > 12 and len(np.unique(img.reshape(-1, 3) // 16, axis=0)) > 40
    text = page_path.read_text()
    for section in ("Interactive 3D view", "Ego view", "Human vs G1", "Deployment in simulation"):
        assert section in text
    assert "not produced in this run" not in text.split("Training curves")[0]


def test_deploy_plots_draw_the_path_over_the_scene_and_say_how_much_is_on_it(tmp_path: Path) -> None:
    """The bag's odometry (x 0 -> 0.98 m, y 0) over a heightfield in the same frame: all of it on known
    terrain; over the same field shifted 3 m away (a reader in another frame would see this): none."""
    from videomimic_offline.contracts.heightfield import Heightfield, write_heightfield

    assets = tmp_path / "assets"
    assets.mkdir()
    bag = _bag(tmp_path / "bag")
    heights = np.zeros((26, 51))
    heights[:3] = np.nan  # an unscanned strip, away from the path
    for name, origin, expected in (("here", (-0.5, -0.5), 1.0), ("away", (2.5, 2.5), 0.0)):
        scene = tmp_path / f"{name}.npz"
        write_heightfield(scene, Heightfield(heights, np.array(origin), 0.04))
        figs, stats = deploy_plots(bag, assets, scene=scene)
        assert stats["odom_on_known_terrain"] == expected, name
        (rel,) = [rel for rel, cap in figs if "path" in cap]
        assert (tmp_path / rel).stat().st_size > 1000
