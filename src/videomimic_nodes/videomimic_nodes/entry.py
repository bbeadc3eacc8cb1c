"""Every node executable starts here: signals are the node's own from the first instruction, and
``--help`` describes the node and its parameters without starting anything.

Each executable in ``lib/videomimic_nodes`` is ``bin/vm_node`` under the node's name (see
``setup.py``): it installs :mod:`videomimic_nodes.shutdown` first, so a Ctrl-C that lands while
the node is still importing rclpy, numpy or MuJoCo is taken, not turned into a
``KeyboardInterrupt`` traceback, and then calls :func:`main`. ``ros2 run videomimic_nodes sim_g1
--help`` imports the node's module only to read its docstring and ``PARAMS``.
"""

from __future__ import annotations

import importlib
import sys
import textwrap

from videomimic_nodes.shutdown import STOP

#: Node executables (``ros2 run videomimic_nodes <name>``), each in ``videomimic_nodes/<name>_node.py``.
NODES: tuple[str, ...] = (
    "sim_g1", "lidar_ingest", "elevation_map", "policy", "g1_bridge", "joy_teleop", "recorder", "joy_script",
    "state_estimator",
)  # fmt: skip

#: Parameters every node takes (declared in ``ros_common``), with what they mean.
COMMON_PARAMS: dict[str, tuple[object, str]] = {
    "realtime_priority": (0, "SCHED_FIFO priority for the whole node (0: normal; needs CAP_SYS_NICE)"),
    "<key>_topic": ("", "any topic the node uses can be renamed (keys and defaults: videomimic_offline.topics)"),
}


def node_help(name: str) -> str:
    """What ``<node> --help`` prints: the module's description, usage and every parameter with its default."""
    module = importlib.import_module(f"videomimic_nodes.{name}_node")
    rows = {**getattr(module, "PARAMS", {}), **COMMON_PARAMS}
    width = max(len(k) for k in rows)
    lines = [
        (module.__doc__ or name).strip(),
        "",
        f"usage: ros2 run videomimic_nodes {name} [--ros-args -p NAME:=VALUE ... | --params-file FILE]",
        f"       (without ROS: ./vm run videomimic_nodes {name} ...; in the deploy graph: ./vm launch deploy)",
        "",
        "parameters (default; config/deploy.yaml and config/sim.yaml set the deploy graph's values):",
    ]
    for key, (default, doc) in rows.items():
        text = f"{doc} (default: {default!r})" if key != "<key>_topic" else doc
        wrapped = textwrap.wrap(text, 100 - width - 4) or [""]
        lines.append(f"  {key:<{width}}  {wrapped[0]}")
        lines += [f"  {'':<{width}}  {w}" for w in wrapped[1:]]
    return "\n".join(lines)


def main(name: str) -> None:
    """Run node ``name`` (``bin/vm_node`` under that name calls this), or print its ``--help``."""
    STOP.install()  # bin/vm_node did it already; a direct call gets it here
    if name not in NODES:
        print(f"error: no node '{name}' in videomimic_nodes (nodes: {', '.join(NODES)})", file=sys.stderr)
        sys.exit(2)
    argv = sys.argv[1:]
    own = argv[: argv.index("--ros-args")] if "--ros-args" in argv else argv
    if "-h" in own or "--help" in own:
        try:
            print(node_help(name), flush=True)
        except BrokenPipeError:  # `... --help | head`
            sys.stdout = None
        sys.exit(0)
    importlib.import_module(f"videomimic_nodes.{name}_node").main()
