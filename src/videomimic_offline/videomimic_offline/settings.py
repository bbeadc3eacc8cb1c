"""One owner for every setting: each stage's config is a (nested) dataclass, and from it come the
command line, the cache key and the resolved config saved beside the stage's outputs.

Why one mechanism: a hand-written flag list, a hand-written cache-key list and a function default
drift apart (a new field that is read but not hashed silently reuses stale outputs). Here a new
field is on the command line, hashed and saved by default; a field that cannot change results
(progress bars, worker counts) says so once, with ``setting(..., hashed=False)``.

Conventions for stage configs:
- every field has a default and a ``#:`` comment above it (it becomes the ``--help`` text);
- choices are ``Literal[...]`` types (``--help`` lists them, a wrong one is refused);
- validation lives in ``__post_init__`` and raises :class:`~videomimic_offline.errors.ConfigError`.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import types
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

from videomimic_offline import artifacts

T = TypeVar("T")

_HASHED = "videomimic.hashed"


def setting(
    default: Any = dataclasses.MISSING, *, default_factory: Any = dataclasses.MISSING, hashed: bool = True
) -> Any:
    """A config field; ``hashed=False`` marks one that cannot change a stage's results."""
    kw: dict[str, Any] = {"metadata": {_HASHED: hashed}}
    if default is not dataclasses.MISSING:
        kw["default"] = default
    if default_factory is not dataclasses.MISSING:
        kw["default_factory"] = default_factory
    return dataclasses.field(**kw)


def _plain(value: Any, *, for_hash: bool) -> Any:
    """A JSON-able copy; in a cache key an existing file or folder is hashed by content."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _plain(getattr(value, f.name), for_hash=for_hash)
            for f in dataclasses.fields(value)
            if f.init and (not for_hash or f.metadata.get(_HASHED, True))
        }
    if isinstance(value, Path):
        if for_hash and value.exists():
            return {"path": str(value), "content": artifacts.hash_inputs(value)}
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): _plain(v, for_hash=for_hash) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v, for_hash=for_hash) for v in value]
    return value


def resolved(cfg: Any) -> dict[str, Any]:
    """Every field of ``cfg`` (nested configs included) as plain JSON-able values."""
    return _plain(cfg, for_hash=False)


def cache_key(cfg: Any) -> dict[str, Any]:
    """The fields of ``cfg`` that can change results (all but ``hashed=False``), files by content."""
    return _plain(cfg, for_hash=True)


def save_resolved(cfg: Any, path: Path) -> None:
    """Write the resolved config as JSON beside a stage's outputs (atomically)."""
    artifacts.write_json(Path(path), {"config": type(cfg).__qualname__, **resolved(cfg)})


def load_resolved(cls: type[T], path: Path) -> T:
    """Rebuild a config saved by :func:`save_resolved` (unknown keys are an error, not ignored)."""
    data = artifacts.read_json(Path(path))
    data.pop("config", None)
    return from_dict(cls, data)


def from_dict(cls: type[T], data: dict[str, Any]) -> T:
    """Build ``cls`` from plain values, recursing into nested config dataclasses."""
    from videomimic_offline.errors import ConfigError

    names = {f.name: f for f in dataclasses.fields(cls) if f.init}  # type: ignore[arg-type]
    unknown = sorted(set(data) - set(names))
    if unknown:
        raise ConfigError(f"{cls.__name__} has no setting(s) {', '.join(unknown)}; valid: {', '.join(names)}")
    kwargs: dict[str, Any] = {}
    hints = _type_hints(cls)
    for name, value in data.items():
        hint = hints.get(name)
        if dataclasses.is_dataclass(hint) and isinstance(value, dict):
            value = from_dict(hint, value)  # type: ignore[arg-type]
        else:
            value = _coerce(hint, value)
        kwargs[name] = value
    return cls(**kwargs)


def _coerce(hint: Any, value: Any) -> Any:
    """Undo what JSON did to ``value`` (tuples became lists, paths strings), so a round trip gives
    back an equal config."""
    import typing

    if value is None or hint is None:
        return value
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        kinds = [a for a in args if a is not type(None)]
        return _coerce(kinds[0], value) if len(kinds) == 1 else value
    if hint is Path and isinstance(value, str):
        return Path(value)
    if origin in (list, tuple) and isinstance(value, list):
        if origin is tuple and args and args[-1] is not Ellipsis:  # tuple[int, int]: one type per item
            items = [_coerce(a, v) for a, v in zip(args, value)]
        else:  # list[X], tuple[X, ...]
            items = [_coerce(args[0] if args else None, v) for v in value]
        return tuple(items) if origin is tuple else items
    return value


def _type_hints(cls: type) -> dict[str, Any]:
    import typing

    try:
        return typing.get_type_hints(cls)
    except Exception:  # unresolved forward references: fall back to no nesting
        return {}


def parse_cli(
    cls: type[T], args: Sequence[str] | None = None, *, prog: str | None = None, description: str | None = None
) -> T:
    """Parse a command line into ``cls`` with tyro: every field is a ``--flag`` with its default,
    its ``#:`` comment as help and its ``Literal`` choices listed."""
    import tyro

    return tyro.cli(cls, args=args, prog=prog, description=description)


def dumps(cfg: Any) -> str:
    """The resolved config as indented JSON (for logs and ``--print-config``)."""
    return json.dumps(resolved(cfg), indent=2, sort_keys=True)
