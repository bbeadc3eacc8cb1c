"""The simulated G1 without ROS: MuJoCo physics with motor-driver PD, a MID-360 by ray casting.

``sim_g1`` wraps this in a node that speaks unitree_hg at the physics rate. The robot starts hung
from a gantry (a weld on the pelvis, as a real G1 hangs from its frame during start-up) that is
released when the bridge enters policy mode or after ``gantry_release_s``. It starts at a
:class:`~videomimic_nodes.core.spawn.Spawn` (on known terrain, facing the motion's way); a floor at
the lowest known height extends the terrain beyond the scan, so a robot that walks off it stays in
the world (``core/sim_watch.py`` reports that).

The LiDAR casts, every physics step, the slice of its scan that falls in that step (so a moving
robot smears a scan as the real one does and de-skewing has something to undo). Directions follow
a low-discrepancy (R2) sequence over the MID-360's field of view (360 deg x -7..52 deg), which, like
the real non-repetitive pattern, covers the field more densely the longer one integrates.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from videomimic_offline.contracts.heightfield import Heightfield
from videomimic_offline.robot import g1, physics
from videomimic_offline.sim.pd import JointPD, MotorCommand
from videomimic_offline.sim.terrain import TERRAIN_GROUP, scene_spec, step_heightfield

from videomimic_nodes.core.lowcmd import MotorArrays
from videomimic_nodes.core.spawn import Spawn, resolve_spawn

#: Terrain tiles of this many cells a side (sim.terrain.add_heightfield_tiles): on the main job's
#: reconstruction (walls 2.7 m tall) the simulated LiDAR cost 5.2 ms CPU per 2 ms step as one hfield,
#: 0.67 ms as 16-cell tiles (0.84 at 32, 0.60 at 8 with twice the geoms); the flat default scene costs
#: 0.39 ms tiled (0.25 ms as one hfield), well inside the 2 ms step.
TILE_CELLS = 16

_A1, _A2 = 1.0 / 1.32471795724474602596, 1.0 / 1.32471795724474602596**2  # R2 sequence


@dataclass
class LidarConfig:
    points_per_scan: int = 20000  # MID-360: 200k points/s at 10 Hz
    scan_hz: float = 10.0
    el_min_deg: float = -7.0
    el_max_deg: float = 52.0
    range_max: float = 40.0
    noise_std: float = 0.01
    T_torso_lidar: np.ndarray = field(default_factory=lambda: np.eye(4))


@dataclass
class SimConfig:
    physics_dt: float = physics.DEPLOY_SIM_TIMESTEP
    gantry: bool = True
    gantry_release_s: float = -1.0  # >0: release after this much sim time regardless
    lidar: LidarConfig = field(default_factory=LidarConfig)


def mid360_directions(start: int, count: int, cfg: LidarConfig) -> np.ndarray:
    """Unit ray directions (count, 3) in the lidar frame for global point indices start..start+count."""
    k = np.arange(start, start + count, dtype=np.float64)
    az = 2 * np.pi * np.mod(0.5 + k * _A1, 1.0)
    el = np.deg2rad(cfg.el_min_deg + (cfg.el_max_deg - cfg.el_min_deg) * np.mod(0.5 + k * _A2, 1.0))
    return np.stack([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)], axis=1)


class SimG1:
    """Physics, PD from the latest motor command, robot state, odometry and LiDAR points."""

    def __init__(
        self, cfg: SimConfig | None = None, field_: Heightfield | None = None, seed: int = 0, spawn: Spawn | None = None
    ) -> None:
        import mujoco

        self.cfg = cfg or SimConfig()
        self.field = field_ if field_ is not None else step_heightfield()
        self.spawn = spawn if spawn is not None else resolve_spawn(self.field)
        spec = scene_spec(self.field, tile_cells=TILE_CELLS)
        floor = spec.worldbody.add_geom()  # beyond the scan: the lowest known height, as unknown cells inside it
        floor.name, floor.type, floor.group = "floor_beyond_scan", mujoco.mjtGeom.mjGEOM_PLANE, TERRAIN_GROUP
        floor.size = [0.0, 0.0, 1.0]
        floor.pos = [0.0, 0.0, float(self.field.surface.min())]
        if self.cfg.gantry:
            eq = spec.add_equality()
            eq.name = "gantry"
            eq.type = mujoco.mjtEq.mjEQ_WELD
            eq.objtype = mujoco.mjtObj.mjOBJ_BODY
            eq.name1 = g1.ROOT_LINK
        spec.option.timestep = self.cfg.physics_dt
        self.model = spec.compile()
        self.data = mujoco.MjData(self.model)
        self.pd = JointPD(self.model)
        self.cmd = MotorCommand.zero(len(g1.JOINT_NAMES_29))
        self.rng = np.random.default_rng(seed)
        self._mj = mujoco
        self.torso_id = self.model.body(g1.TORSO_LINK).id
        self.pelvis_id = self.model.body(g1.ROOT_LINK).id
        self.gyro_adr = self.model.sensor_adr[self.model.sensor("imu_ang_vel").id]
        self.acc_adr = self.model.sensor_adr[self.model.sensor("imu_lin_acc").id]
        self._geomgroup = np.zeros(6, dtype=np.uint8)
        self._geomgroup[[TERRAIN_GROUP, 3]] = 1  # terrain + robot collision geoms
        self._lidar_index = 0
        self._scan_xyz: list[np.ndarray] = []
        self._scan_t: list[np.ndarray] = []
        self._scan_start = 0.0
        self.gantry_on = self.cfg.gantry
        self.reset()

    # ---- state --------------------------------------------------------------------------------
    def reset(self) -> None:
        d = self.data
        self._mj.mj_resetData(self.model, d)
        sp = self.spawn
        d.qpos[:3] = [sp.xy[0], sp.xy[1], sp.ground_z + g1.DEFAULT_PELVIS_HEIGHT + 0.02]
        d.qpos[3:7] = [np.cos(sp.yaw / 2), 0.0, 0.0, np.sin(sp.yaw / 2)]
        d.qpos[self.pd.qpos_idx] = g1.as_array(g1.DEFAULT_POSE, g1.JOINT_NAMES_29)
        self._mj.mj_forward(self.model, d)
        if self.cfg.gantry:  # weld the pelvis where it is now
            eq = self.model.eq("gantry").id
            d.eq_active[eq] = 1
            self.model.eq_data[eq, 3:6] = 0.0  # anchor
            self.model.eq_data[eq, 6:10] = d.xquat[self.pelvis_id]
            self.model.eq_data[eq, 0:3] = d.xpos[self.pelvis_id]
            self.model.eq_data[eq, 10] = 1.0  # torquescale
        self.gantry_on = self.cfg.gantry
        #: torso height above the ground in the default pose as spawned: what "standing" looks like
        self.stand_torso_height = float(d.xpos[self.torso_id][2] - sp.ground_z)

    @property
    def time(self) -> float:
        return float(self.data.time)

    def release_gantry(self) -> None:
        if self.gantry_on:
            self.data.eq_active[self.model.eq("gantry").id] = 0
            self.gantry_on = False

    def set_command(self, m: MotorArrays) -> None:
        """Take the 29 G1 motors' slots of a 35-slot motor command."""
        n = len(g1.JOINT_NAMES_29)
        self.cmd = MotorCommand(m.q[:n].astype(np.float64), m.dq[:n].astype(np.float64), m.tau[:n].astype(np.float64),
                                m.kp[:n].astype(np.float64), m.kd[:n].astype(np.float64), m.mode[:n] == 1)  # fmt: skip

    def step(self) -> None:
        """One physics step with PD from the latest command (and a slice of LiDAR rays)."""
        if self.gantry_on and 0 < self.cfg.gantry_release_s <= self.time:
            self.release_gantry()
        self.pd.apply(self.data, self.cmd)
        self._mj.mj_step(self.model, self.data)
        self._cast_slice()

    def joint_state29(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(q, dq, tau) in the 29-joint motor order."""
        d = self.data
        return d.qpos[self.pd.qpos_idx].copy(), d.qvel[self.pd.qvel_idx].copy(), self.pd.torques(d)

    def imu(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Pelvis IMU: (quat wxyz, gyro rad/s body, accelerometer m/s^2 body)."""
        d = self.data
        return (d.xquat[self.pelvis_id].copy(), d.sensordata[self.gyro_adr: self.gyro_adr + 3].copy(),
                d.sensordata[self.acc_adr: self.acc_adr + 3].copy())  # fmt: skip

    def pelvis_pose(self) -> tuple[np.ndarray, np.ndarray]:
        """Pelvis (pos world, quat wxyz)."""
        return self.data.xpos[self.pelvis_id].copy(), self.data.xquat[self.pelvis_id].copy()

    def torso_pose(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Torso (pos, quat wxyz, linear vel world, angular vel world)."""
        d = self.data
        vel = np.zeros(6)
        self._mj.mj_objectVelocity(self.model, d, self._mj.mjtObj.mjOBJ_BODY, self.torso_id, vel, 0)
        return d.xpos[self.torso_id].copy(), d.xquat[self.torso_id].copy(), vel[3:].copy(), vel[:3].copy()

    # ---- LiDAR --------------------------------------------------------------------------------
    def _lidar_pose(self) -> tuple[np.ndarray, np.ndarray]:
        d = self.data
        R_wt = d.xmat[self.torso_id].reshape(3, 3)
        T = self.cfg.lidar.T_torso_lidar
        return d.xpos[self.torso_id] + R_wt @ T[:3, 3], R_wt @ T[:3, :3]

    def _cast_slice(self) -> None:
        lc = self.cfg.lidar
        rate = lc.points_per_scan * lc.scan_hz
        due = int(self.time * rate) - self._lidar_index
        if due <= 0:
            return
        dirs_l = mid360_directions(self._lidar_index, due, lc)
        self._lidar_index += due
        origin, R_wl = self._lidar_pose()
        vec = dirs_l @ R_wl.T
        geomid = np.zeros(due, dtype=np.int32)
        dist = np.zeros(due, dtype=np.float64)
        self._mj.mj_multiRay(self.model, self.data, origin, vec.reshape(-1), self._geomgroup, 1, self.torso_id,
                             geomid, dist, None, due, lc.range_max)  # fmt: skip
        hit = dist >= 0
        r = dist[hit] + self.rng.normal(0.0, lc.noise_std, int(hit.sum()))
        self._scan_xyz.append(dirs_l[hit] * r[:, None])
        self._scan_t.append(np.full(int(hit.sum()), self.time))

    def take_scan(self) -> tuple[np.ndarray, np.ndarray, float] | None:
        """Points cast since the last call, in the lidar frame: (xyz, absolute times, scan start)."""
        if not self._scan_xyz:
            return None
        xyz, t = np.concatenate(self._scan_xyz), np.concatenate(self._scan_t)
        start = self._scan_start
        self._scan_xyz, self._scan_t, self._scan_start = [], [], self.time
        return xyz, t, start
