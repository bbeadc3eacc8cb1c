"""The solve: L-BFGS (strong Wolfe line search) over the world joints, objective = sum of terms."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from videomimic_offline.real2sim.fit.terms import TERMS, FitData, FitWeights, Term, breakdown, total


@dataclass
class Solved:
    X: np.ndarray  # (T,J,3)
    loss_init: float
    loss_final: float
    terms: dict[str, float]  # each term's final value


def solve(X0: np.ndarray, data: FitData, w: FitWeights, iters: int, terms: dict[str, Term] | None = None) -> Solved:
    """Minimise ``terms`` (default all) from ``X0``; ``iters`` bounds L-BFGS's inner iterations."""
    X = torch.tensor(X0, dtype=torch.float64, requires_grad=True)
    active = terms or TERMS
    opt = torch.optim.LBFGS([X], lr=1.0, max_iter=iters, history_size=20, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = total(X, data, w, active)
        loss.backward()
        return loss

    with torch.no_grad():
        l0 = float(total(X, data, w, active))
    opt.step(closure)
    with torch.no_grad():
        l1 = float(total(X, data, w, active))
    return Solved(X.detach().numpy().copy(), l0, l1, breakdown(X.detach(), data, w))
