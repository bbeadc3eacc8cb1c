"""The artifacts stages exchange: one module per artifact, holding its typed record, schema name and
version, its only writer and its only reader, and its conventions (frames, units, NaN meaning,
quaternion order) in the module docstring.

Shared conventions: SI units (metres, seconds, radians) unless a key says otherwise (``*_mm``,
``*_px``); world frame z up, gravity along -z, the floor under the person's first steps at z = 0;
quaternions w, x, y, z. Files are written atomically (``artifacts.py``) and stamped with their
schema and version; a reader refuses another schema or a newer version. A new optional key keeps
the version; a change of meaning bumps it.

:data:`ARTIFACTS` is the registry: ``tests/foundation/test_artifact_contracts.py`` checks that
every artifact is written and read only through its module.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Artifact:
    """One artifact: its file, the module that owns it, and that module's writer and reader."""

    file: str
    module: str
    writer: str
    reader: str
    schema_attr: str = "SCHEMA"
    version_attr: str = "VERSION"


_C = "videomimic_offline.contracts."

ARTIFACTS: dict[str, Artifact] = {
    "human motion": Artifact("motion.npz", _C + "human_motion", "write_human_motion", "read_human_motion"),
    "cameras": Artifact("cameras.npz", _C + "cameras", "write_cameras", "read_cameras"),
    "heightfield": Artifact("heightfield.npz", _C + "heightfield", "write_heightfield", "read_heightfield"),
    "scene description": Artifact("scene.json", _C + "scene", "write_scene_info", "read_scene_info"),
    "robot motion": Artifact("robot_motion.npz", _C + "robot_motion", "write_robot_motion", "read_robot_motion"),
    "feasibility": Artifact("feasibility.json", _C + "feasibility", "write_feasibility", "read_feasibility"),
    "report inputs": Artifact("main_job.json", _C + "report_inputs", "write_report_inputs", "read_report_inputs"),
    "ego view": Artifact("egoview.npz", "videomimic_offline.egoview.render", "write_egoview", "read_egoview"),
    "exported policy": Artifact(
        "student.onnx / student.pt",
        "videomimic_offline.policy.exported",
        "export_policy",
        "load_policy",
        schema_attr="META_KEY",
        version_attr="FORMAT_VERSION",
    ),  # fmt: skip
}
