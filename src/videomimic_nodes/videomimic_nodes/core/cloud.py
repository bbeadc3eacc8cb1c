"""LiDAR clouds as numpy: PointCloud2 (un)packing, extrinsics, de-skew, body crop, cleaning.

Messages are handled through their fields only (``fields``, ``point_step``, ``data`` ...), so the
same code serves rclpy messages and plain objects in tests. Anything malformed raises
:class:`CloudError`, which the node logs before carrying on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.spatial.transform import Rotation, Slerp

# sensor_msgs/PointField datatypes
_PF = {1: "i1", 2: "u1", 3: "i2", 4: "u2", 5: "i4", 6: "u4", 7: "f4", 8: "f8"}
_PF_INV = {"f4": 7, "f8": 8, "u1": 2, "u4": 6}


class CloudError(ValueError):
    """A cloud that cannot be used (wrong fields, wrong size, no points)."""


@dataclass
class Cloud:
    """Points (N, 3) with per-point time offsets (N,) in seconds since the scan stamp."""

    xyz: np.ndarray
    t: np.ndarray
    stamp: float  # s
    frame_id: str = ""


def cloud2_to_cloud(msg) -> Cloud:  # sensor_msgs/PointCloud2
    """Read x, y, z and (if present) a per-point time field out of a PointCloud2."""
    names = {f.name: f for f in msg.fields}
    if not {"x", "y", "z"} <= names.keys():
        raise CloudError(f"PointCloud2 lacks x/y/z fields (has {sorted(names)})")
    n = int(msg.width) * int(msg.height)
    step = int(msg.point_step)
    data = bytes(msg.data) if not isinstance(msg.data, (bytes, bytearray, memoryview)) else msg.data
    if step <= 0 or len(data) < n * step or (n > 0 and int(msg.row_step) * int(msg.height) > len(data)):
        raise CloudError(f"PointCloud2 data has {len(data)} bytes, header says {n} points x {step} bytes")
    fields = {}
    for key in ("x", "y", "z", "timestamp", "offset_time", "t", "time"):
        f = names.get(key)
        if f is not None:
            if f.datatype not in _PF or f.offset + np.dtype(_PF[f.datatype]).itemsize > step:
                raise CloudError(
                    f"PointCloud2 field {key} has datatype {f.datatype} at offset {f.offset} (step {step})"
                )
            fields[key] = (_PF[f.datatype], f.offset)
    endian = ">" if msg.is_bigendian else "<"
    dtype = np.dtype({"names": list(fields), "formats": [endian + fields[k][0] for k in fields],
                      "offsets": [fields[k][1] for k in fields], "itemsize": step})  # fmt: skip
    if n == 0:
        raise CloudError("empty PointCloud2")
    arr = np.frombuffer(data, dtype=dtype, count=n)
    xyz = np.stack([arr["x"], arr["y"], arr["z"]], axis=1).astype(np.float64)
    stamp = _stamp(msg.header)
    t = np.zeros(n)
    if "timestamp" in fields:  # Livox xfer_format 0: absolute time (s as float64, or ns)
        ts = arr["timestamp"].astype(np.float64)
        med = float(np.nanmedian(ts)) if np.isfinite(ts).any() else 0.0
        if med > max(stamp, 1.0) * 100:  # nanoseconds
            ts, med = ts * 1e-9, med * 1e-9
        t = ts - stamp if abs(med - stamp) < 10.0 else ts  # absolute times vs offsets
    elif "offset_time" in fields:
        t = arr["offset_time"].astype(np.float64) * 1e-9
    elif "t" in fields or "time" in fields:
        t = arr["t" if "t" in fields else "time"].astype(np.float64)
    return Cloud(xyz, t, stamp, msg.header.frame_id)


def custom_to_cloud(msg) -> Cloud:  # livox_ros_driver2/CustomMsg
    """Livox CustomMsg (xfer_format 1) -> Cloud; time from ``timebase`` + ``offset_time``."""
    pts = msg.points
    if len(pts) == 0:
        raise CloudError("empty CustomMsg")
    if msg.point_num and int(msg.point_num) != len(pts):
        raise CloudError(f"CustomMsg point_num {msg.point_num} != {len(pts)} points")
    xyz = np.array([(p.x, p.y, p.z) for p in pts], dtype=np.float64)
    t = np.array([p.offset_time for p in pts], dtype=np.float64) * 1e-9
    stamp = float(msg.timebase) * 1e-9 if msg.timebase else _stamp(msg.header)
    return Cloud(xyz, t, stamp, msg.header.frame_id)


def _stamp(header) -> float:
    return float(header.stamp.sec) + float(header.stamp.nanosec) * 1e-9


def xyz_to_cloud2_fields(xyz: np.ndarray, extra: dict[str, np.ndarray] | None = None) -> tuple[list, bytes, int]:
    """(fields as (name, offset, datatype) tuples, data bytes, point_step) for a float32 xyz cloud."""
    cols = {"x": xyz[:, 0], "y": xyz[:, 1], "z": xyz[:, 2], **(extra or {})}
    dtype = np.dtype([(k, "<f4" if np.asarray(v).dtype.kind == "f" and k != "timestamp" else np.asarray(v).dtype.str)
                      for k, v in cols.items()])  # fmt: skip
    arr = np.empty(len(xyz), dtype=dtype)
    for k, v in cols.items():
        arr[k] = v
    fields = [(k, dtype.fields[k][1], _PF_INV[dtype.fields[k][0].str.lstrip("<|")]) for k in cols]
    return fields, arr.tobytes(), dtype.itemsize


def transform(T: np.ndarray, xyz: np.ndarray) -> np.ndarray:
    return xyz @ T[:3, :3].T + T[:3, 3]


def pose_matrix(xyz: np.ndarray, rpy: np.ndarray) -> np.ndarray:
    T = np.eye(4)
    T[:3, :3] = Rotation.from_euler("xyz", rpy).as_matrix()
    T[:3, 3] = xyz
    return T


@dataclass
class OdomBuffer:
    """Recent torso poses in the odom frame, for de-skewing and for the map's robot pose."""

    horizon_s: float = 1.0
    t: list[float] = field(default_factory=list)
    pos: list[np.ndarray] = field(default_factory=list)
    quat_xyzw: list[np.ndarray] = field(default_factory=list)

    def add(self, stamp: float, pos: np.ndarray, quat_xyzw: np.ndarray) -> None:
        if not (np.isfinite(pos).all() and np.isfinite(quat_xyzw).all()) or np.linalg.norm(quat_xyzw) < 0.5:
            raise CloudError("non-finite odometry")
        if self.t and stamp <= self.t[-1]:
            return
        self.t.append(stamp)
        self.pos.append(np.asarray(pos, dtype=np.float64))
        self.quat_xyzw.append(np.asarray(quat_xyzw, dtype=np.float64) / np.linalg.norm(quat_xyzw))
        while self.t and self.t[0] < stamp - self.horizon_s:
            self.t.pop(0), self.pos.pop(0), self.quat_xyzw.pop(0)

    def latest(self) -> tuple[np.ndarray, np.ndarray] | None:
        return (self.pos[-1], self.quat_xyzw[-1]) if self.t else None

    def transform_at(
        self, times: np.ndarray, p_torso: np.ndarray, bin_s: float = 0.001
    ) -> tuple[np.ndarray, np.ndarray]:
        """Torso-frame points taken at ``times`` -> odom frame (and the torso z per point).

        Poses are interpolated once per ``bin_s`` time bin, not per point (20k Slerps cost ~30 ms;
        the robot moves well under a millimetre in a millisecond).
        """
        if len(times) == 0:
            return np.zeros((0, 3)), np.zeros(0)
        t0 = float(times.min())
        idx = ((times - t0) * (1.0 / bin_s)).astype(np.int64)
        order = None
        if len(idx) > 1 and np.any(idx[1:] < idx[:-1]):  # LiDAR points usually arrive in time order
            order = np.argsort(idx, kind="stable")
            idx, p_torso = idx[order], p_torso[order]
        nb = int(idx[-1]) + 1
        pos, rot = self.poses_at(t0 + (np.arange(nb) + 0.5) * bin_s)
        R = rot.as_matrix()
        bounds = np.searchsorted(idx, np.arange(nb + 1))
        out = np.empty_like(p_torso)
        for b in np.nonzero(np.diff(bounds))[0]:  # one small matmul per time bin, not a 3x3 per point
            lo, hi = bounds[b], bounds[b + 1]
            out[lo:hi] = p_torso[lo:hi] @ R[b].T + pos[b]
        z = np.repeat(pos[:, 2], np.diff(bounds))
        if order is not None:
            inv = np.empty_like(order)
            inv[order] = np.arange(len(order))
            out, z = out[inv], z[inv]
        return out, z

    def poses_at(self, times: np.ndarray) -> tuple[np.ndarray, Rotation]:
        """Interpolated (positions (N, 3), rotations) at ``times`` (clamped to the buffer)."""
        if not self.t:
            raise CloudError("no odometry yet")
        if len(self.t) == 1:
            return np.repeat(self.pos[0][None], len(times), 0), Rotation.from_quat(
                np.repeat(self.quat_xyzw[0][None], len(times), 0)
            )
        ts = np.asarray(self.t)
        tt = np.clip(times, ts[0], ts[-1])
        pos = np.stack([np.interp(tt, ts, np.asarray(self.pos)[:, k]) for k in range(3)], axis=1)
        return pos, Slerp(ts, Rotation.from_quat(np.asarray(self.quat_xyzw)))(tt)


