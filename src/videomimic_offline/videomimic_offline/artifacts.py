"""Versioned, atomically written artifacts and input-hash stage caching.

Every stage writes its outputs into a temporary sibling folder and renames it into place only
when complete, so a crash or Ctrl-C never leaves a half-written artifact. A stage records the
hash of its inputs and parameters in ``<out>/stage.json``; a re-run with the same hash is skipped
(resume), a different hash recomputes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from videomimic_offline.errors import ArtifactError

STAGE_FILE = "stage.json"


def _umask() -> int:
    """The process's file-creation mask (read without changing it where Linux allows)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)  # elsewhere: read it by setting it, and put it back at once
    os.umask(mask)
    return mask


def _publish(path: str | Path, directory: bool = False) -> None:
    """Give a temp file (mkstemp: 0600) or folder (mkdtemp: 0700) the mode a plain create would: the user's umask."""
    os.chmod(path, (0o777 if directory else 0o666) & ~_umask())


def hash_inputs(*items: Any) -> str:
    """Stable SHA-256 over files (by content), folders (by file contents) and JSON-able values."""
    h = hashlib.sha256()
    for item in items:
        if isinstance(item, (str, os.PathLike)) and Path(item).exists():
            p = Path(item)
            files = sorted(f for f in p.rglob("*") if f.is_file()) if p.is_dir() else [p]
            for f in files:
                h.update(str(f.relative_to(p) if p.is_dir() else f.name).encode())
                with open(f, "rb") as fh:
                    for chunk in iter(lambda: fh.read(1 << 20), b""):
                        h.update(chunk)
        else:
            h.update(json.dumps(item, sort_keys=True, default=str).encode())
    return h.hexdigest()[:16]


@contextlib.contextmanager
def atomic_dir(final: Path) -> Iterator[Path]:
    """Yield a temp folder beside ``final``; on success replace ``final`` with it, else delete it."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.partial-", dir=final.parent))
    _publish(tmp, directory=True)
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if final.exists():
        shutil.rmtree(final)
    os.replace(tmp, final)


@contextlib.contextmanager
def atomic_path(path: Path, suffix: str = "") -> Iterator[Path]:
    """Yield a temp file path beside ``path`` for a writer that opens files by name (npz, video);
    on success it becomes ``path`` (with the user's umask), on failure it is deleted."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=suffix or path.suffix, dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        _publish(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temp file + rename (readers never see a partial file)."""
    with atomic_path(Path(path)) as tmp, open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def write_json(path: Path, obj: Mapping[str, Any]) -> None:
    """Atomically write pretty JSON."""
    atomic_write_bytes(Path(path), (json.dumps(obj, indent=2, sort_keys=True, default=_jsonable) + "\n").encode())


def read_json(path: Path) -> dict[str, Any]:
    """Read JSON, turning absence or corruption into an ArtifactError that says what to do."""
    path = Path(path)
    if not path.is_file():
        raise ArtifactError(f"{path} is missing: run the stage that produces it first")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ArtifactError(f"{path} is corrupt JSON ({exc}); delete it and re-run its stage") from exc


def write_npz(path: Path, *, schema: str, version: int, **arrays: Any) -> None:
    """Atomically write an npz stamped with ``schema`` and ``version`` keys."""
    with atomic_path(Path(path), ".npz") as tmp:
        np.savez_compressed(tmp, schema=np.array(schema), version=np.array(version), **arrays)


def read_npz(path: Path, *, schema: str, max_version: int) -> dict[str, np.ndarray]:
    """Load an npz written by :func:`write_npz`, checking its schema name and version."""
    path = Path(path)
    if not path.is_file():
        raise ArtifactError(f"{path} is missing: run the stage that produces it first")
    try:
        with np.load(path, allow_pickle=False) as data:
            out = {k: data[k] for k in data.files}
    except Exception as exc:  # zipfile/ValueError on a corrupt file
        raise ArtifactError(f"{path} is not a readable npz ({exc}); delete it and re-run its stage") from exc
    got_schema = str(out.get("schema", ""))
    got_version = int(out.get("version", -1))
    if got_schema != schema:
        raise ArtifactError(f"{path} holds '{got_schema or 'unknown'}' data, expected '{schema}'")
    if not 0 <= got_version <= max_version:
        raise ArtifactError(
            f"{path} is {schema} version {got_version}; this code reads up to {max_version}: "
            "upgrade videomimic or re-run the stage"
        )
    return out


def stage_done(out_dir: Path, input_hash: str) -> bool:
    """True when ``out_dir`` holds a completed stage for exactly these inputs."""
    marker = Path(out_dir) / STAGE_FILE
    if not marker.is_file():
        return False
    try:
        return json.loads(marker.read_text()).get("input_hash") == input_hash
    except json.JSONDecodeError:
        return False


def mark_stage(out_dir: Path, name: str, input_hash: str, **extra: Any) -> None:
    """Record completion of stage ``name`` for ``input_hash`` (write this last, inside atomic_dir)."""
    write_json(Path(out_dir) / STAGE_FILE, {"stage": name, "input_hash": input_hash, **extra})


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (np.floating, np.integer)):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj)}")
