"""The deploy node graph, declared once.

``launch/deploy.launch.py`` translates this declaration into launch_ros actions; on machines
without ros2launch, :mod:`videomimic.runner` starts the very same graph as processes. Topic names
come from :mod:`videomimic_offline.topics` (re-exported here as ``TOPICS`` / ``RECORDED_TOPICS``): the
nodes need them too, and this package depends on the nodes, not the other way round.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from videomimic_offline.topics import RECORDED_TOPICS, TOPICS

__all__ = ["DEPLOY_ARGUMENTS", "RECORDED_TOPICS", "TOPICS", "NodeSpec", "deploy_graph", "deploy_notes"]

CONFIG_DIR_NAME = "config"


@dataclass(frozen=True)
class NodeSpec:
    """One node of the graph: what ``launch_ros.actions.Node`` takes, and nothing more."""

    name: str
    package: str
    executable: str
    parameters: tuple[str | dict[str, object], ...] = ()  # params-file paths and/or inline dicts
    remappings: tuple[tuple[str, str], ...] = ()
    required: bool = False  # if it exits, the whole graph stops (and the runner exits non-zero)
    arguments: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)


#: Launch arguments of deploy.launch.py with their defaults and meaning.
DEPLOY_ARGUMENTS: dict[str, tuple[str, str]] = {
    "sim": ("false", "true: simulated G1 + simulated MID-360 (sim_g1) instead of the robot and LiDAR driver"),
    "policy": (
        "",
        "path to an exported student (.onnx, or .pt with metadata); none is packaged: `./vm demo` writes "
        "runs/main/train/export/student.onnx, docs/training.md trains one. Empty: no policy node "
        "(stand and damping only; A is refused)",
    ),
    "scene": ("", "sim only: scene folder or heightfield .npz of a reconstruction; empty: flat ground with a step"),
    "spawn": (
        "",
        "sim only: where the robot starts: the robot_motion.npz of the scene (its first frame, facing its way), "
        "or x,y[,yaw]; empty: the origin, or the known terrain nearest to it",
    ),
    "record": ("false", "true: record a rosbag2 (MCAP) of the run under runs/bags/"),
    "joy_device": ("", "a /dev/input/js* device to read directly; empty: subscribe to /joy from a joy node"),
    "joy_script": ("", "sim only: a timed gamepad script (e.g. config/joy_demo.yaml) for unattended runs"),
    "lidar_driver": ("true", "real robot: start livox_ros_driver2 (set false if it runs elsewhere)"),
    "odom": (
        "estimator",
        "real robot: estimator (state_estimator: leg kinematics + IMU from LowState, drifts) | "
        "external (FAST-LIO or similar publishes /vm/odom; state_estimator is not started)",
    ),
    "config_dir": ("", "folder with the parameter files; empty: the installed videomimic/config"),
    "dds": (
        "auto",
        "auto: CycloneDDS on the robot's interface (config/cyclonedds_g1.xml) when sim is false; "
        "default: keep the environment's RMW",
    ),
}


#: Launch arguments that are booleans; anything but these spellings is refused before anything starts.
BOOLEAN_ARGUMENTS = ("sim", "record", "lidar_driver")
_TRUE, _FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off")


def _boolean(name: str, value: str) -> bool:
    v = str(value).strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise ValueError(f"{name}:={value!r} is not a boolean: use {name}:=true or {name}:=false")


def _resolved(args: dict[str, str]) -> dict[str, str]:
    unknown = set(args) - set(DEPLOY_ARGUMENTS)
    if unknown:
        raise ValueError(f"unknown launch argument(s) {sorted(unknown)}; known: {sorted(DEPLOY_ARGUMENTS)}")
    a = {k: args.get(k, default) for k, (default, _) in DEPLOY_ARGUMENTS.items()}
    for name in BOOLEAN_ARGUMENTS:
        _boolean(name, a[name])
    return a


def deploy_notes(args: dict[str, str]) -> list[str]:
    """What a user should know about this choice of arguments, one line each (printed before the start)."""
    a = _resolved(args)
    notes = []
    if not a["policy"].strip():
        notes.append(
            "no policy:= given: starting without the policy node (stand and damping work; A is refused). "
            "A policy: `./vm demo` writes runs/main/train/export/student.onnx; docs/training.md trains one."
        )
    return notes


def deploy_graph(args: dict[str, str], config_dir: Path) -> list[NodeSpec]:
    """The deploy graph for resolved launch arguments ``args``; params come from ``config_dir``."""
    a = _resolved(args)
    sim = _boolean("sim", a["sim"])
    params = str(config_dir / "deploy.yaml")
    env: dict[str, str] = {}
    if a["dds"] == "auto" and not sim:
        # unitree_ros2 speaks CycloneDDS; bind it to the robot's network interface.
        env = {
            "RMW_IMPLEMENTATION": "rmw_cyclonedds_cpp",
            "CYCLONEDDS_URI": f"file://{config_dir / 'cyclonedds_g1.xml'}",
        }
    elif a["dds"] not in ("auto", "default"):
        raise ValueError(f"dds:={a['dds']} is not one of auto, default")
    if a["odom"] not in ("estimator", "external"):
        raise ValueError(f"odom:={a['odom']} is not one of estimator, external")
    nodes: list[NodeSpec] = []
    if sim:
        nodes.append(
            NodeSpec(
                "sim_g1", "videomimic_nodes", "sim_g1",
                (params, str(config_dir / "sim.yaml"), {"scene": a["scene"], "spawn": a["spawn"]}), required=True,
            )
        )  # fmt: skip
    elif _boolean("lidar_driver", a["lidar_driver"]):
        nodes.append(NodeSpec("livox_lidar_publisher", "livox_ros_driver2", "livox_ros_driver2_node",
                              (str(config_dir / "livox_mid360.yaml"),)))  # fmt: skip
    if not sim and a["odom"] == "estimator":  # sim_g1 publishes the true odometry itself
        nodes.append(NodeSpec("state_estimator", "videomimic_nodes", "state_estimator", (params,)))
    nodes += [
        NodeSpec("lidar_ingest", "videomimic_nodes", "lidar_ingest", (params,)),
        NodeSpec("elevation_map", "videomimic_nodes", "elevation_map", (params,)),
        *(
            [NodeSpec("policy", "videomimic_nodes", "policy", (params, {"policy_path": a["policy"]}), required=True)]
            if a["policy"].strip()
            else []
        ),
        NodeSpec(
            "g1_bridge",
            "videomimic_nodes",
            "g1_bridge",
            (params, *((str(config_dir / "sim.yaml"),) if sim else ()), {"sim": sim}),
            required=True,
        ),
        NodeSpec("joy_teleop", "videomimic_nodes", "joy_teleop", (params, {"device": a["joy_device"]})),
    ]
    if a["joy_script"]:
        if not sim:
            raise ValueError("joy_script:= drives the robot without an operator: it is allowed with sim:=true only")
        script = a["joy_script"] if "/" in a["joy_script"] else str(config_dir / a["joy_script"])  # name: in config/
        nodes.append(NodeSpec("joy_script", "videomimic_nodes", "joy_script", ({"script": script},)))
    if a["spawn"] and not sim:
        raise ValueError("spawn:= places the simulated robot: it is allowed with sim:=true only")
    if _boolean("record", a["record"]):
        nodes.append(NodeSpec("recorder", "videomimic_nodes", "recorder",
                              (params, {"policy": a["policy"], "scene": a["scene"]})))  # fmt: skip
    return [NodeSpec(**{**n.__dict__, "env": {**env, **n.env}}) for n in nodes]
