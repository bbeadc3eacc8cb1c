"""Observation builder, policy loading/refusal, the policy runner and the joystick cores."""

from __future__ import annotations

import json

import numpy as np
import pytest
from videomimic_nodes.core.policy_runner import PolicyRunner
from videomimic_nodes.core.teleop import JS_AXIS, JS_BUTTON, JS_INIT, JsState, Teleop, TeleopConfig, js_event
from videomimic_offline.errors import IncompatibleError
from videomimic_offline.policy import observations as obs
from videomimic_offline.policy.layout import PROPRIO_DIM, StudentLayout
from videomimic_offline.robot import g1


def test_proprio_frame_layout_and_history_newest_first():
    q0 = g1.as_array(g1.DEFAULT_POSE)
    f = obs.proprio_frame(np.array([4.0, 0, 0]), np.array([1.0, 0, 0, 0]), q0 + 0.1, np.full(23, 20.0), np.ones(23))
    assert f.shape == (PROPRIO_DIM,)
    np.testing.assert_allclose(f[:3], [1.0, 0, 0])  # ang vel x0.25
    np.testing.assert_allclose(f[3:6], [0, 0, -1])  # upright gravity
    np.testing.assert_allclose(f[6:29], 0.1, atol=1e-6)
    np.testing.assert_allclose(f[29:52], 1.0)  # dq x0.05
    h = obs.HistoryBuffer(3)
    for k in range(4):
        h.push(np.full(PROPRIO_DIM, k, dtype=np.float32))
    assert list(h.flat()[::PROPRIO_DIM]) == [3, 2, 1]
    h.reset()
    h.push(np.full(PROPRIO_DIM, 7, dtype=np.float32))
    assert set(h.flat()) == {7}  # first frame fills the history
    o = obs.build_observation(StudentLayout(history=3), h, np.array([0.1, 0.2, 0.3]))
    assert o.shape == (3 * 75 + 3 + 121,) and np.all(o[-121:] == np.float32(g1.HEIGHTMAP_FALLBACK))


def test_projected_gravity_and_heightmap_points():
    # pitched forward by 90 deg about y: gravity points along body +x
    q = np.array([np.cos(np.pi / 4), 0, np.sin(np.pi / 4), 0])
    np.testing.assert_allclose(obs.projected_gravity(q), [1, 0, 0], atol=1e-9)
    pts = obs.heightmap_points_w(np.array([1.0, 2.0, 0.8]), np.pi / 2)
    np.testing.assert_allclose(pts[5, 10], [1.0, 2.5])  # x = +0.5 ahead points along world +y
    np.testing.assert_allclose(pts[0, 5], [1.5, 2.0])  # y = -0.5 (right) points along world +x


def test_joystick_mapping_of_the_original():
    np.testing.assert_allclose(obs.command_from_joystick(lx=0.2, ly=1.0, rx=-1.0), [0.5, -0.1, 0.3])


def test_policy_runner_runs_and_nan_action_gives_nan_targets(student_onnx):
    r = PolicyRunner.from_file(student_onnx)
    q0 = g1.as_array(g1.DEFAULT_POSE)
    t = r.step(q0, np.zeros(23), np.zeros(3), np.array([1.0, 0, 0, 0]), np.zeros(3), None)
    assert t.shape == (23,) and np.all(np.isfinite(t)) and np.allclose(t, q0, atol=0.2)
    r.policy.act = lambda o: np.full((1, 23), np.nan, dtype=np.float32)  # a diverged network
    t = r.step(q0, np.zeros(23), np.zeros(3), np.array([1.0, 0, 0, 0]), np.zeros(3), None)
    assert np.isnan(t).all() and np.all(r.last_action == 0)


def test_mismatched_joint_order_policy_refused(tmp_path, student_onnx):
    import onnx

    model = onnx.load(str(student_onnx))
    for p in model.metadata_props:
        if p.key == "videomimic":
            meta = json.loads(p.value)
            meta["joint_names"] = list(reversed(meta["joint_names"]))
            p.value = json.dumps(meta)
    bad = tmp_path / "swapped.onnx"
    onnx.save(model, str(bad))
    with pytest.raises(IncompatibleError, match="joint order"):
        PolicyRunner.from_file(bad)


