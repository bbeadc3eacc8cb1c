"""DAgger distillation with VideoMimic's loss: match the teacher's action mean *and* std.

rsl_rl's ``Distillation`` rolls out the student and labels each step with the teacher's action
mean (MSE). VideoMimic also regressed the action std; the std of an rsl_rl Gaussian head is a
state-independent parameter, so after rsl_rl's mean updates we take one extra gradient step on
``||sigma_teacher - sigma_student||^2`` with the same optimizer.
"""

from __future__ import annotations

import torch
from rsl_rl.algorithms import Distillation


def _std(model) -> torch.Tensor:
    dist = model.distribution
    if dist is None:
        raise ValueError("distillation needs Gaussian student and teacher heads")
    if hasattr(dist, "std_param"):
        return dist.std_param
    return torch.exp(dist.log_std_param)


class MeanStdDistillation(Distillation):
    """rsl_rl Distillation + std matching (loss on action mean and std, as the original)."""

    std_loss_coef: float = 1.0

    def update(self) -> dict[str, float]:
        losses = super().update()
        std_loss = torch.nn.functional.mse_loss(_std(self._raw_student), _std(self._raw_teacher).detach())
        self.optimizer.zero_grad()
        (self.std_loss_coef * std_loss).backward()
        self.optimizer.step()
        losses["std"] = float(std_loss.item())
        return losses
