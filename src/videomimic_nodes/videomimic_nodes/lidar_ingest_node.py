"""lidar_ingest: Livox CustomMsg or MID-360 PointCloud2 -> a clean PointCloud2 in the odom frame.

Extrinsics (torso <- lidar) come from the params file; de-skewing uses the odometry stream when
there is one. Malformed clouds are logged and skipped; the node keeps running.
"""

from __future__ import annotations

import numpy as np
from livox_ros_driver2.msg import CustomMsg
from nav_msgs.msg import Odometry
from rclpy.node import Node
from sensor_msgs.msg import PointCloud2, PointField

from videomimic_nodes.core.cloud import (
    CleanConfig,
    Cloud,
    CloudError,
    OdomBuffer,
    clean_cloud,
    cloud2_to_cloud,
    custom_to_cloud,
    pose_matrix,
    xyz_to_cloud2_fields,
)
from videomimic_nodes.ros_common import TOPIC_QOS, Params, RateLimitedLog, counted, params, run, stamp_to_s, topic_param

PARAMS: Params = {
    "input": ("both", "points (PointCloud2, Livox xfer_format 0) | custom (CustomMsg, xfer_format 1) | both"),
    "mount_xyz": ([0.0, 0.0, 0.4], "m: LiDAR origin in torso_link (measure it on your robot)"),
    "mount_rpy": ([3.14159265, 0.35, 0.0], "rad, extrinsic xyz: LiDAR orientation in torso_link"),
    "body_min": ([-0.25, -0.3, -0.72], "m: robot body box in torso_link; points inside it are the robot"),
    "body_max": ([0.25, 0.3, 0.6], "m: the other corner of that box"),
    "range_min": (0.15, "m: closer returns are dropped"),
    "range_max": (30.0, "m: farther returns are dropped"),
    "z_min": (-3.0, "m: keep points at least this far below the torso"),
    "z_max": (2.0, "m: and at most this far above it"),
    "deskew": (True, "undo the motion during a scan with the odometry stream"),
}


class LidarIngest(Node):
    def __init__(self) -> None:
        super().__init__("lidar_ingest")
        p = params(self, PARAMS)
        self.T = pose_matrix(np.array(p["mount_xyz"], float), np.array(p["mount_rpy"], float))
        self.cfg = CleanConfig(np.array(p["body_min"], float), np.array(p["body_max"], float), p["range_min"],
                               p["range_max"], p["z_min"], p["z_max"], bool(p["deskew"]))  # fmt: skip
        self.odom = OdomBuffer()
        q = TOPIC_QOS
        self.pub = counted(self.create_publisher(PointCloud2, topic_param(self, "cloud"), q["cloud"]))
        self.create_subscription(Odometry, topic_param(self, "odom"), self.on_odom, q["odom"])
        if p["input"] in ("both", "points"):
            self.create_subscription(PointCloud2, topic_param(self, "lidar_points"), self.on_points, q["lidar_points"])
        if p["input"] in ("both", "custom"):
            self.create_subscription(CustomMsg, topic_param(self, "lidar_custom"), self.on_custom, q["lidar_custom"])
        self.n_in = self.n_bad = 0
        self.log = RateLimitedLog(self)

    def on_odom(self, msg: Odometry) -> None:
        pp, po = msg.pose.pose.position, msg.pose.pose.orientation
        try:
            self.odom.add(
                stamp_to_s(msg.header.stamp), np.array([pp.x, pp.y, pp.z]), np.array([po.x, po.y, po.z, po.w])
            )
        except CloudError as exc:
            self.get_logger().error(f"odometry ignored: {exc}", throttle_duration_sec=1.0)

    def on_points(self, msg: PointCloud2) -> None:
        self.process(lambda: cloud2_to_cloud(msg), msg.header)

    def on_custom(self, msg: CustomMsg) -> None:
        self.process(lambda: custom_to_cloud(msg), msg.header)

    def process(self, read, header) -> None:
        self.n_in += 1
        try:
            cloud: Cloud = read()
            pts, frame = clean_cloud(cloud, self.T, self.odom, self.cfg)
        except (CloudError, ValueError) as exc:
            self.n_bad += 1
            self.log.error(f"cloud skipped: {exc}")
            return
        if frame != "odom":
            self.get_logger().warning("no odometry yet: publishing in the torso frame", throttle_duration_sec=5.0)
        fields, data, step = xyz_to_cloud2_fields(pts)
        out = PointCloud2()
        out.header.stamp, out.header.frame_id = header.stamp, frame
        out.height, out.width = 1, len(pts)
        out.fields = [PointField(name=k, offset=o, datatype=d, count=1) for k, o, d in fields]
        out.is_bigendian, out.point_step, out.row_step, out.is_dense = False, step, step * len(pts), True
        out.data = data
        self.pub.publish(out)


def main() -> None:
    run(LidarIngest)
