"""LowCmd packing/CRC and the bridge's state machine, watchdogs, clamping, e-stop and arming."""

from __future__ import annotations

import numpy as np
import pytest
from videomimic_nodes.core.bridge import BridgeConfig, BridgeCore, ButtonEdges, Mode
from videomimic_nodes.core.lowcmd import LOWCMD_DTYPE, MotorArrays, crc32_words, lowcmd_crc, pack_lowcmd
from videomimic_offline.robot import g1


def crc_reference(words: list[int]) -> int:
    """Unitree's crc32_core, transcribed bit by bit from its definition (independent of the table)."""
    crc = 0xFFFFFFFF
    for data in words:
        xbit = 1 << 31
        for _ in range(32):
            crc = ((crc << 1) ^ 0x04C11DB7) & 0xFFFFFFFF if crc & 0x80000000 else (crc << 1) & 0xFFFFFFFF
            if data & xbit:
                crc ^= 0x04C11DB7
            xbit >>= 1
    return crc


def test_crc_hand_vectors():
    # CRC-32/MPEG-2 check value: "123456789" fed MSB first gives 0x0376E6E7; one word 0 gives 0xC704DD7B.
    assert crc32_words(np.array([0], dtype=np.uint32)) == 0xC704DD7B == crc_reference([0])
    assert crc32_words(np.array([0x31323334], dtype=np.uint32)) == crc_reference([0x31323334])
    rng = np.random.default_rng(1)
    words = rng.integers(0, 2**32, 250, dtype=np.uint64).astype(np.uint32)
    assert crc32_words(words) == crc_reference([int(w) for w in words])


def test_packed_lowcmd_layout_and_crc():
    m = MotorArrays.zeros()
    m.mode[:29] = 1
    m.q[3], m.kp[3], m.kd[3] = 0.3, 75.0, 2.0
    rec = pack_lowcmd(m, mode_pr=0, mode_machine=5)
    raw = rec.tobytes()
    assert len(raw) == 1004 == LOWCMD_DTYPE.itemsize
    # motor 3 starts at 4 + 3*28; q is 4 bytes after its mode byte
    assert np.frombuffer(raw, "<f4", 1, 4 + 3 * 28 + 4)[0] == np.float32(0.3)
    words = np.frombuffer(raw, "<u4")
    assert int(words[-1]) == crc_reference([int(w) for w in words[:-1]]) == lowcmd_crc(rec)


T = 0.02  # control cycle


def _stand_ready(core: BridgeCore, t: float = 0.0) -> float:
    q = np.zeros(29)
    core.on_state(q, q, t)
    assert core.request(Mode.STAND, t)
    while t < core.cfg.ramp_s + T:
        t += T
        core.on_state(q, q, t)
        core.on_targets(g1.as_array(g1.DEFAULT_POSE), t)
        core.command(t)
    return t


def test_state_machine_damping_stand_policy_damping():
    core = BridgeCore(armed=True)
    assert core.mode == Mode.DAMPING
    assert core.command(0.0).is_damping()
    assert not core.request(Mode.POLICY, 0.0)  # policy only from a finished stand
    q = np.zeros(29)
    core.on_state(q, q, 0.0)
    assert core.request(Mode.STAND, 0.0)
    for k in range(1, 51):  # 1 s of 50 Hz cycles with fresh LowState
        core.on_state(q, q, k * T)
        mid = core.command(k * T)
    assert core.mode == Mode.STAND
    q0 = g1.as_array(g1.DEFAULT_POSE, g1.JOINT_NAMES_29)
    np.testing.assert_allclose(mid.q[:29], 0.5 * q0, atol=1e-9)  # halfway through the 2 s ramp
    assert not core.request(Mode.POLICY, 1.0)  # ramp not finished
    core2 = BridgeCore(armed=True)
    t = _stand_ready(core2)
    assert core2.request(Mode.POLICY, t)
    cmd = core2.command(t)
    np.testing.assert_allclose(cmd.kp[:29], g1.as_array(g1.KP, g1.JOINT_NAMES_29))
    assert core2.request(Mode.DAMPING, t)
    assert core2.command(t).is_damping()


def test_lowstate_watchdog_damping_within_three_cycles():
    core = BridgeCore(BridgeConfig(), armed=True)
    t = _stand_ready(core)
    assert core.request(Mode.POLICY, t)
    t_last = t  # LowState stops here; targets keep coming
    for k in range(1, 4):
        core.on_targets(g1.as_array(g1.DEFAULT_POSE), t_last + k * T)
        if core.tick(t_last + k * T) == Mode.DAMPING:
            break
    assert core.mode == Mode.DAMPING and core.reason == "stale LowState"
    assert k <= 3


def test_stale_policy_and_nan_action_go_damping():
    core = BridgeCore(armed=True)
    t = _stand_ready(core)
    assert core.request(Mode.POLICY, t)
    bad = g1.as_array(g1.DEFAULT_POSE)
    bad[4] = np.nan
    core.on_targets(bad, t)
    assert core.mode == Mode.DAMPING and "NaN" in core.reason
    core = BridgeCore(armed=True)
    t = _stand_ready(core)
    assert core.request(Mode.POLICY, t)
    q = np.zeros(29)
    for k in range(1, 5):
        core.on_state(q, q, t + k * T)
        core.tick(t + k * T)
    assert core.mode == Mode.DAMPING and core.reason == "stale policy targets"


def test_nan_lowstate_goes_damping():
    core = BridgeCore(armed=True)
    t = _stand_ready(core)
    q = np.zeros(29)
    q[0] = np.inf
    core.on_state(q, q, t)
    assert core.mode == Mode.DAMPING


