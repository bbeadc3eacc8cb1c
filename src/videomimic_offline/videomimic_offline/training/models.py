"""The student network of VideoMimic: an ELU MLP whose heightmap input enters through a zero-initialised gate.

The flattened 121-ray heightmap goes through its own ``Linear(121 -> first hidden)``, is multiplied
by a learnable scalar gate that starts at 0, and is added to the first layer's pre-activation. At
initialisation the student therefore ignores the terrain and learns it as the gate opens, which
keeps early DAgger stable. Plugs into rsl_rl as an ``MLPModel`` (normaliser, distribution head,
JIT/ONNX export all unchanged): only ``self.mlp`` is replaced.
"""

from __future__ import annotations

import torch
from rsl_rl.models import MLPModel
from rsl_rl.modules import MLP
from torch import nn


class GatedHeightmapMLP(nn.Module):
    """``f(x) = rest(first(x[:, :-H]) + gate * hm(x[:, -H:]))`` with ``gate`` initialised to 0."""

    def __init__(self, body: MLP, heightmap_dim: int, first_hidden: int) -> None:
        super().__init__()
        layers = list(body)
        self.first = layers[0]
        self.rest = nn.Sequential(*layers[1:])
        self.hm = nn.Linear(heightmap_dim, first_hidden)
        self.gate = nn.Parameter(torch.zeros(1))
        self.heightmap_dim = heightmap_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        base = x[..., : x.shape[-1] - self.heightmap_dim]
        hm = x[..., x.shape[-1] - self.heightmap_dim :]
        return self.rest(self.first(base) + self.gate * self.hm(hm))

    def __getitem__(self, idx: int) -> nn.Module:  # rsl_rl distributions address the output layers
        return self.rest[idx]


class GatedHeightmapModel(MLPModel):
    """rsl_rl MLPModel whose last ``heightmap_dim`` observations enter through the gate (0: plain MLP)."""

    def __init__(
        self,
        obs,
        obs_groups,
        obs_set,
        output_dim,
        hidden_dims=(256, 256, 256),
        activation="elu",
        obs_normalization=False,
        distribution_cfg=None,
        heightmap_dim: int = 121,
    ) -> None:
        super().__init__(
            obs, obs_groups, obs_set, output_dim, hidden_dims, activation, obs_normalization, distribution_cfg
        )
        if heightmap_dim > 0:
            out_dim = self.distribution.input_dim if self.distribution is not None else output_dim
            body = MLP(self.obs_dim - heightmap_dim, out_dim, hidden_dims, activation)
            self.mlp = GatedHeightmapMLP(body, heightmap_dim, int(hidden_dims[0]))
            if self.distribution is not None:
                self.distribution.init_mlp_weights(self.mlp)
