"""Exported student policies: write and read ONNX / TorchScript files with their metadata.

The metadata (robot constants, observation layout, control rate) travels inside the file — ONNX
``metadata_props["videomimic"]``, TorchScript ``_extra_files["videomimic.json"]`` — so a policy
can never be run with the wrong joint order, gains or observation layout: :func:`load_policy`
checks it against this library's constants and raises :class:`IncompatibleError` on a mismatch.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from videomimic_offline.errors import IncompatibleError, InputError
from videomimic_offline.policy.layout import NUM_ACTIONS, StudentLayout
from videomimic_offline.robot import g1, physics

META_KEY = "videomimic"
FORMAT_VERSION = 1


def make_metadata(layout: StudentLayout, **extra: Any) -> dict[str, Any]:
    """Metadata for an exported student: robot constants, the physics it was trained on, observation layout
    (+ provenance)."""
    return {
        "format_version": FORMAT_VERSION,
        **g1.metadata(),
        "physics": physics.metadata(),
        "observation": layout.to_dict(),
        **extra,
    }


def check_metadata(meta: dict[str, Any], source: str) -> StudentLayout:
    """Refuse a policy whose robot constants or observation layout differ from ours."""
    if meta.get("format_version") != FORMAT_VERSION:
        raise IncompatibleError(
            f"{source}: policy format {meta.get('format_version')} != {FORMAT_VERSION}; re-export it"
        )
    ours = g1.metadata()
    if list(meta.get("joint_names", [])) != ours["joint_names"]:
        raise IncompatibleError(
            f"{source}: joint order differs from the G1 constants (policy: {meta.get('joint_names')}); "
            "this policy was trained for another robot or joint order: re-export it from a matching checkpoint"
        )
    for key in ("default_pose", "kp", "kd"):
        if not np.allclose(meta.get(key, []), ours[key], atol=1e-6):
            raise IncompatibleError(f"{source}: '{key}' differs from the robot constants; re-export the policy")
    for key in ("action_scale", "control_dt"):
        if abs(float(meta.get(key, -1)) - float(ours[key])) > 1e-9:
            raise IncompatibleError(f"{source}: '{key}' {meta.get(key)} != {ours[key]}")
    obs = meta.get("observation", {})
    layout = StudentLayout(
        history=int(obs.get("history", -1)),
        heightmap=bool(obs.get("heightmap", False)),
        version=int(obs.get("version", -1)),
    )
    if layout.to_dict() != obs:
        raise IncompatibleError(f"{source}: observation layout {obs} differs from this library's; re-export the policy")
    return layout


class Policy(Protocol):
    """A loaded student: ``act(obs (N, dim) float32) -> actions (N, 23)``."""

    layout: StudentLayout
    metadata: dict[str, Any]

    def act(self, obs: np.ndarray) -> np.ndarray: ...


@dataclass
class OnnxPolicy:
    """ONNX Runtime session on the CPU, single thread (deterministic, low latency)."""

    path: Path
    layout: StudentLayout
    metadata: dict[str, Any]

    def __post_init__(self) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        self._sess = ort.InferenceSession(str(self.path), opts, providers=["CPUExecutionProvider"])
        self._in = self._sess.get_inputs()[0].name

    def act(self, obs: np.ndarray) -> np.ndarray:
        return self._sess.run(None, {self._in: np.asarray(obs, dtype=np.float32).reshape(-1, self.layout.dim)})[0]


@dataclass
class TorchScriptPolicy:
    """TorchScript module on the CPU."""

    path: Path
    layout: StudentLayout
    metadata: dict[str, Any]
    module: Any = None

    def act(self, obs: np.ndarray) -> np.ndarray:
        import torch

        with torch.inference_mode():
            x = torch.as_tensor(np.asarray(obs, dtype=np.float32).reshape(-1, self.layout.dim))
            return self.module(x).numpy()


def export_policy(
    actor: Any, layout: StudentLayout, out_dir: Path, name: str = "student", **provenance: Any
) -> dict[str, Path]:
    """Write ``<name>.onnx`` and ``<name>.pt`` for a torch ``actor`` mapping (N, dim) -> (N, 23).

    The actor must be deterministic (the action mean). Both files carry the same metadata.
    """
    import onnx
    import torch

    from videomimic_offline.artifacts import atomic_write_bytes

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    meta = json.dumps(make_metadata(layout, **provenance), sort_keys=True)
    actor = actor.eval().cpu()
    example = torch.zeros(1, layout.dim)
    with torch.no_grad():
        out = actor(example)
    if tuple(out.shape) != (1, NUM_ACTIONS):
        raise IncompatibleError(f"actor maps (1, {layout.dim}) to {tuple(out.shape)}, expected (1, {NUM_ACTIONS})")

    onnx_path = out_dir / f"{name}.onnx"
    tmp = out_dir / f".{name}.tmp.onnx"
    torch.onnx.export(
        actor,
        (example,),
        str(tmp),
        input_names=["obs"],
        output_names=["actions"],
        dynamic_axes={"obs": {0: "batch"}, "actions": {0: "batch"}},
        opset_version=17,
        dynamo=False,
    )
    model = onnx.load(str(tmp))
    tmp.unlink()
    entry = model.metadata_props.add()
    entry.key, entry.value = META_KEY, meta
    atomic_write_bytes(onnx_path, model.SerializeToString())

    pt_path = out_dir / f"{name}.pt"
    scripted = torch.jit.trace(actor, example)
    tmp_pt = out_dir / f".{name}.tmp.pt"
    torch.jit.save(scripted, str(tmp_pt), _extra_files={f"{META_KEY}.json": meta})
    tmp_pt.replace(pt_path)
    return {"onnx": onnx_path, "torchscript": pt_path}


def read_metadata(path: Path) -> dict[str, Any]:
    """Metadata of an exported policy file (.onnx or .pt), without building a runtime."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"policy file {path} not found: pass the .onnx/.pt written by the export tool")
    try:
        if path.suffix == ".onnx":
            import onnx

            model = onnx.load(str(path), load_external_data=False)
            props = {p.key: p.value for p in model.metadata_props}
            raw = props.get(META_KEY)
        elif path.suffix in (".pt", ".jit", ".ts"):
            import torch

            extra = {f"{META_KEY}.json": ""}
            torch.jit.load(str(path), map_location="cpu", _extra_files=extra)
            raw = extra[f"{META_KEY}.json"] or None
        else:
            raise InputError(f"{path}: unknown policy format '{path.suffix}'; use .onnx or .pt")
    except InputError:
        raise
    except Exception as exc:
        raise InputError(f"{path} is not a readable policy file ({exc.__class__.__name__}: {exc})") from exc
    if not raw:
        raise IncompatibleError(f"{path} has no VideoMimic metadata: export it with the videomimic export tool")
    return json.loads(raw)


def load_policy(path: Path) -> Policy:
    """Load and check an exported student; raises a clear error for anything that won't run right."""
    path = Path(path)
    meta = read_metadata(path)
    layout = check_metadata(meta, str(path))
    if path.suffix == ".onnx":
        return OnnxPolicy(path, layout, meta)
    import torch

    return TorchScriptPolicy(path, layout, meta, module=torch.jit.load(str(path), map_location="cpu").eval())