def test_targets_clamped_to_joint_limits():
    core = BridgeCore(armed=True)
    t = _stand_ready(core)
    assert core.request(Mode.POLICY, t)
    wild = np.full(23, 10.0)
    core.on_targets(wild, t)
    cmd = core.command(t)
    lo, hi = g1.limits_array(g1.JOINT_NAMES_29)
    assert np.all(cmd.q[:29] <= hi + 1e-12) and np.all(cmd.q[:29] >= lo - 1e-12)
    assert cmd.q[g1.JOINT_NAMES_29.index("left_knee_joint")] == pytest.approx(hi[3])
    assert np.all(cmd.q[29:] == 0) and np.all(cmd.mode[29:] == 0)


def test_estop_latches_and_unarmed_sends_nothing():
    core = BridgeCore(armed=False)
    assert core.command(0.0) is None
    core = BridgeCore(armed=True)
    t = _stand_ready(core)
    assert core.request(Mode.POLICY, t)
    core.set_estop(True, t)
    assert core.mode == Mode.ESTOP and core.command(t).is_damping()
    assert not core.request(Mode.STAND, t + T)  # latched
    assert not core.request(Mode.DAMPING, t + T)  # not while the e-stop topic still reads true
    core.set_estop(False, t + T)
    assert core.request(Mode.DAMPING, t + T)
    assert core.request(Mode.STAND, t + T)


def test_button_edges_fire_once():
    e = ButtonEdges()
    assert e.update([0, 1]) == {1}
    assert e.update([0, 1]) == set()
    assert e.update([1, 0, 1]) == {0, 2}


def test_joystick_estop_latches_until_damping_requested():
    core = BridgeCore(armed=True)
    t = _stand_ready(core)
    core.set_estop(True, t, source="button")
    assert core.mode == Mode.ESTOP and not core.request(Mode.STAND, t)
    assert core.request(Mode.DAMPING, t) and core.mode == Mode.DAMPING


# ---- fall detection (issue #13 item 4) ----------------------------------------------------------------


def _quat_tilted(angle: float) -> np.ndarray:
    return np.array([np.cos(angle / 2), np.sin(angle / 2), 0.0, 0.0])  # about x


def test_fall_needs_a_held_tilt_and_then_damps() -> None:
    b = BridgeCore(BridgeConfig(ramp_s=0.0, fall_tilt=1.0, fall_hold_s=0.1), armed=True)
    q0 = g1.as_array(g1.DEFAULT_POSE, g1.JOINT_NAMES_29)
    b.on_state(q0, np.zeros(29), 0.0)
    b.on_targets(g1.as_array(g1.DEFAULT_POSE), 0.0)
    assert b.request(Mode.STAND, 0.0) and b.request(Mode.POLICY, 0.0)
    t = 0.0
    for k in range(30):  # a 40 ms bump beyond the limit: not a fall
        t = k * 0.002
        b.on_state(q0, np.zeros(29), t)
        b.on_targets(g1.as_array(g1.DEFAULT_POSE), t)
        assert not b.on_imu(_quat_tilted(1.3 if k < 20 else 0.1), t)
    assert b.mode == Mode.POLICY
    fell = []
    for _ in range(100):  # held: a fall within fall_hold_s
        t += 0.002
        b.on_state(q0, np.zeros(29), t)
        fell.append(b.on_imu(_quat_tilted(1.3), t))
    assert fell.count(True) == 1 and b.mode == Mode.DAMPING and b.reason.startswith("fall detected")
    assert b.falls == 1
    cmd = b.command(t)
    assert not cmd.kp.any() and (cmd.kd[:29] == g1.DAMPING_KD).all()  # damping, not targets
    assert not b.request(Mode.STAND, t)  # the robot is down: no stand ramp against the floor
    b.on_imu(_quat_tilted(0.05), t + 0.002)
    assert b.request(Mode.STAND, t + 0.002)  # picked up again: allowed


def test_a_policy_that_falls_is_caught_in_the_simulator() -> None:
    """The simulated G1, released from the gantry under a policy that throws its legs about: the bridge
    stop sending that policy's targets (damping) within ``fall_hold_s`` of the torso tipping past the limit."""
    from videomimic_nodes.core.sim import LidarConfig, SimConfig, SimG1

    sim = SimG1(SimConfig(lidar=LidarConfig(points_per_scan=10)))
    b = BridgeCore(BridgeConfig(ramp_s=0.5), armed=True)
    rng = np.random.default_rng(3)
    bad = g1.as_array(g1.DEFAULT_POSE) + rng.uniform(-0.8, 0.8, 23)  # a "policy" that falls
    t, t_cross, t_fall, mode_log = 0.0, None, None, []
    for k in range(2500):  # 5 s at 500 Hz
        t = sim.time
        q, dq, _ = sim.joint_state29()
        quat, _, _ = sim.imu()
        b.on_state(q, dq, t)
        if b.on_imu(quat, t):
            t_fall = t
        if t_cross is None and b.tilt > b.cfg.fall_tilt:
            t_cross = t
        if k % 10 == 0:
            b.on_targets(bad if b.mode == Mode.POLICY else g1.as_array(g1.DEFAULT_POSE), t)
        if k == 1:
            assert b.request(Mode.STAND, t)
        if b.ramp_done(t) and b.mode == Mode.STAND and not mode_log:
            assert b.request(Mode.POLICY, t)
            sim.release_gantry()
            mode_log.append(t)
        sim.set_command(b.command(t))
        sim.step()
    assert mode_log, "never reached policy"
    assert b.falls == 1 and b.mode == Mode.DAMPING and "fall detected" in b.reason, b.transitions
    assert mode_log[0] < t_cross <= t_fall <= t_cross + b.cfg.fall_hold_s + 0.003  # caught as it tipped past
    assert sim.pelvis_pose()[0][2] < 0.5  # it did fall: the detector was right
