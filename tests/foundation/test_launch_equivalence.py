"""launch/deploy.launch.py and the graph runner start the same graph (where launch_ros exists)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

launch = pytest.importorskip(
    "launch", reason="launch/launch_ros are not installable from PyPI; runs on a ROS 2 install"
)
launch_ros = pytest.importorskip("launch_ros")

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "args", [{"sim": "true", "record": "true"}, {"sim": "false"}, {"sim": "true", "dds": "default"}]
)
def test_launch_file_matches_runner(args: dict[str, str]) -> None:
    from launch.launch_context import LaunchContext
    from videomimic.graph import deploy_graph

    spec = importlib.util.spec_from_file_location("deploy_launch", REPO / "launch" / "deploy.launch.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    config_dir = REPO / "config"
    ctx = LaunchContext()
    ctx.launch_configurations.update({"config_dir": str(config_dir), **args})
    description = module.generate_launch_description()
    nodes = []
    for entity in description.entities:
        if isinstance(entity, launch.actions.DeclareLaunchArgument):
            ctx.launch_configurations.setdefault(entity.name, entity.default_value[0].perform(ctx))
    for entity in description.entities:
        if isinstance(entity, launch.actions.OpaqueFunction):
            nodes += entity.execute(ctx)
    expected = deploy_graph({"config_dir": str(config_dir), **args}, config_dir)
    got = [(n.node_package, n.node_executable, n._Node__node_name) for n in nodes]
    assert got == [(s.package, s.executable, s.name) for s in expected]
    for node, s in zip(nodes, expected, strict=True):
        assert (node._Node__on_exit is not None) == s.required
