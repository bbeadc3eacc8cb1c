"""core.cdr: LowState/LowCmd read and written as bytes agree with rclpy's own serialization."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("rclpy")
from rclpy.serialization import deserialize_message, serialize_message  # noqa: E402
from std_msgs.msg import String  # noqa: E402
from unitree_hg.msg import LowCmd, LowState  # noqa: E402
from videomimic_nodes.core.cdr import CdrLayoutError, FixedCdr  # noqa: E402
from videomimic_nodes.core.lowcmd import (  # noqa: E402
    MotorArrays,
    cdr_from_record,
    lowcmd_crc,
    msg_to_record,
    pack_lowcmd,
    record_from_cdr,
)
from videomimic_nodes.unitree_msgs import LOWCMD, LOWSTATE  # noqa: E402


def _random_lowstate(rng: np.random.Generator) -> LowState:
    m = LowState()
    m.version = rng.integers(0, 2**32, 2, dtype=np.uint32)
    m.mode_pr, m.mode_machine, m.tick, m.crc = 1, 5, int(rng.integers(0, 2**32)), int(rng.integers(0, 2**32))
    s = m.imu_state
    s.quaternion, s.gyroscope = rng.normal(size=4).astype(np.float32), rng.normal(size=3).astype(np.float32)
    s.accelerometer, s.rpy = rng.normal(size=3).astype(np.float32), rng.normal(size=3).astype(np.float32)
    s.temperature = -7
    for i, ms in enumerate(m.motor_state):
        ms.mode, ms.motorstate = i, int(rng.integers(0, 2**32))
        ms.q, ms.dq, ms.ddq, ms.tau_est, ms.vol = (float(v) for v in rng.normal(size=5).astype(np.float32))
        ms.temperature = np.array([i, -i], np.int16)
        ms.sensor, ms.reserve = np.array([i, 2 * i], np.uint32), np.arange(4, dtype=np.uint32) + i
    m.wireless_remote = rng.integers(0, 256, 40, dtype=np.uint8)
    m.reserve = np.arange(4, dtype=np.uint32)
    return m


def test_lowstate_fields_read_as_rclpy_wrote_them() -> None:
    rng = np.random.default_rng(0)
    for _ in range(5):
        m = _random_lowstate(rng)
        data = LOWSTATE.check(serialize_message(m))
        get = LOWSTATE.get
        assert (int(get(data, "tick")), int(get(data, "crc")), int(get(data, "mode_machine"))) == (m.tick, m.crc, 5)
        ms = m.motor_state
        for f in ("mode", "q", "dq", "ddq", "tau_est", "vol", "motorstate"):
            assert np.array_equal(get(data, f"motor_state.{f}"), np.array([getattr(x, f) for x in ms]).astype(get(data, f"motor_state.{f}").dtype)), f  # fmt: skip
        assert np.array_equal(get(data, "motor_state.temperature"), [list(x.temperature) for x in ms])
        assert np.array_equal(get(data, "motor_state.reserve"), [list(x.reserve) for x in ms])
        assert np.array_equal(get(data, "imu_state.quaternion"), m.imu_state.quaternion)
        assert int(get(data, "imu_state.temperature")) == -7
        assert get(data, "wireless_remote").tobytes() == bytes(m.wireless_remote)


def test_lowstate_written_as_bytes_is_what_rclpy_reads() -> None:
    """What sim_g1 publishes: every field round-trips through rclpy's deserializer."""
    src = _random_lowstate(np.random.default_rng(1))
    data_in = LOWSTATE.check(serialize_message(src))
    out = LOWSTATE.new()
    for path in LOWSTATE.leaves:
        LOWSTATE.put(out, path, LOWSTATE.get(data_in, path))
    back = deserialize_message(out.tobytes(), LowState)
    assert back.tick == src.tick and back.crc == src.crc
    assert [x.q for x in back.motor_state] == [x.q for x in src.motor_state]
    assert [x.mode for x in back.motor_state] == [x.mode for x in src.motor_state]  # motor 0's byte sits unaligned
    assert np.array_equal(back.imu_state.rpy, src.imu_state.rpy)


def test_lowcmd_bytes_and_the_firmware_struct_agree_both_ways() -> None:
    rng = np.random.default_rng(2)
    m = MotorArrays.zeros()
    m.mode[:29], m.q[:] = 1, rng.normal(size=35)
    m.kp[:29], m.kd[:29] = rng.uniform(10, 100, 29), rng.uniform(1, 5, 29)
    rec = pack_lowcmd(m, mode_pr=0, mode_machine=5)
    msg = deserialize_message(cdr_from_record(LOWCMD, rec), LowCmd)  # what the bridge publishes
    assert msg.crc == int(rec["crc"]) == lowcmd_crc(msg_to_record(msg))  # the firmware accepts it
    assert np.array_equal(np.float32([c.kp for c in msg.motor_cmd]), rec["motor_cmd"]["kp"])
    assert record_from_cdr(LOWCMD, serialize_message(msg)).tobytes() == rec.tobytes()  # what sim_g1 reads


def test_bytes_that_are_not_the_message_are_refused_with_the_reason() -> None:
    raw = serialize_message(LowCmd())
    with pytest.raises(ValueError, match="not a serialized LowCmd"):
        LOWCMD.check(raw[:-40])
    with pytest.raises(ValueError, match="encapsulation"):
        LOWCMD.check(b"\x00\x00" + raw[2:])  # big-endian CDR: DDS on this side never sends it
    with pytest.raises(ValueError, match="not a serialized LowState"):
        LOWSTATE.check(raw)
    assert LOWCMD.check(b"\x00\x07" + raw[2:]) is not None  # XCDR2 LE: same layout without 8-byte fields


def test_a_message_without_a_fixed_layout_is_refused() -> None:
    with pytest.raises(CdrLayoutError, match="string or sequence"):
        FixedCdr.of(String)