@dataclass
class CleanConfig:
    """Body box (torso frame, m) and range / height gates."""

    body_min: np.ndarray = field(default_factory=lambda: np.array([-0.25, -0.3, -0.72]))
    body_max: np.ndarray = field(default_factory=lambda: np.array([0.25, 0.3, 0.6]))
    range_min: float = 0.15
    range_max: float = 30.0
    z_min: float = -3.0  # relative to the torso, odom frame
    z_max: float = 2.0
    deskew: bool = True


def clean_cloud(
    cloud: Cloud, T_torso_lidar: np.ndarray, odom: OdomBuffer | None, cfg: CleanConfig
) -> tuple[np.ndarray, str]:
    """Points in the odom frame (or the torso frame without odometry) and that frame's name.

    Drops NaN/inf, points outside the range gate, points inside the robot's body box and points
    far above or below the torso (spurious returns).
    """
    xyz, t = cloud.xyz, cloud.t
    good = np.isfinite(xyz[:, 0] + xyz[:, 1] + xyz[:, 2] + t)
    if not good.all():
        xyz, t = xyz[good], t[good]
    r2 = xyz[:, 0] ** 2 + xyz[:, 1] ** 2 + xyz[:, 2] ** 2
    keep = (r2 >= cfg.range_min**2) & (r2 <= cfg.range_max**2)
    p_torso = transform(T_torso_lidar, xyz[keep])
    t = t[keep]
    px, py, pz = p_torso[:, 0], p_torso[:, 1], p_torso[:, 2]
    lo, hi = cfg.body_min, cfg.body_max
    inside = (px >= lo[0]) & (px <= hi[0]) & (py >= lo[1]) & (py <= hi[1]) & (pz >= lo[2]) & (pz <= hi[2])
    p_torso, t = p_torso[~inside], t[~inside]
    if odom is None or not odom.t:
        keep = (p_torso[:, 2] >= cfg.z_min) & (p_torso[:, 2] <= cfg.z_max)
        return p_torso[keep], "torso_link"
    times = cloud.stamp + (t if cfg.deskew else np.zeros_like(t))
    p_odom, base_z = odom.transform_at(times, p_torso)
    rel_z = p_odom[:, 2] - base_z
    keep = (rel_z >= cfg.z_min) & (rel_z <= cfg.z_max)
    return p_odom[keep], "odom"
