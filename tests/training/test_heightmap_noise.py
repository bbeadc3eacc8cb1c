"""The noisy student heightmap: delay, stale refreshes, dropped rays, offsets and scan-frame errors."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import torch
from videomimic_offline.robot import g1
from videomimic_offline.training import observations as obs


class _Env(SimpleNamespace):
    num_envs = 3
    device = "cpu"
    common_step_counter = 0


def _term(monkeypatch, heights, **params):
    env = _Env()
    monkeypatch.setattr(obs, "height_scan", lambda *_a, **_k: heights[0])
    term = obs.Heightmap(SimpleNamespace(params={"noisy": True, **params}), env)
    term.reset(torch.arange(3))
    return env, term


def test_delay_and_stale_refresh_bound_the_lag(monkeypatch):
    heights = [torch.full((3, 121), 0.8)]
    env, term = _term(monkeypatch, heights, white=0.0, offset=0.0, drop=0.0, tilt=0.0, yaw=0.0)
    assert torch.allclose(term(env), torch.full((3, 121), 0.8))
    heights[0] = torch.full((3, 121), 0.6)  # the ground comes 20 cm closer
    seen = []
    for step in range(1, 12):
        env.common_step_counter = step
        seen.append(term(env)[:, 0].clone())
    lag = [int(next(i for i, v in enumerate(seen) if abs(float(v[e]) - 0.6) < 1e-6)) for e in range(3)]
    bound = term.max_delay + term.max_refresh
    assert all(0 <= lag_e <= bound for lag_e in lag)
    assert all(abs(float(seen[-1][e]) - 0.6) < 1e-6 for e in range(3))


def test_noise_offsets_and_dropped_rays(monkeypatch):
    torch.manual_seed(0)
    heights = [torch.full((3, 121), 0.8)]
    env, term = _term(monkeypatch, heights, white=0.02, offset=0.02, drop=0.2, tilt=0.0, yaw=0.0)
    out = term(env)
    dropped = out == g1.HEIGHTMAP_FALLBACK
    assert 0.05 < dropped.float().mean() < 0.4
    assert (out[~dropped] - 0.8).abs().max() <= 0.04 + 1e-6


def test_scan_frame_tilt_and_yaw_errors(monkeypatch):
    ny, nx = g1.HEIGHTMAP_SHAPE
    x = (np.arange(nx) - 5) * 0.1
    slope = torch.tensor(np.tile(0.8 - 0.5 * x, (ny, 1)).reshape(-1), dtype=torch.float32)  # ground rises along +x
    heights = [slope.expand(3, -1).clone()]
    env, term = _term(monkeypatch, heights, white=0.0, offset=0.0, drop=0.0)
    term.frame_err[:] = torch.tensor([[0.0, 0.04, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.08]])
    out = term(env) - heights[0]
    grid = out.reshape(3, ny, nx)
    assert torch.allclose(grid[0, 3], torch.tensor(x * np.sin(0.04), dtype=torch.float32), atol=1e-5)  # pitch
    assert torch.allclose(grid[1], torch.zeros(ny, nx), atol=1e-6)
    y = (np.arange(ny) - 5) * 0.1
    # yaw: a ray at (x, y) samples (x - yaw y, ...): on a slope of -0.5 in x the height moves by +0.5 yaw y.
    assert torch.allclose(grid[2, :, 5], torch.tensor(0.5 * 0.08 * y, dtype=torch.float32), atol=1e-5)
