"""Deploy VideoMimic on a G1 (or a simulated one): `ros2 launch videomimic deploy.launch.py sim:=true`.

A thin translation of :func:`videomimic.graph.deploy_graph` — the single declaration of the node
graph — into launch_ros actions. Without ros2launch, `./vm launch deploy sim:=true` starts the same
graph (see videomimic/runner.py). Arguments: `ros2 launch videomimic deploy.launch.py --show-args`.
"""

from pathlib import Path

from ament_index_python.packages import get_package_share_directory
from launch.actions import DeclareLaunchArgument, LogInfo, OpaqueFunction, Shutdown
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node
from videomimic.graph import DEPLOY_ARGUMENTS, NodeSpec, deploy_graph, deploy_notes

from launch import LaunchDescription


def to_launch_ros(spec: NodeSpec) -> Node:
    """One graph node as a launch_ros Node; a required node's exit shuts the launch down."""
    return Node(
        package=spec.package,
        executable=spec.executable,
        name=spec.name,
        parameters=list(spec.parameters),
        remappings=list(spec.remappings),
        arguments=list(spec.arguments),
        additional_env=dict(spec.env) or None,
        # a list, so launch's public get_sub_entities() shows it (tests/foundation/test_launch_equivalence.py)
        on_exit=[Shutdown(reason=f"required node {spec.name} exited")] if spec.required else None,
        output="screen",
    )


def _nodes(context, *_, **__):
    args = {key: LaunchConfiguration(key).perform(context) for key in DEPLOY_ARGUMENTS}
    config_dir = args["config_dir"] or str(Path(get_package_share_directory("videomimic")) / "config")
    nodes = [to_launch_ros(spec) for spec in deploy_graph(args, Path(config_dir))]  # refuses bad arguments
    return [*(LogInfo(msg=f"note: {note}") for note in deploy_notes(args)), *nodes]


def generate_launch_description() -> LaunchDescription:
    declared = [DeclareLaunchArgument(k, default_value=d, description=doc) for k, (d, doc) in DEPLOY_ARGUMENTS.items()]
    return LaunchDescription([*declared, OpaqueFunction(function=_nodes)])