def test_teleop_deadman_and_joystick_lost():
    tp = Teleop(TeleopConfig(deadman_button=4, timeout_s=0.5))
    axes = [-0.2, 1.0, 0.0, 1.0]  # ROS Joy: axes[0] < 0 is stick right; axes[3] > 0 is stick left
    tp.on_joy(axes, [0, 0, 0, 0, 1], now=0.0)
    np.testing.assert_allclose(tp.command(0.1), [0.5, -0.1, 0.3], atol=1e-6)  # stick left: turn left
    assert np.all(tp.command(0.6) == 0)  # lost
    tp.on_joy(axes, [0, 0, 0, 0, 0], now=1.0)
    assert np.all(tp.command(1.0) == 0)  # deadman released
    tp.on_joy([0.1], [0, 0, 0, 0, 1], now=2.0)
    assert np.all(tp.command(2.0) == 0)  # too few axes
    tp.on_joy([np.nan, 1, 0, 0], [0, 0, 0, 0, 1], now=3.0)
    assert np.all(tp.command(3.0) == 0)


def test_js_reader_assembles_joy_from_recorded_events():
    data = b"".join(
        [
            js_event(0, JS_BUTTON | JS_INIT, 4),
            js_event(0, JS_AXIS | JS_INIT, 1),
            js_event(1, JS_BUTTON, 4, 10),
            js_event(-32767, JS_AXIS, 1, 12),  # stick up: Linux reports negative
        ]
    )
    s = JsState()
    used = s.feed(data + b"\x01\x02\x03")  # a partial trailing event is left for the next read
    assert used == 32 and s.buttons[4] == 1 and s.axes[1] == pytest.approx(1.0)


def test_unitree_remote_maps_to_the_joy_layout_and_the_original_command():
    from videomimic_nodes.core.teleop import joy_to_remote, remote_to_joy

    raw = joy_to_remote((0.2, 1.0, -1.0, 0.0), pressed=("L1", "start"))
    assert len(raw) == 40
    axes, buttons = remote_to_joy(raw)
    assert buttons[4] == 1 and buttons[7] == 1 and sum(buttons) == 2  # L1 = deadman, start = stand
    tp = Teleop(TeleopConfig())
    tp.on_joy(axes, buttons, now=0.0)
    # the original's mapping on the remote's own axes: 0.5 * [ly, -lx], -0.3 * rx
    np.testing.assert_allclose(tp.command(0.0), [0.5, -0.1, 0.3], atol=1e-6)
    with pytest.raises(ValueError):
        remote_to_joy(raw[:39])


def test_periodic_loop_keeps_rate_and_skips_overruns():
    """Ticks stay on the grid of absolute deadlines however late the thread runs: a machine under
    load may delay or skip ticks, never shift the ones after (CI on a loaded 2-core machine saw
    fewer than 40 of 50 ticks in 0.5 s at normal priority; that is the scheduler, not drift)."""
    import time

    from videomimic_nodes.core.loop import PeriodicLoop

    period = 0.01
    calls: list[tuple[float, int]] = []  # (start, deadlines skipped so far)
    loop = PeriodicLoop(period, lambda: calls.append((time.monotonic(), loop.skipped)))  # runs after start()
    t0 = time.monotonic()
    loop.start()
    time.sleep(0.5)
    loop.stop()
    elapsed = time.monotonic() - t0
    assert 5 <= len(calls) <= elapsed / period + 1  # it ran, and never more than once per deadline
    s0, k0 = calls[0]
    for i, (s, k) in enumerate(calls):  # tick i served deadline number i + k, and started at most a period late
        lateness = (s - s0) - (i + k - k0) * period
        assert -period < lateness < period, (i, lateness)
    slow = PeriodicLoop(0.01, lambda: time.sleep(0.035)).start()  # each tick overruns 3 periods
    time.sleep(0.4)
    slow.stop()
    assert slow.skipped > 0 and len(slow.starts) <= 12  # skipped, not run in a burst


def test_periodic_loop_options_fifo_gc_and_spin():
    """SCHED_FIFO is asked for in the loop thread only; GC runs only after ticks, and is back on after stop."""
    import gc
    import os
    import time

    from videomimic_nodes.core.loop import PeriodicLoop

    policies: list[int] = []
    gc_on: list[bool] = []

    def tick() -> None:
        policies.append(os.sched_getscheduler(0))
        gc_on.append(gc.isenabled())
        [[i] for i in range(1000)]  # garbage

    t0 = time.monotonic()
    loop = PeriodicLoop(0.01, tick, realtime_priority=10, gc_control=True, spin_s=0.001).start()
    time.sleep(0.3)
    loop.stop()
    # how many ticks ran is the scheduler's business (FIFO 10 is below every node of a graph
    # running beside it); at most one per deadline, and none with the collector on
    assert 3 <= len(policies) <= (time.monotonic() - t0) / 0.01 + 1 and not any(gc_on)
    assert gc.isenabled() and os.sched_getscheduler(0) == os.SCHED_OTHER  # the caller's thread is untouched
    if loop.realtime:  # granted (root or CAP_SYS_NICE): the loop thread really ran SCHED_FIFO
        assert set(policies) == {os.SCHED_FIFO}
    else:
        assert set(policies) == {os.SCHED_OTHER}
