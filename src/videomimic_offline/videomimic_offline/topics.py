"""Topic names of the deploy graph: the one table that nodes, launch, the recorder and tests use.

Why here and not in ``videomimic.graph``: the nodes (``videomimic_nodes``) need these names, and the
bringup package ``videomimic`` (which declares the graph in ``graph.py`` and launches the nodes)
depends on ``videomimic_nodes``; the names therefore live in the ROS-free core that both already
depend on, so no package imports one that depends on it. ``videomimic.graph`` re-exports them and
stays the one declaration of the node graph.
"""

from __future__ import annotations

TOPICS: dict[str, str] = {
    "lowstate": "/lowstate",  # unitree_hg/LowState, robot -> bridge (500 Hz)
    "lowcmd": "/lowcmd",  # unitree_hg/LowCmd, bridge -> robot
    "lidar_custom": "/livox/lidar",  # livox_ros_driver2/CustomMsg (xfer_format 1)
    "lidar_points": "/livox/points",  # sensor_msgs/PointCloud2 (xfer_format 0)
    "odom": "/vm/odom",  # nav_msgs/Odometry of the torso in the odom frame
    "cloud": "/vm/cloud",  # sensor_msgs/PointCloud2, cleaned, odom frame
    "elevation_map": "/vm/elevation_map",  # grid_map_msgs/GridMap
    "heightmap": "/vm/heightmap",  # std_msgs/Float32MultiArray, 11x11 policy heightmap
    "joint_states": "/vm/joint_states",  # sensor_msgs/JointState from LowState
    "imu": "/vm/imu",  # sensor_msgs/Imu from LowState
    "joint_targets": "/vm/joint_targets",  # sensor_msgs/JointState, policy -> bridge (position = target)
    "joy": "/joy",  # sensor_msgs/Joy
    "direction_cmd": "/vm/direction_cmd",  # geometry_msgs/Twist: linear.x/y = xy (m), angular.z = yaw (rad)
    "estop": "/vm/estop",  # std_msgs/Bool, latched true = emergency stop
    "bridge_state": "/vm/bridge_state",  # std_msgs/String: damping | stand | policy | estop
    "events": "/vm/events",  # std_msgs/String, JSON {node, kind, text, ...}: falls, spawn, terrain (reliable, latched)
}

#: Topics the recorder writes by default.
RECORDED_TOPICS: tuple[str, ...] = (
    "lowstate", "lowcmd", "cloud", "heightmap", "joint_targets", "joy", "direction_cmd",
    "bridge_state", "odom", "estop", "events",
)  # fmt: skip
