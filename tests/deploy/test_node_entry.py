"""Every node is wired the same way: listed in entry.NODES, a bin/ symlink to vm_node, a PARAMS table."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

pytest.importorskip("rclpy")

REPO = Path(__file__).resolve().parents[2]
PKG = REPO / "src" / "videomimic_nodes"


def test_every_node_module_is_an_executable_with_documented_parameters() -> None:
    from videomimic_nodes.entry import NODES

    modules = sorted(p.stem.removesuffix("_node") for p in (PKG / "videomimic_nodes").glob("*_node.py"))
    assert sorted(NODES) == modules
    for name in NODES:
        link = PKG / "bin" / name
        assert link.is_symlink() and link.readlink() == Path("vm_node"), name
        params = importlib.import_module(f"videomimic_nodes.{name}_node").PARAMS
        assert params and all(isinstance(doc, str) and doc for _default, doc in params.values()), name
