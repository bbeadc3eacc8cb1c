"""Each artifact has exactly one writer and one reader: its module in the registry
(``contracts.ARTIFACTS``). Every stage is imported, and every source file is read (AST): no other
code names an artifact's schema or does file I/O on an artifact's file name."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest
from videomimic_offline.contracts import ARTIFACTS

import videomimic_offline

REPO = Path(__file__).resolve().parents[2]
SRC = REPO / "src"

#: Calls that read or write a file (by function or method name).
IO_CALLS = {"read_npz", "write_npz", "read_json", "write_json", "atomic_write_bytes", "load", "savez",
            "savez_compressed", "read_text", "write_text", "read_bytes", "write_bytes", "open"}  # fmt: skip


def _module_file(module: str) -> Path:
    return Path(importlib.import_module(module).__file__).resolve()


def _sources() -> list[tuple[str, Path]]:
    out = []
    for pkg in ("videomimic_offline", "videomimic_nodes", "videomimic"):
        root = SRC / pkg / pkg
        out += [(str(p.relative_to(SRC)), p) for p in sorted(root.rglob("*.py"))]
    return out


def _call_name(node: ast.Call) -> str:
    f = node.func
    return f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""


def _strings(node: ast.AST) -> set[str]:
    return {n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)}


def test_every_module_imports() -> None:
    """Every stage's module imports (so the registry and the AST scan below see the code that runs)."""
    failed = []
    for m in pkgutil.walk_packages(videomimic_offline.__path__, "videomimic_offline."):
        try:
            importlib.import_module(m.name)
        except Exception as exc:  # report them all at once
            failed.append(f"{m.name}: {exc!r}")
    assert failed == []


@pytest.mark.parametrize("name", sorted(ARTIFACTS))
def test_registry_entry_holds_record_schema_writer_reader_and_conventions(name: str) -> None:
    a = ARTIFACTS[name]
    mod = importlib.import_module(a.module)
    assert isinstance(getattr(mod, a.schema_attr), str) and isinstance(getattr(mod, a.version_attr), int)
    assert callable(getattr(mod, a.writer)) and callable(getattr(mod, a.reader))
    doc = mod.__doc__ or ""
    assert len(doc) > 300, f"{a.module} must write its conventions down in its docstring"
    if a.module.startswith("videomimic_offline.contracts."):
        assert mod.FILE in a.file
        # inside its module, the one low-level write is in the writer and the one read in the reader
        tree = ast.parse(Path(mod.__file__).read_text())
        where: dict[str, list[str]] = {"write": [], "read": []}
        for fn in (n for n in tree.body if isinstance(n, ast.FunctionDef)):
            for call in (n for n in ast.walk(fn) if isinstance(n, ast.Call)):
                kind = _call_name(call)
                if kind in ("write_npz", "write_json"):
                    where["write"].append(fn.name)
                elif kind in ("read_npz", "read_json"):
                    where["read"].append(fn.name)
        assert where == {"write": [a.writer], "read": [a.reader]}, where


def test_no_other_code_writes_or_reads_an_artifact() -> None:
    owners = {name: _module_file(a.module) for name, a in ARTIFACTS.items()}
    schemas = {}
    for name, a in ARTIFACTS.items():
        value = getattr(importlib.import_module(a.module), a.schema_attr)
        if value.startswith("videomimic."):  # the exported policy's metadata key is a plain word
            schemas[value] = name
    files = {Path(f.strip()).name: name for name, a in ARTIFACTS.items() for f in a.file.split("/")}
    problems = []
    for rel, path in _sources():
        tree = ast.parse(path.read_text())
        mine = {name for name, owner in owners.items() if owner == path.resolve()}
        for node in ast.walk(tree):
            named = isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in schemas
            if named and schemas[node.value] not in mine:
                problems.append(f"{rel}:{node.lineno} names the {schemas[node.value]} schema")
            if isinstance(node, ast.Call) and _call_name(node) in IO_CALLS:
                for s in _strings(node):
                    if s in files and files[s] not in mine:
                        problems.append(f"{rel}:{node.lineno} does file I/O on {s} ({files[s]})")
            if isinstance(node, ast.FunctionDef):
                for name, a in ARTIFACTS.items():
                    if node.name in (a.writer, a.reader) and name not in mine:
                        problems.append(f"{rel}:{node.lineno} defines a second {node.name}")
    assert problems == []
