"""elevation_map: fuse clean clouds into a robot-centric map; publish GridMap and the policy heightmap.

The heightmap (11 x 11, ``torso_z - ground_z``, layout of ``policy.observations``) goes out at the
control rate from the latest odometry; the GridMap (elevation, variance, age) at a lower rate.
"""

from __future__ import annotations

import numpy as np
from grid_map_msgs.msg import GridMap
from nav_msgs.msg import Odometry
from rclpy.node import Node
from sensor_msgs.msg import PointCloud2
from std_msgs.msg import Float32MultiArray, MultiArrayDimension
from videomimic_offline.policy.observations import yaw_of
from videomimic_offline.robot import g1

from videomimic_nodes.core.cloud import CloudError, cloud2_to_cloud
from videomimic_nodes.core.elevation import ElevationMap, MapConfig
from videomimic_nodes.ros_common import TOPIC_QOS, Params, RateLimitedLog, counted, now_s, params, run, topic_param

PARAMS: Params = {
    "length": (4.0, "m: side of the square, robot-centric map"),
    "resolution": (0.05, "m per cell"),
    "fill_radius": (0.15, "m: an unknown heightmap cell borrows a known cell this close, else the fallback"),
    "max_age_s": (10.0, "s: cells not seen for this long are forgotten"),
    "heightmap_hz": (50.0, "Hz: policy heightmap rate"),
    "gridmap_hz": (5.0, "Hz: GridMap rate"),
    "odom_timeout": (0.5, "s: no heightmap when odometry is older than this"),
}


class ElevationMapNode(Node):
    def __init__(self) -> None:
        super().__init__("elevation_map")
        p = params(self, PARAMS)
        self.p = p
        self.map = ElevationMap(MapConfig(length=p["length"], resolution=p["resolution"], fill_radius=p["fill_radius"],
                                          max_age_s=p["max_age_s"]))  # fmt: skip
        self.torso: tuple[np.ndarray, float, float] | None = None  # pos, yaw, receipt time
        self.log = RateLimitedLog(self)
        q = TOPIC_QOS
        self.pub_hm = counted(self.create_publisher(Float32MultiArray, topic_param(self, "heightmap"), q["heightmap"]))
        self.pub_gm = counted(self.create_publisher(GridMap, topic_param(self, "elevation_map"), q["elevation_map"]))
        self.create_subscription(PointCloud2, topic_param(self, "cloud"), self.on_cloud, q["cloud"])
        self.create_subscription(Odometry, topic_param(self, "odom"), self.on_odom, q["odom"])
        self.create_timer(1.0 / p["heightmap_hz"], self.publish_heightmap)
        self.create_timer(1.0 / p["gridmap_hz"], self.publish_gridmap)
        ny, nx = g1.HEIGHTMAP_SHAPE
        self._hm = Float32MultiArray()
        self._hm.layout.dim = [MultiArrayDimension(label="y", size=ny, stride=ny * nx),
                               MultiArrayDimension(label="x", size=nx, stride=nx)]  # fmt: skip

    def on_odom(self, msg: Odometry) -> None:
        pp, po = msg.pose.pose.position, msg.pose.pose.orientation
        pos = np.array([pp.x, pp.y, pp.z])
        quat = np.array([po.w, po.x, po.y, po.z])
        if np.isfinite(pos).all() and np.isfinite(quat).all():
            self.torso = (pos, yaw_of(quat), now_s(self))

    def on_cloud(self, msg: PointCloud2) -> None:
        if msg.header.frame_id != "odom":
            self.get_logger().warning(f"cloud in frame '{msg.header.frame_id}', need 'odom': skipped",
                                      throttle_duration_sec=5.0)  # fmt: skip
            return
        if self.torso is None:
            return
        try:
            cloud = cloud2_to_cloud(msg)
        except CloudError as exc:
            self.log.error(f"cloud skipped: {exc}")
            return
        self.map.integrate(cloud.xyz, self.torso[0][:2], now_s(self))

    def publish_heightmap(self) -> None:
        now = now_s(self)
        if self.torso is None or now - self.torso[2] > self.p["odom_timeout"]:
            return  # the policy falls back on its own when the heightmap stops
        pos, yaw, _ = self.torso
        self._hm.data = self.map.policy_heightmap(pos, yaw).tolist()
        self.pub_hm.publish(self._hm)

    def publish_gridmap(self) -> None:
        """grid_map convention: index (0, 0) is the (+x, +y) corner; layers column-major."""
        now = now_s(self)
        m = self.map
        n, res = m.n, m.cfg.resolution
        msg = GridMap()
        msg.header.stamp = self.get_clock().now().to_msg()
        msg.header.frame_id = "odom"
        msg.info.resolution, msg.info.length_x, msg.info.length_y = res, n * res, n * res
        centre = m.origin_xy + (n - 1) / 2 * res
        msg.info.pose.position.x, msg.info.pose.position.y = float(centre[0]), float(centre[1])
        msg.info.pose.orientation.w = 1.0
        msg.layers = ["elevation", "variance", "age"]
        msg.basic_layers = ["elevation"]
        for layer in (m.height, m.var, m.age(now)):
            grid = np.asarray(layer, dtype=np.float32).T[::-1, ::-1]  # rows: x descending, cols: y descending
            arr = Float32MultiArray()
            arr.layout.dim = [MultiArrayDimension(label="column_index", size=n, stride=n * n),
                              MultiArrayDimension(label="row_index", size=n, stride=n)]  # fmt: skip
            arr.data = np.where(np.isfinite(grid), grid, np.nan).flatten(order="F").tolist()
            msg.data.append(arr)
        self.pub_gm.publish(msg)


def main() -> None:
    run(ElevationMapNode)
