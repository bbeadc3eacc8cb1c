"""Fixed-size ROS 2 messages read and written as numpy records, straight from serialized CDR.

At the robot's 500 Hz, rclpy's own conversion of a ``unitree_hg/LowState`` into Python objects
(35 ``MotorState`` instances, each built field by field) costs ~370 us, about a fifth of a core,
before the bridge does anything with it; a LowCmd costs ~125 us. Both messages are fixed-size
(primitives, fixed arrays, nested fixed structs), so every field sits at byte offsets known from the
type alone: reading a field is one gather of those bytes (a few us), writing one a scatter.
Subscribe with ``raw=True`` and publish the bytes (rclpy accepts ``bytes``).

The layout follows XCDR1 (what Fast DDS and Cyclone DDS send for ROS 2 types): a 4-byte
encapsulation header, then each primitive aligned to its own size counted from the end of that
header. That makes the first element of a struct array (e.g. ``motor_state[0].mode``, a byte
after an odd-sized field) sit differently from the rest, which is why offsets are listed per
element rather than assumed to repeat. A message with a string or an unbounded sequence has no fixed layout and is refused.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

import numpy as np

#: rosidl basic type -> numpy (little-endian: the header says CDR_LE, checked on decode)
_BASIC = {
    "boolean": "u1", "octet": "u1", "char": "u1", "uint8": "u1", "int8": "i1",
    "uint16": "<u2", "int16": "<i2", "uint32": "<u4", "int32": "<i4",
    "uint64": "<u8", "int64": "<i8", "float": "<f4", "double": "<f8",
}  # fmt: skip
HEADER = b"\x00\x01\x00\x00"  # CDR, little-endian, no options
#: XCDR2 little-endian (a DDS peer outside ROS may send it): for a final struct it differs from
#: XCDR1 only in aligning 8-byte primitives to 4, so it is read alike where there are none.
_PLAIN_CDR2_LE = b"\x00\x07"


class CdrLayoutError(TypeError):
    """The message type has no fixed CDR layout (strings, sequences) or an unknown field type."""


@dataclass(frozen=True)
class Leaf:
    """One primitive field (or fixed primitive array) of a message, wherever it repeats."""

    dtype: np.dtype
    shape: tuple[int, ...]  # (elements of enclosing struct arrays..., own array length) or ()
    index: np.ndarray  # byte positions in the serialized message, header included, in value order


def _msg_class(namespaced) -> type:  # rosidl_parser.definition.NamespacedType -> the message class
    pkg, *_ = namespaced.namespaces
    return getattr(importlib.import_module(f"{pkg}.msg"), namespaced.name)


def _walk(msg_type: type, offset: int, prefix: str, out: dict[str, list[tuple[int, np.dtype, int]]]) -> int:
    """Append (absolute offset, dtype, count) of every primitive of one message placed at
    ``offset`` (counted after the header: alignment is relative to it); returns its end."""
    for name, slot in zip(msg_type.__slots__, msg_type.SLOT_TYPES):
        path = prefix + name.lstrip("_")
        kind, count = type(slot).__name__, 0
        if kind == "Array":
            count, slot, kind = int(slot.size), slot.value_type, type(slot.value_type).__name__
        if kind == "BasicType":
            if slot.typename not in _BASIC:
                raise CdrLayoutError(f"{msg_type.__name__}.{path}: no fixed CDR layout for '{slot.typename}'")
            dt = np.dtype(_BASIC[slot.typename])
            offset = -(-offset // dt.itemsize) * dt.itemsize
            out.setdefault(path, []).append((offset, dt, count))
            offset += dt.itemsize * max(count, 1)
        elif kind == "NamespacedType":
            for _ in range(max(count, 1)):
                offset = _walk(_msg_class(slot), offset, path + ".", out)
        else:
            raise CdrLayoutError(f"{msg_type.__name__}.{path}: {kind} has no fixed CDR layout (string or sequence)")
    return offset


def _struct_shape(msg_type: type, path: str) -> tuple[int, ...]:
    """Lengths of the struct arrays enclosing ``path`` (e.g. (35,) for motor_state.q)."""
    shape: list[int] = []
    for part in path.split(".")[:-1]:
        slot = dict(zip((n.lstrip("_") for n in msg_type.__slots__), msg_type.SLOT_TYPES))[part]
        if type(slot).__name__ == "Array":
            shape.append(int(slot.size))
            slot = slot.value_type
        msg_type = _msg_class(slot)
    return tuple(shape)


@dataclass(frozen=True)
class FixedCdr:
    """The CDR layout of one fixed-size message type: read and write fields of its bytes."""

    msg_type: type
    size: int  # serialized bytes, header included (DDS may append up to 3 bytes of padding)
    leaves: dict[str, Leaf]
    has_8_byte: bool = False  # any 8-byte primitive: then only XCDR1 has this layout

    @classmethod
    def of(cls, msg_type: type) -> FixedCdr:
        found: dict[str, list[tuple[int, np.dtype, int]]] = {}
        end = _walk(msg_type, 0, "", found)
        leaves = {}
        for path, places in found.items():
            dt, count = places[0][1], places[0][2]
            starts = np.array([o for o, _, _ in places]) + len(HEADER)
            index = (starts[:, None] + np.arange(dt.itemsize * max(count, 1))[None, :]).reshape(-1)
            shape = _struct_shape(msg_type, path) + ((count,) if count else ())
            leaves[path] = Leaf(dt, shape, index)
        wide = any(leaf.dtype.itemsize == 8 for leaf in leaves.values())
        return cls(msg_type, len(HEADER) + end, leaves, wide)

    def check(self, raw: bytes) -> np.ndarray:
        """The bytes as uint8, after checking they can be this message; ValueError otherwise."""
        if not self.size <= len(raw) <= self.size + 8:
            raise ValueError(f"{len(raw)} bytes is not a serialized {self.msg_type.__name__} ({self.size} expected)")
        kind = bytes(raw[:2])
        if kind != HEADER[:2] and (kind != _PLAIN_CDR2_LE or self.has_8_byte):
            raise ValueError(f"unsupported CDR encapsulation {bytes(raw[:2]).hex()} (expected little-endian CDR 0001)")
        return np.frombuffer(raw, np.uint8)

    def get(self, data: np.ndarray, path: str) -> np.ndarray:
        """Field ``path`` (``"tick"``, ``"motor_state.q"``) of checked bytes, as a new array
        (a 0-d array for a scalar)."""
        leaf = self.leaves[path]
        return data[leaf.index].view(leaf.dtype).reshape(leaf.shape)

    def new(self) -> np.ndarray:
        """Zeroed serialized bytes of this message (header set), to fill with :meth:`put`."""
        data = np.zeros(self.size, np.uint8)
        data[: len(HEADER)] = np.frombuffer(HEADER, np.uint8)
        return data

    def put(self, data: np.ndarray, path: str, value: object) -> None:
        leaf = self.leaves[path]
        values = np.ascontiguousarray(np.broadcast_to(np.asarray(value, leaf.dtype), leaf.shape))
        data[leaf.index] = values.reshape(-1).view(np.uint8)
