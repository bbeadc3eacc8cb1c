"""unitree_hg LowCmd as the G1 firmware sees it: the packed struct and its CRC.

The firmware drops any LowCmd whose ``crc`` does not match CRC-32 (poly 0x04C11DB7, init
0xFFFFFFFF, no reflection, no final xor) over the little-endian packed struct read as 32-bit
words, MSB first, excluding the crc word itself. Packed layout (1004 bytes):
``mode_pr u8, mode_machine u8, 2 pad, 35 x {mode u8, 3 pad, q dq tau kp kd f32, reserve u32},
reserve u32[4], crc u32``.
"""

from __future__ import annotations

import binascii
from dataclasses import dataclass

import numpy as np
from videomimic_offline.robot import g1

from videomimic_nodes.core.cdr import FixedCdr

NUM_SLOTS = g1.NUM_MOTOR_SLOTS
MOTOR_DTYPE = np.dtype(
    [("mode", "u1"), ("pad", "u1", 3), ("q", "<f4"), ("dq", "<f4"), ("tau", "<f4"), ("kp", "<f4"), ("kd", "<f4"),
     ("reserve", "<u4")]
)  # fmt: skip
LOWCMD_DTYPE = np.dtype(
    [("mode_pr", "u1"), ("mode_machine", "u1"), ("pad", "u1", 2), ("motor_cmd", MOTOR_DTYPE, NUM_SLOTS),
     ("reserve", "<u4", 4), ("crc", "<u4")]
)  # fmt: skip
assert LOWCMD_DTYPE.itemsize == 1004

# CRC-32/MPEG-2 is the bit-mirror of zlib's reflected CRC-32 (same polynomial): feed zlib the
# bit-reversed bytes, undo its final xor and mirror the register back. Same result as the
# bit-by-bit definition (the tests check it), ~70x faster than a Python loop, which matters at 500 Hz.
_REV8 = bytes(int(f"{i:08b}"[::-1], 2) for i in range(256))


def _rev32(x: int) -> int:
    return int(f"{x:032b}"[::-1], 2)


def crc32_words(words: np.ndarray) -> int:
    """Unitree's CRC over uint32 ``words``, each fed MSB first (= CRC-32/MPEG-2 of big-endian bytes)."""
    data = np.asarray(words, dtype="<u4").astype(">u4").tobytes().translate(_REV8)
    return _rev32(binascii.crc32(data) ^ 0xFFFFFFFF)


@dataclass
class MotorArrays:
    """A full 35-slot motor command as arrays (what the bridge computes, before any message)."""

    mode: np.ndarray  # uint8
    q: np.ndarray
    dq: np.ndarray
    tau: np.ndarray
    kp: np.ndarray
    kd: np.ndarray

    @classmethod
    def zeros(cls) -> MotorArrays:
        z = np.zeros(NUM_SLOTS)
        return cls(np.zeros(NUM_SLOTS, dtype=np.uint8), z.copy(), z.copy(), z.copy(), z.copy(), z.copy())

    def is_damping(self) -> bool:
        """True when no slot holds a position (kp == 0 everywhere): the robot only sees damping."""
        return bool(np.all(self.kp == 0.0))


def pack_lowcmd(m: MotorArrays, mode_pr: int = 0, mode_machine: int = 0) -> np.ndarray:
    """Packed LowCmd struct (numpy record) with its CRC filled in."""
    rec = np.zeros((), dtype=LOWCMD_DTYPE)
    rec["mode_pr"], rec["mode_machine"] = mode_pr, mode_machine
    mc = rec["motor_cmd"]
    mc["mode"], mc["q"], mc["dq"], mc["tau"], mc["kp"], mc["kd"] = m.mode, m.q, m.dq, m.tau, m.kp, m.kd
    rec["crc"] = lowcmd_crc(rec)
    return rec


def lowcmd_crc(rec: np.ndarray) -> int:
    """CRC of a packed LowCmd record (all words but the last)."""
    words = np.frombuffer(np.asarray(rec, dtype=LOWCMD_DTYPE).tobytes(), dtype="<u4")
    return crc32_words(words[:-1])


def msg_to_record(msg) -> np.ndarray:  # msg: unitree_hg.msg.LowCmd
    """Pack a ROS LowCmd message into the firmware struct (to check or compute its CRC)."""
    rec = np.zeros((), dtype=LOWCMD_DTYPE)
    rec["mode_pr"], rec["mode_machine"] = msg.mode_pr, msg.mode_machine
    mc = rec["motor_cmd"]
    cmds = msg.motor_cmd
    mc["mode"] = [c.mode for c in cmds]
    for f in ("q", "dq", "tau", "kp", "kd"):
        mc[f] = [getattr(c, f) for c in cmds]
    mc["reserve"] = [c.reserve for c in cmds]
    rec["reserve"] = list(msg.reserve)
    rec["crc"] = msg.crc
    return rec


#: The firmware struct's fields that a LowCmd message carries (message level, and per motor).
_MSG_FIELDS = ("mode_pr", "mode_machine", "reserve", "crc")
_MOTOR_FIELDS = ("mode", "q", "dq", "tau", "kp", "kd", "reserve")


def record_from_cdr(layout: FixedCdr, raw: bytes) -> np.ndarray:
    """The firmware struct from a serialized LowCmd (``layout``: FixedCdr of unitree_hg LowCmd),
    without building the message's 35 Python objects; ValueError for bytes that are not one."""
    data = layout.check(raw)
    rec = np.zeros((), dtype=LOWCMD_DTYPE)
    for f in _MSG_FIELDS:
        rec[f] = layout.get(data, f)
    mc = rec["motor_cmd"]
    for f in _MOTOR_FIELDS:
        mc[f] = layout.get(data, f"motor_cmd.{f}")
    return rec


def cdr_from_record(layout: FixedCdr, rec: np.ndarray) -> bytes:
    """Serialized LowCmd (``layout``: FixedCdr of unitree_hg LowCmd) carrying the firmware
    struct ``rec`` field for field, its CRC included: what the bridge publishes at 500 Hz."""
    data = layout.new()
    for f in _MSG_FIELDS:
        layout.put(data, f, rec[f])
    mc = rec["motor_cmd"]
    for f in _MOTOR_FIELDS:
        layout.put(data, f"motor_cmd.{f}", mc[f])
    return data.tobytes()


def record_to_arrays(rec: np.ndarray) -> MotorArrays:
    mc = rec["motor_cmd"]
    return MotorArrays(mc["mode"].copy(), *(mc[f].astype(np.float64) for f in ("q", "dq", "tau", "kp", "kd")))
