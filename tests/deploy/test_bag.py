"""The recorder's bag writer: parts while recording, one file at a clean stop, no folder when nothing
was recorded, the user's umask (issues #13 item 6 and #16)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
import yaml
from rosbags.rosbag2 import Reader
from rosbags.typesys import Stores, get_typestore
from videomimic_nodes.core.bag import SegmentedBag

STORE = get_typestore(Stores.ROS2_JAZZY)
TOPICS = {"/chat": "std_msgs/msg/String", "/n": "std_msgs/msg/Int32"}


def _cdr(topic: str, i: int) -> bytes:
    if topic == "/chat":
        msg = STORE.types["std_msgs/msg/String"](data=f"m{i}")
        return bytes(STORE.serialize_cdr(msg, "std_msgs/msg/String"))
    return bytes(STORE.serialize_cdr(STORE.types["std_msgs/msg/Int32"](data=i), "std_msgs/msg/Int32"))


def _record(path: Path, seconds: float, rate_hz: float = 50.0, **kw) -> tuple[SegmentedBag, int]:
    """Write ``seconds`` of both topics at ``rate_hz`` with a simulated clock; returns the bag and the count."""
    bag = SegmentedBag(path, TOPICS, STORE, {"policy": "p.onnx"}, flush_s=2.0, **kw)
    n = int(seconds * rate_hz)
    for i in range(n):
        now = i / rate_hz
        for topic in TOPICS:
            bag.write(topic, 10**9 + int(now * 1e9), _cdr(topic, i), now)
    return bag, 2 * n


def _messages(path: Path) -> list[tuple[str, int]]:
    with Reader(path) as reader:
        return [(c.topic, t) for c, t, _ in reader.messages()]


def test_a_19_s_recording_ends_as_one_file(tmp_path: Path) -> None:
    """Parts every flush_s while recording (each a complete, readable bag), one MCAP file after close,
    as rosbag2 records by default."""
    path = tmp_path / "run"
    bag, n = _record(path, 19.0)
    parts = yaml.safe_load((path / "metadata.yaml").read_text())["rosbag2_bagfile_information"]
    assert len(parts["relative_file_paths"]) == 9  # closed every 2 s: a crash now loses < 2 s
    mid = len(_messages(path))
    assert 0.85 * n < mid < n  # readable mid-recording, up to the last flush
    bag.close()
    assert sorted(p.name for p in path.iterdir()) == ["metadata.yaml", "run_0.mcap"]
    got = _messages(path)
    assert len(got) == n and [t for _, t in got] == sorted(t for _, t in got)
    meta = yaml.safe_load((path / "metadata.yaml").read_text())["rosbag2_bagfile_information"]
    assert meta["message_count"] == n and meta["custom_data"]["policy"] == "p.onnx"
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())  # no staging left behind


def test_max_bag_size_splits_like_rosbag2(tmp_path: Path) -> None:
    path = tmp_path / "run"
    bag, n = _record(path, 10.0, max_bag_size=4000)
    bag.close()
    files = sorted(p.name for p in path.glob("*.mcap"))
    assert len(files) > 2 and files[0] == "run_0.mcap"
    assert len(_messages(path)) == n


def test_nothing_recorded_leaves_no_folder(tmp_path: Path) -> None:
    """A graph that fails at start stops the recorder before anything arrived: no folder (an empty one
    without metadata.yaml could not be opened by rosbags or ros2 bag)."""
    bag = SegmentedBag(tmp_path / "run", TOPICS, STORE, {}, flush_s=2.0)
    bag.close()
    assert list(tmp_path.iterdir()) == []
    bag = SegmentedBag(tmp_path / "run2", TOPICS, STORE, {}, flush_s=2.0)
    bag.write("/n", 1, _cdr("/n", 1), 0.0)  # one message, no flush yet: still no folder ...
    assert not (tmp_path / "run2").exists()
    bag.close()  # ... until it is closed: a complete bag with that message
    assert _messages(tmp_path / "run2") == [("/n", 1)]


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_bag_files_follow_the_umask(tmp_path: Path, umask: int) -> None:
    old = os.umask(umask)
    try:
        bag, _ = _record(tmp_path / "run", 5.0)
        bag.close()
    finally:
        os.umask(old)
    for p in [tmp_path / "run", *(tmp_path / "run").iterdir()]:
        want = (0o777 if p.is_dir() else 0o666) & ~umask
        assert stat.S_IMODE(p.stat().st_mode) == want, (p.name, oct(p.stat().st_mode), oct(want))


def test_a_bag_too_large_to_join_in_time_keeps_its_parts(tmp_path: Path, monkeypatch) -> None:
    from videomimic_nodes.core import bag as bag_module

    monkeypatch.setattr(bag_module, "JOIN_MAX_BYTES", 1000)
    bag, n = _record(tmp_path / "run", 9.0)
    bag.close()
    assert len(list((tmp_path / "run").glob("*.mcap"))) == 5 and len(_messages(tmp_path / "run")) == n
