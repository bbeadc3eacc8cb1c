"""A random-weights exported student for deploy tests and the e2e (until training ships a pretrained one)."""

from __future__ import annotations

from pathlib import Path


def make_student(out_dir: Path, heightmap: bool = True, scale: float = 0.01, seed: int = 0) -> Path:
    """Export a small random MLP student through the real export path; returns the .onnx path.

    ``scale`` shrinks the output layer so the robot stays near its default pose (plumbing, not walking).
    """
    import torch
    from videomimic_offline.policy.exported import export_policy
    from videomimic_offline.policy.layout import NUM_ACTIONS, StudentLayout

    torch.manual_seed(seed)
    layout = StudentLayout(heightmap=heightmap)
    actor = torch.nn.Sequential(torch.nn.Linear(layout.dim, 64), torch.nn.ELU(), torch.nn.Linear(64, NUM_ACTIONS))
    with torch.no_grad():
        actor[2].weight.mul_(scale)
        actor[2].bias.zero_()
    return export_policy(actor, layout, out_dir, provenance="tests/deploy random student")["onnx"]
