"""ament_python packaging for the online nodes; each node is `ros2 run videomimic_nodes <node>`."""

from setuptools import find_packages, setup

PACKAGE = "videomimic_nodes"

# "<executable> = <module>:main" for every node.
NODES: list[str] = [
    f"{name} = {PACKAGE}.{name}_node:main"
    for name in (
        "sim_g1",
        "lidar_ingest",
        "elevation_map",
        "policy",
        "g1_bridge",
        "joy_teleop",
        "recorder",
        "joy_script",
        "state_estimator",
    )
]

setup(
    name=PACKAGE,
    version="0.1.0",
    packages=find_packages(exclude=["test", "tests"]),
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
    ],
    install_requires=["setuptools"],
    zip_safe=False,
    maintainer="VideoMimic ROS 2 developers",
    maintainer_email="dev@videomimic-ros2.invalid",
    description="Online VideoMimic ROS 2 nodes.",
    license="MIT",
    extras_require={"test": ["pytest"]},
    entry_points={"console_scripts": NODES},
)
