"""A rosbag2 (MCAP) writer that survives crashes up to its last flush.

rosbags writes ``metadata.yaml`` only when a bag is closed, so a killed recorder would leave an
unreadable bag. This writer closes a complete MCAP file every ``flush_s`` seconds and rewrites the
bag's ``metadata.yaml`` (atomically) to list every closed file: the bag is a standard multi-file
rosbag2 at every flush, and Ctrl-C closes the current file too. Messages are stored as the raw
CDR bytes received from DDS, so recording never deserialises anything.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import yaml
from rosbags.rosbag2 import StoragePlugin, Writer


class SegmentedBag:
    """Multi-file MCAP bag; ``write`` raw CDR, ``maybe_flush`` closes a file every ``flush_s``."""

    def __init__(
        self, path: Path, topics: dict[str, str], typestore, custom_data: dict[str, str], flush_s: float = 2.0
    ):
        self.path = Path(path)
        if self.path.exists():
            raise FileExistsError(f"bag {self.path} already exists; choose another output path")
        self.topics, self.store, self.custom = topics, typestore, custom_data
        self.flush_s = flush_s
        self.path.mkdir(parents=True)
        self._meta: dict | None = None
        self._index = 0
        self._writer: Writer | None = None
        self._conns: dict = {}
        self._t_open = 0.0
        self.counts: dict[str, int] = dict.fromkeys(topics, 0)

    def _open(self, now: float) -> None:
        seg = self.path / ".segment"
        if seg.exists():
            shutil.rmtree(seg)
        w = Writer(seg, version=9, storage_plugin=StoragePlugin.MCAP)
        for k, v in self.custom.items():
            w.set_custom_data(k, v)
        w.open()
        self._conns = {t: w.add_connection(t, ty, typestore=self.store) for t, ty in self.topics.items()}
        self._writer, self._t_open = w, now

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
        """Close the current file and publish it in metadata.yaml."""
        if self._writer is None:
            return
        self._writer.close()
        self._writer = None
        seg = self.path / ".segment"
        meta = yaml.safe_load((seg / "metadata.yaml").read_text())["rosbag2_bagfile_information"]
        name = f"{self.path.name}_{self._index}.mcap"
        os.replace(seg / ".segment.mcap", self.path / name)
        shutil.rmtree(seg)
        self._index += 1
        for f in meta["files"]:
            f["path"] = name
        meta["relative_file_paths"] = [name]
        self._merge(meta)

    def _merge(self, seg: dict) -> None:
        if self._meta is None:
            self._meta = seg
        else:
            m = self._meta
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
        tmp = self.path / ".metadata.yaml.tmp"
        tmp.write_text(yaml.safe_dump({"rosbag2_bagfile_information": self._meta}, sort_keys=False))
        os.replace(tmp, self.path / "metadata.yaml")

    def close(self) -> None:
        self.flush()
