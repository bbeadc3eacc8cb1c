"""Procedural textures: multi-scale noise with blobs and grout lines.

Why: the reconstruction runs SIFT + SfM on the background, which needs dense, non-repeating
high-contrast detail at several scales; plain colours or small tiled checkers give no or
ambiguous matches.
"""

from __future__ import annotations

import numpy as np


def _value_noise(rng: np.random.Generator, size: int, cells: int) -> np.ndarray:
    """Smooth noise in [0,1] on a ``size`` x ``size`` grid from a random ``cells`` lattice."""
    lat = rng.random((cells + 1, cells + 1))
    t = np.linspace(0, cells, size, endpoint=False)
    i = t.astype(int)
    f = t - i
    f = f * f * (3 - 2 * f)
    a = lat[i][:, i] * (1 - f)[None, :] + lat[i][:, i + 1] * f[None, :]
    b = lat[i + 1][:, i] * (1 - f)[None, :] + lat[i + 1][:, i + 1] * f[None, :]
    return a * (1 - f)[:, None] + b * f[:, None]


def noise_texture(
    rng: np.random.Generator,
    base: np.ndarray,
    *,
    size: int = 512,
    contrast: float = 0.45,
    tiles: int = 0,
    blobs: int = 400,
) -> np.ndarray:
    """An RGB uint8 texture: ``base`` colour modulated by octave noise, dark/light blobs and
    optional grout lines every ``size / tiles`` pixels."""
    n = np.zeros((size, size))
    amp, total = 1.0, 0.0
    for cells in (4, 16, 48, 128):
        n += amp * _value_noise(rng, size, cells)
        total += amp
        amp *= 0.6
    n = n / total - 0.5
    img = np.asarray(base, dtype=np.float64)[None, None, :] * (1 + 2 * contrast * n[..., None])
    yy, xx = np.mgrid[0:size, 0:size]
    for _ in range(blobs):  # speckles: strong, unique corners for the feature detector
        cy, cx = rng.integers(8, size - 8, 2)
        r = rng.uniform(1.5, 7)
        win = img[cy - 8 : cy + 8, cx - 8 : cx + 8]
        m = (yy[:16, :16] - 8) ** 2 + (xx[:16, :16] - 8) ** 2 < r * r
        win[m] *= rng.uniform(0.35, 1.7)
    if tiles:
        step = size // tiles
        img[(yy % step) < 3] *= 0.55
        img[(xx % step) < 3] *= 0.55
    # tint variation per colour channel so textures are not grey
    img *= rng.uniform(0.9, 1.1, 3)[None, None, :]
    return np.clip(img, 0, 255).astype(np.uint8)
