"""Online VideoMimic nodes. ``core/`` holds the ROS-free logic; ``*_node.py`` are thin rclpy shells."""
