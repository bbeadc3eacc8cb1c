"""Does a simulated deploy run make physical sense? Read from its bag, against the scene's terrain.

Mode changes and armed motor commands say the software ran; they do not say the robot stood
anywhere. In the main job the simulated G1 once fell from 0.84 m to -30.9 m while the bridge
reported stand -> policy. This check reads ``/vm/odom`` (the simulator's true torso pose),
``/vm/bridge_state`` and ``/vm/events`` from the bag and asks:

* did the simulator report its spawn, on known terrain?
* in stand, after the ramp, is the torso as high above the terrain as the default pose puts it
  (within ``tol`` m)?
* is the torso always above the terrain (never out of the world), and is every stretch off the
  known terrain reported?
* is every fall seen in the odometry (torso tilted, or low over the ground, for a while)
  reported by the simulator, and, if it happened in policy mode, caught by the bridge (damping)?

ROS-free (rosbags), so tests and ``vm_deploy_check`` (used by the main job) share it.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from videomimic_offline.contracts.heightfield import Heightfield, read_heightfield
from videomimic_offline.sim.terrain import step_heightfield

from videomimic_nodes.core.fall import tilt_of
from videomimic_nodes.core.sim_watch import SimWatch, WatchConfig

#: Topics the check reads.
TOPICS = ("/vm/odom", "/vm/bridge_state", "/vm/events")
#: A fall seen in the odometry: torso tilt beyond this (rad) ...
FALL_TILT = 1.0
#: ... or the torso this low (m) above the lowest ground within FALL_RADIUS ...
FALL_HEIGHT = 0.45
FALL_RADIUS = 0.5
#: ... for at least this long (s).
FALL_HOLD_S = 0.3
#: s the bridge may take to leave policy once a fall is visible (its own rule: 0.1 s of tilt).
BRIDGE_GRACE_S = 1.0


@dataclass
class DeployCheck:
    """The verdict and the figures behind it."""

    spawn: dict | None = None
    stand_samples: int = 0
    stand_height_error: float | None = None  # m, median over stand (after the ramp)
    min_height_above_terrain: float | None = None  # m, torso
    off_terrain_s: float = 0.0
    falls_seen: list[float] = field(default_factory=list)  # s since the first odometry sample
    falls_reported: int = 0  # by the simulator
    bridge_falls: int = 0
    events: list[dict] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "ok": self.ok})


def read_topics(bag: Path, topics: tuple[str, ...] = TOPICS) -> dict[str, list[tuple[float, object]]]:
    """(receive time s, message) per topic for ``topics`` only (a bag's 500 Hz streams are skipped)."""
    from rosbags.highlevel import AnyReader
    from videomimic_offline.bag_types import interface_typestore

    out: dict[str, list[tuple[float, object]]] = {t: [] for t in topics}
    with AnyReader([Path(bag)], default_typestore=interface_typestore()) as reader:
        conns = [c for c in reader.connections if c.topic in topics]
        for conn, t_ns, raw in reader.messages(connections=conns):
            out[conn.topic].append((t_ns * 1e-9, reader.deserialize(raw, conn.msgtype)))
    return out


def _field(scene: str) -> Heightfield:
    return read_heightfield(Path(scene)) if scene and scene != "default step" else step_heightfield()


def check_deploy(bag: Path, scene: str | None = None, ramp_s: float = 2.0, tol: float = 0.05) -> DeployCheck:
    """Check the run in ``bag``; ``scene``: its heightfield (default: the one the simulator reported)."""
    msgs = read_topics(bag)
    c = DeployCheck()
    c.events = [json.loads(m.data) for _, m in msgs["/vm/events"]]
    spawns = [e for e in c.events if e.get("kind") == "spawn"]
    c.spawn = spawns[0] if spawns else None
    c.falls_reported = sum(e.get("kind") == "fall" and e.get("node") == "sim_g1" for e in c.events)
    c.bridge_falls = sum(e.get("kind") == "fall" and e.get("node") == "g1_bridge" for e in c.events)
    odom = msgs["/vm/odom"]
    if c.spawn is None:
        c.problems.append("the simulator reported no spawn (no 'spawn' event on /vm/events)")
        return c
    if not odom:
        c.problems.append("no odometry in the bag")
        return c
    field_ = _field(scene if scene is not None else str(c.spawn.get("scene", "")))
    # the simulator's own publish time: a recorder that fell behind receives late, not out of order
    t = np.array([m.header.stamp.sec + m.header.stamp.nanosec * 1e-9 for _, m in odom])
    pos = np.array([[m.pose.pose.position.x, m.pose.pose.position.y, m.pose.pose.position.z] for _, m in odom])
    quat = [(m.pose.pose.orientation.w, m.pose.pose.orientation.x, m.pose.pose.orientation.y,
             m.pose.pose.orientation.z) for _, m in odom]  # fmt: skip
    tilt = np.array([tilt_of(np.array(q)) for q in quat])
    ground = field_.height_at(pos[:, :2])  # unknown cells: the lowest known height; off the grid: NaN
    floor = float(field_.surface.min())  # the simulator's floor beyond the scan
    above = pos[:, 2] - np.where(np.isfinite(ground), ground, floor)
    c.min_height_above_terrain = float(above.min())
    if above.min() < -0.05:
        c.problems.append(f"the torso went {-above.min():.2f} m below the terrain: the robot fell out of the world")
    dt = np.diff(t, append=t[-1])
    off = ~field_.known_at(pos[:, :2])
    c.off_terrain_s = float(dt[off].sum())
    if off.any() and not any(e.get("kind") == "off_terrain" for e in c.events):
        c.problems.append(f"the robot was off the known terrain for {c.off_terrain_s:.1f} s and nobody reported it")
    # --- stand: torso height above the terrain vs the default pose ----------------------------------
    # the bridge's mode changes with its own time stamps (events); bags without them: receive times
    modes = [(float(e["t"]), str(e["mode"])) for e in c.events if e.get("kind") == "mode" and "t" in e]
    modes = modes or [(s, m.data) for s, m in msgs["/vm/bridge_state"]]
    stand = np.zeros(len(t), bool)
    for (s0, mode), (s1, _) in zip(modes, [*modes[1:], (np.inf, "")], strict=True):
        if mode == "stand":
            stand |= (t >= s0 + ramp_s) & (t < s1)
    c.stand_samples = int(stand.sum())
    if c.stand_samples:
        err = above[stand] - float(c.spawn["stand_torso_height"])
        c.stand_height_error = float(np.median(err))
        if abs(c.stand_height_error) > tol:
            c.problems.append(
                f"in stand the torso is {np.median(above[stand]):.3f} m above the terrain, the default pose puts it "
                f"at {c.spawn['stand_torso_height']:.3f} m (off by {c.stand_height_error:+.3f} m > {tol} m)"
            )
        if off[stand].any():
            c.problems.append("the robot stood off the known terrain")
    # --- falls seen in the odometry: runs of "down" samples lasting FALL_HOLD_S ----------------------------
    watch = SimWatch(field_, WatchConfig(near_radius=FALL_RADIUS))
    down = (tilt > FALL_TILT) | (np.array([watch.height_above_ground(p) for p in pos]) < FALL_HEIGHT)
    edges = np.flatnonzero(np.diff(np.r_[0, down.astype(int), 0]))
    for k0, k1 in zip(edges[::2], edges[1::2], strict=True):  # down over [k0, k1)
        if t[k1 - 1] - t[k0] < FALL_HOLD_S:
            continue
        c.falls_seen.append(float(t[k0] - t[0]))
        if _mode_at(modes, t[k0] + BRIDGE_GRACE_S) == "policy":
            c.problems.append(f"the bridge was still in policy {BRIDGE_GRACE_S:.0f} s after a fall at "
                              f"{t[k0] - t[0]:.1f} s: the fall was not caught")  # fmt: skip
    if len(c.falls_seen) > c.falls_reported:
        c.problems.append(f"{len(c.falls_seen)} fall(s) in the odometry (at {c.falls_seen} s), "
                          f"{c.falls_reported} reported by the simulator")  # fmt: skip
    return c


def _mode_at(modes: list[tuple[float, str]], s: float) -> str:
    mode = ""
    for t_m, m in modes:
        if t_m > s:
            break
        mode = m
    return mode


def summary(c: DeployCheck) -> str:
    """Two to five lines for a terminal."""
    sp = c.spawn or {}
    lines = [
        f"spawn: ({sp.get('x', float('nan')):.2f}, {sp.get('y', float('nan')):.2f}) m on the terrain at "
        f"{sp.get('ground_z', float('nan')):.2f} m" if sp else "spawn: not reported",
        f"stand: torso {c.stand_height_error:+.3f} m from the default pose's height ({c.stand_samples} samples)"
        if c.stand_height_error is not None else "stand: not reached",
        f"falls: {len(c.falls_seen)} in the odometry, {c.falls_reported} reported by the simulator, "
        f"{c.bridge_falls} caught by the bridge; off the known terrain {c.off_terrain_s:.1f} s",
    ]  # fmt: skip
    lines += [f"PROBLEM: {p}" for p in c.problems] or ["physically sensible: yes"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """`vm_deploy_check BAG [--scene HEIGHTFIELD] [--json]`: exit 0 when the run makes physical sense."""
    import argparse

    parser = argparse.ArgumentParser(prog="vm_deploy_check", description=main.__doc__)
    parser.add_argument("bag", type=Path, help="the bag of a simulated deploy run (record:=true)")
    parser.add_argument("--scene", default=None, help="its heightfield.npz (default: the one sim_g1 reported)")
    parser.add_argument("--tol", type=float, default=0.05, help="m: allowed stand height error (default 0.05)")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON line")
    ns = parser.parse_args(argv)
    if not (ns.bag / "metadata.yaml").is_file():
        print(f"error: {ns.bag} is not a bag (no metadata.yaml)", file=sys.stderr)
        return 2
    c = check_deploy(ns.bag, ns.scene, tol=ns.tol)
    if ns.json:
        print(c.to_json())
    else:
        from videomimic_offline.cli import finished

        lines = summary(c).splitlines()  # spawn, stand, falls, then the problems
        verdict = "physically sensible" if c.ok else f"NOT physically sensible: {c.problems[0]}"
        finished("vm_deploy_check", f"{ns.bag}: {verdict}", *lines[:3], *(f"{len(c.problems) - 1} more problem(s)"
                 for _ in range(len(c.problems) > 1)))  # fmt: skip
    return 0 if c.ok else 1
