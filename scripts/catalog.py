"""What the workspace offers, read from the one place each list lives (for `./vm help` and `./vm bench`).

- tools: the console scripts of ``src/videomimic_offline/setup.py`` (``TOOLS``, by area) and of
  ``src/videomimic_nodes/setup.py`` (``CONSOLE_SCRIPTS``), each with the first line of its entry
  function's docstring (or its module's);
- nodes: ``videomimic_nodes/entry.py::NODES``;
- graphs: the keys of ``videomimic/runner.py::GRAPHS`` (what ``vm_launch`` starts);
- benches: ``bench/*.py`` run as scripts (``peer_*`` are run by ``bench/retarget.py`` in another
  interpreter, ``peer_inputs.py`` is a module), each with its docstring's first line.

Everything is read with ``ast``: no import of the project, no venv, so ``./vm help`` works in a
fresh clone before setup. ``python scripts/catalog.py [help|benches|bench-names]``.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"


def _assigned(path: Path, name: str) -> object:
    """The literal value assigned to ``name`` at module level of ``path`` (f-strings with one
    ``{PACKAGE}`` placeholder resolved)."""
    tree = ast.parse(path.read_text())
    consts: dict[str, object] = {}
    for node in tree.body:
        target, value = None, None
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            target, value = node.targets[0].id, node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            target, value = node.target.id, node.value
        if target is None or value is None:
            continue
        try:
            consts[target] = _literal(value, consts)
        except ValueError:
            continue
        if target == name:
            return consts[target]
    raise LookupError(f"{path.relative_to(ROOT)} assigns no literal '{name}'")


def _literal(node: ast.AST, consts: dict[str, object]) -> object:
    if isinstance(node, ast.JoinedStr):  # f"... {PACKAGE} ..."
        parts = []
        for v in node.values:
            if isinstance(v, ast.Constant):
                parts.append(str(v.value))
            elif isinstance(v, ast.FormattedValue) and isinstance(v.value, ast.Name) and v.value.id in consts:
                parts.append(str(consts[v.value.id]))
            else:
                raise ValueError("not a literal")
        return "".join(parts)
    if isinstance(node, ast.List | ast.Tuple):
        return [_literal(e, consts) for e in node.elts]
    if isinstance(node, ast.Dict):
        return {_literal(k, consts): _literal(v, consts) for k, v in zip(node.keys, node.values, strict=True)}
    if isinstance(node, ast.Name) and node.id in consts:
        return consts[node.id]
    if isinstance(node, ast.Constant):
        return node.value
    raise ValueError("not a literal")


def _first_line(doc: str | None) -> str:
    """The first sentence of a docstring, without a leading "`tool` (`./vm x`): " that names the tool again."""
    lines = [ln.strip() for ln in (doc or "").strip().splitlines()]
    text = " ".join(lines[: lines.index("")] if "" in lines else lines)
    text = re.sub(r"^`+[^`]+`+(?: \([^)]*\))?: ", "", text)
    text = text.split(". ")[0].rstrip(".")
    return text[:1].upper() + text[1:]


def _entry_doc(package: str, target: str) -> str:
    """First sentence of the docstring of ``module:function`` (else the module's) in ``src/<package>``."""
    module, func = target.strip().split(":")
    path = SRC / package / Path(*module.split("."))
    path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    tree = ast.parse(path.read_text())
    for node in tree.body:
        doc = ast.get_docstring(node) if isinstance(node, ast.FunctionDef) and node.name == func else None
        if doc and not doc.startswith("CLI"):  # "CLI: usage ..." says how, the module what
            return _first_line(doc)
    return _first_line(ast.get_docstring(tree))


def tools() -> dict[str, list[tuple[str, str]]]:
    """{area: [(tool, what it does)]}: every console script of the workspace."""
    out: dict[str, list[tuple[str, str]]] = {}
    groups = _assigned(SRC / "videomimic_offline" / "setup.py", "TOOLS")
    groups["deploy"] = _assigned(SRC / "videomimic_nodes" / "setup.py", "CONSOLE_SCRIPTS")
    for area, entries in groups.items():
        package = "videomimic_nodes" if area == "deploy" else "videomimic_offline"
        rows = []
        for entry in entries:
            name, target = (s.strip() for s in entry.split("="))
            rows.append((name, _entry_doc(package, target)))
        out[area] = rows
    return out


def nodes() -> list[str]:
    return list(_assigned(SRC / "videomimic_nodes" / "videomimic_nodes" / "entry.py", "NODES"))


def graphs() -> list[str]:
    """The graph names ``vm_launch`` knows (keys of ``runner.GRAPHS``)."""
    tree = ast.parse((SRC / "videomimic" / "videomimic" / "runner.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.AnnAssign | ast.Assign):
            target = node.target if isinstance(node, ast.AnnAssign) else node.targets[0]
            if isinstance(target, ast.Name) and target.id == "GRAPHS" and isinstance(node.value, ast.Dict):
                return [k.value for k in node.value.keys if isinstance(k, ast.Constant)]
    raise LookupError("runner.py has no GRAPHS dict")


def benches() -> list[tuple[str, str]]:
    """[(name, what it measures)]: the scripts in bench/ a user runs (``./vm bench NAME``)."""
    rows = []
    for path in sorted((ROOT / "bench").glob("*.py")):
        if path.stem.startswith("peer_"):
            continue  # run by bench/retarget.py inside the peer project's interpreter, or a helper module
        tree = ast.parse(path.read_text())
        rows.append((path.stem, _first_line(ast.get_docstring(tree))))
    return rows


def _table(rows: list[tuple[str, str]], indent: str = "  ", width: int = 0) -> list[str]:
    width = max([width, *(len(n) for n, _ in rows)])
    return [f"{indent}{n:<{width}}  {d}" for n, d in rows]


def help_text() -> str:
    lines = ["", "Tools (./vm run PACKAGE TOOL --help, or TOOL --help in ./vm shell):"]
    groups = tools()
    width = max(len(n) for rows in groups.values() for n, _ in rows)
    for area, rows in groups.items():
        pkg = "videomimic_nodes" if area == "deploy" else "videomimic_offline"
        lines.append(f" {area} ({pkg}):")
        lines += _table(rows, width=width)
    lines += ["", f"Nodes (./vm run videomimic_nodes NODE --help): {', '.join(nodes())}"]
    lines += ["", "Graphs (./vm launch GRAPH --show-args lists its arguments):"]
    lines += [f"  {g}  (launch/{g}.launch.py)" for g in graphs()]
    lines += ["", "Benches (./vm bench NAME [ARGS]; each prints its figures and ends with one JSON line):"]
    lines += _table(benches())
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    what = argv[0] if argv else "help"
    if what == "help":
        print(help_text())
    elif what == "benches":
        print("\n".join(_table(benches())))
    elif what == "bench-names":
        print(" ".join(n for n, _ in benches()))
    else:
        print(f"catalog.py: unknown '{what}' (help, benches, bench-names)", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except BrokenPipeError:  # `./vm help | head`
        sys.exit(0)
