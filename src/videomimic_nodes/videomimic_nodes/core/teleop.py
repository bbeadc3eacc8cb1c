"""Joystick -> direction command (with deadman and loss timeout), and a /dev/input/js* reader.

ROS ``sensor_msgs/Joy`` axes are positive to the left and up; VideoMimic's mapping
(:func:`observations.command_from_joystick`) uses Unitree's remote, positive to the right and up,
so horizontal axes are negated by default. The Linux joystick API reports up as negative; the
reader negates every axis, as the ROS ``joy`` node does, so it publishes the same Joy.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import numpy as np
from videomimic_offline.policy.observations import command_from_joystick

JS_EVENT = struct.Struct("<IhBB")  # time ms, value, type, number
JS_BUTTON, JS_AXIS, JS_INIT = 0x01, 0x02, 0x80


@dataclass
class TeleopConfig:
    axis_lx: int = 0
    axis_ly: int = 1
    axis_rx: int = 3
    invert_horizontal: bool = True  # ROS Joy (left +) -> Unitree convention (right +)
    deadman_button: int = 4  # hold (LB) to command motion; -1: no deadman
    timeout_s: float = 0.5  # no Joy for this long -> zero command
    deadzone: float = 0.05


@dataclass
class Teleop:
    cfg: TeleopConfig = field(default_factory=TeleopConfig)
    _cmd: np.ndarray = field(default_factory=lambda: np.zeros(3, dtype=np.float32))
    _t_joy: float | None = None

    def on_joy(self, axes: list[float], buttons: list[int], now: float) -> None:
        """Latest Joy; malformed (too few axes, NaN) counts as a zero command."""
        c = self.cfg
        need = max(c.axis_lx, c.axis_ly, c.axis_rx)
        self._t_joy = now
        held = c.deadman_button < 0 or (c.deadman_button < len(buttons) and bool(buttons[c.deadman_button]))
        if len(axes) <= need or not held or not np.isfinite(np.asarray(axes, dtype=np.float64)).all():
            self._cmd = np.zeros(3, dtype=np.float32)
            return
        ax = np.clip(np.asarray(axes, dtype=np.float64), -1.0, 1.0)
        ax = np.where(np.abs(ax) < c.deadzone, 0.0, ax)
        sign = -1.0 if c.invert_horizontal else 1.0
        self._cmd = command_from_joystick(sign * ax[c.axis_lx], ax[c.axis_ly], sign * ax[c.axis_rx])

    def command(self, now: float) -> np.ndarray:
        """Direction command (x, y, yaw); zero when the joystick is lost or the deadman released."""
        if self._t_joy is None or now - self._t_joy > self.cfg.timeout_s:
            return np.zeros(3, dtype=np.float32)
        return self._cmd.copy()


@dataclass
class JsState:
    """Axes and buttons assembled from Linux joystick events."""

    axes: list[float] = field(default_factory=list)
    buttons: list[int] = field(default_factory=list)

    def feed(self, data: bytes) -> int:
        """Apply every whole 8-byte event in ``data``; returns how many bytes were consumed."""
        used = len(data) - len(data) % JS_EVENT.size
        for _, value, etype, number in JS_EVENT.iter_unpack(data[:used]):
            kind = etype & ~JS_INIT
            if kind == JS_AXIS:
                self.axes += [0.0] * (number + 1 - len(self.axes))
                self.axes[number] = -value / 32767.0
            elif kind == JS_BUTTON:
                self.buttons += [0] * (number + 1 - len(self.buttons))
                self.buttons[number] = 1 if value else 0
        return used


def js_event(value: int, etype: int, number: int, time_ms: int = 0) -> bytes:
    """One Linux joystick event (for tests and recordings)."""
    return JS_EVENT.pack(time_ms, value, etype, number)


#: Unitree wireless remote (LowState.wireless_remote, 40 bytes): head[2], button bits (u16),
#: lx, rx, ry, L2, ly (f32), 16 spare bytes. Bit order of the buttons:
REMOTE_BITS = ("R1", "L1", "start", "select", "R2", "L2", "F1", "F2", "A", "B", "X", "Y", "up", "right", "down", "left")
_REMOTE = struct.Struct("<2sH5f16s")
#: Remote button -> index in the Joy of the ROS joy node's Xbox layout (what config/deploy.yaml uses).
REMOTE_TO_JOY_BUTTON = {"A": 0, "B": 1, "X": 2, "Y": 3, "L1": 4, "R1": 5, "select": 6, "start": 7,
                        "L2": 11, "R2": 12, "up": 13, "down": 14, "left": 15, "right": 16}  # fmt: skip


def remote_to_joy(data: bytes) -> tuple[list[float], list[int]]:
    """Joy (axes, buttons) in the ROS Xbox layout from the G1's wireless remote bytes.

    Axes: [left horizontal (left +), left vertical (up +), L2, right horizontal (left +), right
    vertical, 0]; Unitree's lx/rx are positive to the right, hence the sign flips.
    """
    if len(data) != _REMOTE.size:
        raise ValueError(f"wireless_remote has {len(data)} bytes, expected {_REMOTE.size}")
    _, bits, lx, rx, ry, l2, ly, _ = _REMOTE.unpack(bytes(data))
    buttons = [0] * 17
    for i, name in enumerate(REMOTE_BITS):
        if bits >> i & 1 and name in REMOTE_TO_JOY_BUTTON:
            buttons[REMOTE_TO_JOY_BUTTON[name]] = 1
    axes = [-lx, ly, l2, -rx, ry, 0.0]
    if not all(np.isfinite(axes)):
        raise ValueError("wireless_remote holds non-finite stick values")
    return [float(a) for a in axes], buttons


def joy_to_remote(axes_lx_ly_rx_ry: tuple[float, float, float, float], pressed: tuple[str, ...] = ()) -> bytes:
    """The inverse, for tests and the simulator: remote bytes from Unitree-convention sticks."""
    lx, ly, rx, ry = axes_lx_ly_rx_ry
    bits = sum(1 << REMOTE_BITS.index(n) for n in pressed)
    return _REMOTE.pack(b"\x00\x00", bits, lx, rx, ry, 0.0, ly, bytes(16))
