"""ament_python packaging for bringup: installs launch/ and config/ so `ros2 launch videomimic ...` works."""

from glob import glob

from setuptools import find_packages, setup

PACKAGE = "videomimic"

setup(
    name=PACKAGE,
    version="0.1.0",
    packages=find_packages(exclude=["test", "tests"]),
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
        (f"share/{PACKAGE}/launch", glob("launch/*.launch.py")),
        (f"share/{PACKAGE}/config", glob("config/*.yaml") + glob("config/*.xml")),
    ],
    install_requires=["setuptools"],
    zip_safe=False,
    maintainer="VideoMimic ROS 2 developers",
    maintainer_email="dev@videomimic-ros2.invalid",
    description="VideoMimic bringup and graph runner.",
    license="MIT",
    extras_require={"test": ["pytest"]},
    entry_points={
        "console_scripts": [
            "vm_launch = videomimic.runner:main",
            "vm_run = videomimic.rosrun:main",
        ]
    },
)
