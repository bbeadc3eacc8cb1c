"""The config mechanism: CLI, cache key and resolved config all come from the dataclass."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Literal

import pytest
from videomimic_offline.errors import ConfigError

from videomimic_offline import settings


@dataclasses.dataclass
class _Inner:
    #: A weight.
    w: float = 1.0
    #: Show progress bars.
    progress: bool = settings.setting(True, hashed=False)


@dataclasses.dataclass
class _Cfg:
    #: The person's height (m).
    height_m: float | None = None
    #: Which backend.
    backend: Literal["a", "b"] = "a"
    #: A file whose content matters.
    weights: Path | None = None
    #: Layer sizes.
    sizes: tuple[int, ...] = (4, 4)
    inner: _Inner = dataclasses.field(default_factory=_Inner)

    def __post_init__(self) -> None:
        if self.height_m is not None and self.height_m <= 0:
            raise ConfigError("height_m must be > 0")


def test_cli_sets_every_field_and_refuses_bad_choices(capsys: pytest.CaptureFixture[str]) -> None:
    cfg = settings.parse_cli(_Cfg, ["--height_m", "1.8", "--backend", "b", "--inner.w", "2", "--inner.no-progress"])
    assert cfg == _Cfg(height_m=1.8, backend="b", inner=_Inner(w=2.0, progress=False))
    with pytest.raises(SystemExit):
        settings.parse_cli(_Cfg, ["--backend", "c"])
    with pytest.raises(SystemExit):
        settings.parse_cli(_Cfg, ["--help"])
    out = capsys.readouterr().out
    assert "The person's height (m)." in out and "default: None" in out and "{a,b}" in out
    with pytest.raises(ConfigError):
        settings.parse_cli(_Cfg, ["--height_m", "-1"])


def test_cache_key_hashes_new_fields_and_file_contents_but_not_excluded_ones(tmp_path: Path) -> None:
    base = settings.cache_key(_Cfg())
    assert settings.cache_key(_Cfg(inner=_Inner(progress=False))) == base
    assert settings.cache_key(_Cfg(inner=_Inner(w=2.0))) != base
    f = tmp_path / "w.bin"
    f.write_bytes(b"one")
    k1 = settings.cache_key(_Cfg(weights=f))
    f.write_bytes(b"two")
    assert settings.cache_key(_Cfg(weights=f)) != k1


def test_resolved_round_trip(tmp_path: Path) -> None:
    cfg = _Cfg(height_m=1.6, backend="b", weights=tmp_path / "x", sizes=(8, 2), inner=_Inner(w=3.0, progress=False))
    settings.save_resolved(cfg, tmp_path / "config.json")
    back = settings.load_resolved(_Cfg, tmp_path / "config.json")
    assert back == cfg  # tuples come back as tuples, nested configs as their dataclasses
    with pytest.raises(ConfigError, match="no setting"):
        settings.from_dict(_Cfg, {"heigth_m": 1.7})
