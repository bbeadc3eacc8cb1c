"""Procedural textures: multi-scale noise with blobs and grout lines.

Why: the reconstruction runs SIFT + SfM on the background, which needs dense, non-repeating
high-contrast detail at several scales; plain colours or small tiled checkers give no or
ambiguous matches.
"""

from __future__ import annotations

import numpy as np


def _value_noise(rng: np.random.Generator, size: int, cells: int) -> np.ndarray:
    """Smooth noise in [0,1] on a ``size`` x ``size`` grid from a random ``cells`` lattice
    (smoothstep-weighted bilinear interpolation, done as two small matrix products)."""
    lat = rng.random((cells + 1, cells + 1))
    t = np.linspace(0, cells, size, endpoint=False)
    i = t.astype(int)
    f = t - i
    f = f * f * (3 - 2 * f)
    w = np.zeros((size, cells + 1))
    w[np.arange(size), i] = 1 - f
    w[np.arange(size), i + 1] = f
    return w @ lat @ w.T


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
    k = max(1, size // 512)  # keep feature sizes in texels whatever the texture size
    for cells in (4, 16, 48, 128):
        n += amp * _value_noise(rng, size, cells * k)
        total += amp
        amp *= 0.6
    n = n / total - 0.5
    # work in float32 on one brightness map, colour it at the end (4x less memory traffic)
    gain = (1 + 2 * contrast * n).astype(np.float32)
    # speckles: strong, unique corners for the feature detector (drawn in 16x16 windows)
    cy, cx = rng.integers(8, size - 8, (2, blobs))
    radius = rng.uniform(1.5, 7, blobs)
    factor = rng.uniform(0.35, 1.7, blobs).astype(np.float32)
    d2 = ((np.arange(16) - 8)[:, None] ** 2 + (np.arange(16) - 8)[None, :] ** 2).astype(np.float32)
    for y, x, r, f in zip(cy, cx, radius, factor, strict=True):
        win = gain[y - 8 : y + 8, x - 8 : x + 8]
        win[d2 < r * r] *= f
    if tiles:
        lines = (np.arange(size) % (size // tiles)) < 3
        gain[lines, :] *= 0.55
        gain[:, lines] *= 0.55
    # tint variation per colour channel so textures are not grey
    colour = (np.asarray(base, dtype=np.float32) * rng.uniform(0.9, 1.1, 3).astype(np.float32))[None, None, :]
    return np.clip(gain[..., None] * colour, 0, 255).astype(np.uint8)
