"""A rosbag2 (MCAP) writer that survives crashes up to its last flush, and ends as one file.

rosbags writes an MCAP file's index and ``metadata.yaml`` only when it closes, so a killed
recorder would leave an unreadable bag. While recording, this writer therefore closes a complete
part file every ``flush_s`` seconds and rewrites the bag's ``metadata.yaml`` (atomically) to list
every closed part: at every flush the bag is a standard multi-file rosbag2. On a clean stop the
parts are joined into one file, as rosbag2 records by default (``max_bag_size`` > 0 splits the
result by size, like ``ros2 bag record --max-bag-size``); a bag over ``JOIN_MAX_BYTES``, or a stop
that is cut short, keeps the parts: still a valid bag.

The bag folder appears at the first flush, never before: a graph that fails at start leaves no
folder, rather than one without ``metadata.yaml``. Parts are written beside it in a hidden staging
folder. Messages are the raw CDR bytes received from DDS, so recording deserialises nothing.
Files and folders get the user's umask.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import yaml
from rosbags.rosbag2 import Reader, StoragePlugin, Writer

#: Bags larger than this keep their parts at a clean stop: joining runs at ~70 MB/s on a loaded 2-core
#: machine, and launchers kill a node that is still stopping after 10 s (ros2 launch: SIGTERM at 5 s,
#: SIGKILL at 10 s; vm_launch: 5 s + 3 s). The parts are a valid multi-file bag either way.
JOIN_MAX_BYTES = 256 * 1024 * 1024


class SegmentedBag:
    """Multi-part MCAP bag; ``write`` raw CDR, ``maybe_flush`` closes a part every ``flush_s``."""

    def __init__(
        self,
        path: Path,
        topics: dict[str, str],
        typestore,
        custom_data: dict[str, str],
        flush_s: float = 2.0,
        max_bag_size: int = 0,
    ):
        self.path = Path(path)
        if self.path.exists():
            raise FileExistsError(f"bag {self.path} already exists; choose another output path")
        self.topics, self.store, self.custom = topics, typestore, custom_data
        self.flush_s, self.max_bag_size = flush_s, int(max_bag_size)
        self._stage = self.path.parent / f".{self.path.name}.recording"
        self._meta: dict | None = None
        self._index = 0
        self._writer: Writer | None = None
        self._conns: dict = {}
        self._t_open = 0.0
        self.counts: dict[str, int] = dict.fromkeys(topics, 0)

    def _open(self, now: float) -> None:
        if self._stage.exists():
            shutil.rmtree(self._stage)
        self._stage.parent.mkdir(parents=True, exist_ok=True)
        self._writer, self._conns = self._new_writer(self._stage)
        self._t_open = now

    def _new_writer(self, folder: Path) -> tuple[Writer, dict]:
        w = Writer(folder, version=9, storage_plugin=StoragePlugin.MCAP)
        for k, v in self.custom.items():
            w.set_custom_data(k, v)
        w.open()
        return w, {t: w.add_connection(t, ty, typestore=self.store) for t, ty in self.topics.items()}

    def write(self, topic: str, stamp_ns: int, data: bytes, now: float) -> None:
        if self._writer is None:
            self._open(now)
        assert self._writer is not None
        self._writer.write(self._conns[topic], stamp_ns, data)
        self.counts[topic] += 1
        self.maybe_flush(now)

    def maybe_flush(self, now: float) -> bool:
        if self._writer is not None and now - self._t_open >= self.flush_s:
            self.flush()
            return True
        return False

    def flush(self) -> None:
        """Close the current part and publish it in metadata.yaml (creating the bag folder the first time)."""
        if self._writer is None:
            return
        self._writer.close()
        self._writer = None
        self._meta = _merged(self._meta, self._adopt(self._stage, f"{self.path.name}.part{self._index}.mcap"))
        self._write_meta()
        self._index += 1

    def _adopt(self, folder: Path, name: str) -> dict:
        """Move the one file a closed Writer left in ``folder`` into the bag as ``name``; its metadata
        (not yet listed in the bag's metadata.yaml)."""
        meta = yaml.safe_load((folder / "metadata.yaml").read_text())["rosbag2_bagfile_information"]
        self.path.mkdir(parents=True, exist_ok=True)
        os.replace(folder / f"{folder.name}.mcap", self.path / name)
        shutil.rmtree(folder)
        for f in meta["files"]:
            f["path"] = name
        meta["relative_file_paths"] = [name]
        return meta

    def _write_meta(self) -> None:
        tmp = self.path / ".metadata.yaml.tmp"
        tmp.write_text(yaml.safe_dump({"rosbag2_bagfile_information": self._meta}, sort_keys=False))
        os.replace(tmp, self.path / "metadata.yaml")

    def close(self) -> None:
        """Flush, then join the parts into one file (or ``max_bag_size`` pieces); no messages: no bag."""
        self.flush()
        if self._stage.exists():
            shutil.rmtree(self._stage)
        if self._meta is None:
            return
        if len(self._meta["files"]) > 1:
            if sum((self.path / f).stat().st_size for f in self._meta["relative_file_paths"]) <= JOIN_MAX_BYTES:
                self.join()
        else:  # one part: give it its final name (linked first, so the metadata always names a file)
            old = self._meta["relative_file_paths"][0]
            new = f"{self.path.name}_0.mcap"
            os.link(self.path / old, self.path / new)
            self._meta["relative_file_paths"] = [new]
            for f in self._meta["files"]:
                f["path"] = new
            self._write_meta()
            (self.path / old).unlink()

    def join(self) -> None:
        """Rewrite the parts as ``<name>_<i>.mcap`` files; the metadata switches over atomically at the end."""
        parts = list(self._meta["relative_file_paths"]) if self._meta else []
        stage = self.path.parent / f".{self.path.name}.join"
        if stage.exists():
            shutil.rmtree(stage)
        stage.mkdir()
        pieces: list[Path] = []
        writer, conns, size = None, {}, 0
        with Reader(self.path) as reader:
            for conn, stamp, raw in reader.messages():
                if writer is None or (self.max_bag_size > 0 and size >= self.max_bag_size):
                    if writer is not None:
                        writer.close()
                    pieces.append(stage / f"{len(pieces)}")
                    (writer, conns), size = self._new_writer(pieces[-1]), 0
                writer.write(conns[conn.topic], stamp, raw)
                size += len(raw)
        if writer is not None:
            writer.close()
        joined = None
        for i, folder in enumerate(pieces):
            joined = _merged(joined, self._adopt(folder, f"{self.path.name}_{i}.mcap"))
        self._meta = joined
        self._write_meta()  # the switch: one atomic rename from the parts to the joined files
        for name in parts:
            (self.path / name).unlink(missing_ok=True)
        shutil.rmtree(stage, ignore_errors=True)


def _merged(m: dict | None, seg: dict) -> dict:
    """Bag metadata ``m`` with one more file's metadata ``seg`` appended."""
    if m is None:
        return seg
    m["files"] += seg["files"]
    m["relative_file_paths"] += seg["relative_file_paths"]
    m["message_count"] += seg["message_count"]
    counts = {t["topic_metadata"]["name"]: t for t in m["topics_with_message_count"]}
    for t in seg["topics_with_message_count"]:
        counts[t["topic_metadata"]["name"]]["message_count"] += t["message_count"]
    start = min(m["starting_time"]["nanoseconds_since_epoch"], seg["starting_time"]["nanoseconds_since_epoch"])
    ends = [f["starting_time"]["nanoseconds_since_epoch"] + f["duration"]["nanoseconds"]
            for f in m["files"] if f["message_count"]]  # fmt: skip
    m["starting_time"]["nanoseconds_since_epoch"] = start
    m["duration"]["nanoseconds"] = (max(ends) - start) if ends else 0
    return m
