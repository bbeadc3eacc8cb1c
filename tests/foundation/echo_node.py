"""Second process for the interface round-trip tests: echoes a message type or serves GetGridMap.

usage: python echo_node.py msg <pkg/msg/Type> <in_topic> <out_topic>
       python echo_node.py srv   (serves grid_map_msgs/srv/GetGridMap on /vm_test/get_grid_map)
"""

import importlib
import sys

import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node


def load(type_path: str):
    pkg, kind, name = type_path.split("/")
    return getattr(importlib.import_module(f"{pkg}.{kind}"), name)


def main() -> None:
    rclpy.init()
    node = Node("vm_test_echo")
    if sys.argv[1] == "msg":
        msg_type = load(sys.argv[2])
        pub = node.create_publisher(msg_type, sys.argv[4], 10)
        node.create_subscription(msg_type, sys.argv[3], pub.publish, 10)
    else:
        from grid_map_msgs.msg import GridMap
        from grid_map_msgs.srv import GetGridMap
        from std_msgs.msg import Float32MultiArray

        def serve(req, resp):
            m = GridMap()
            m.header.frame_id = req.frame_id
            m.info.length_x, m.info.length_y = req.length_x, req.length_y
            m.info.pose.position.x, m.info.pose.position.y = req.position_x, req.position_y
            m.layers = list(req.layers)
            m.data = [Float32MultiArray(data=[float(i)] * 4) for i, _ in enumerate(req.layers)]
            resp.map = m
            return resp

        node.create_service(GetGridMap, "/vm_test/get_grid_map", serve)
    print("ready", flush=True)
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        node.destroy_node()
        rclpy.try_shutdown()


if __name__ == "__main__":
    main()
