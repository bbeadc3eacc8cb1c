"""ament_python packaging for the online nodes; each node is `ros2 run videomimic_nodes <node>`."""

import sys
from pathlib import Path

from setuptools import find_packages, setup

PACKAGE = "videomimic_nodes"
sys.path.insert(0, str(Path(__file__).resolve().parent))
from videomimic_nodes.entry import NODES as NODE_NAMES  # noqa: E402  (imports nothing but the stdlib)

# Every node executable is bin/vm_node under the node's name (installed as data, not an entry point:
# see bin/vm_node); the operator tool is an ordinary console script.
CONSOLE_SCRIPTS: list[str] = [
    f"vm_operator = {PACKAGE}.operator:main",
    f"vm_deploy_check = {PACKAGE}.core.deploy_check:main",
]

setup(
    name=PACKAGE,
    version="0.1.0",
    packages=find_packages(exclude=["test", "tests"]),
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
        (f"lib/{PACKAGE}", [f"bin/{name}" for name in NODE_NAMES]),
    ],
    install_requires=["setuptools"],
    zip_safe=False,
    maintainer="VideoMimic ROS 2 developers",
    maintainer_email="dev@videomimic-ros2.invalid",
    description="Online VideoMimic ROS 2 nodes.",
    license="MIT",
    extras_require={"test": ["pytest"]},
    entry_points={"console_scripts": CONSOLE_SCRIPTS},
)
