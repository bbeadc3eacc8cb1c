"""Export the trained student (finetune or distill checkpoint) to ONNX + TorchScript with metadata.

The exported module is the student's observation normalizer + MLP + deterministic (mean) head,
consuming exactly the :class:`~videomimic_offline.policy.layout.StudentLayout` vector; files are
written by :func:`videomimic_offline.policy.exported.export_policy` (format owned there).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from videomimic_offline.errors import IncompatibleError
from videomimic_offline.policy.layout import NUM_ACTIONS, StudentLayout
from videomimic_offline.robot import g1
from videomimic_offline.training.stages import CKPT_FORMAT, META_KEY, read_checkpoint, resolve_checkpoint


def policy_from_checkpoint(path: Path) -> tuple[Any, dict[str, Any]]:
    """(deterministic torch actor (N, dim) -> (N, 23), checkpoint record) of any stage's checkpoint."""
    import torch
    from tensordict import TensorDict

    from videomimic_offline.training.models import GatedHeightmapModel

    path = resolve_checkpoint(path)
    ck = read_checkpoint(path)
    meta = ck["infos"][META_KEY]
    if meta.get("format") != CKPT_FORMAT or meta.get("joint_names") != list(g1.JOINT_NAMES_23):
        raise IncompatibleError(f"{path}: joint order or checkpoint format differs from this library; retrain it")
    group = meta["policy_group"]
    dim = int(meta["obs_dims"][group])
    state = ck.get("student_state_dict") if meta["stage"] == "distill" else ck["actor_state_dict"]
    obs = TensorDict({group: torch.zeros(1, dim)}, batch_size=[1])
    model = GatedHeightmapModel(
        obs,
        {"policy": [group]},
        "policy",
        NUM_ACTIONS,
        hidden_dims=meta["policy_hidden"],
        activation="elu",
        obs_normalization=True,
        distribution_cfg={"class_name": "GaussianDistribution", "init_std": 1.0, "std_type": "scalar"},
        heightmap_dim=int(meta.get("policy_heightmap_gate", 0)),
    )
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise IncompatibleError(
            f"{path}: network does not match its record ({exc.__class__.__name__}); retrain"
        ) from exc
    return model.as_jit().eval(), meta


def export_student(checkpoint: Path, out_dir: Path, name: str = "student") -> dict[str, Path]:
    """Write ``<name>.onnx`` / ``<name>.pt``; refuses a non-student checkpoint or a layout mismatch."""
    from videomimic_offline.policy.exported import export_policy

    path = resolve_checkpoint(checkpoint)
    actor, meta = policy_from_checkpoint(path)
    if meta["stage"] not in ("distill", "finetune"):
        raise IncompatibleError(f"{path} is a {meta['stage']} checkpoint; export a distill or finetune (student) one")
    lay = meta["student_layout"]
    layout = StudentLayout(history=int(lay["history"]), heightmap=bool(lay["heightmap"]), version=int(lay["version"]))
    if layout.to_dict() != lay or layout.dim != meta["obs_dims"]["student"]:
        raise IncompatibleError(f"{path}: student layout {lay} is not this library's; retrain the student")
    return export_policy(actor, layout, Path(out_dir), name=name, stage=meta["stage"], checkpoint=path.name)


def parity(actor: Any, files: dict[str, Path], layout: StudentLayout, n: int = 64, seed: int = 0) -> float:
    """Max |exported - torch| over random observations, for both files."""
    import torch

    from videomimic_offline.policy.exported import load_policy

    obs = np.random.default_rng(seed).normal(size=(n, layout.dim)).astype(np.float32)
    with torch.no_grad():
        ref = actor(torch.from_numpy(obs)).numpy()
    return max(float(np.abs(load_policy(p).act(obs) - ref).max()) for p in files.values())
