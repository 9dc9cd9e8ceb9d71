"""Small helpers the training simulators share: widths, component choice, sampling pixels, drawing."""

from __future__ import annotations

import numpy as np

from napari_scribbleseg.errors import InputError
from napari_scribbleseg.scribbles import rasterize_path
from napari_scribbleseg.simulate import geometry

Width = int | tuple[int, int]


def draw_width(width: Width, rng: np.random.Generator) -> int:
    """A stroke width: ``width`` itself, or uniform in the inclusive range ``(lo, hi)``."""
    if isinstance(width, tuple):
        lo, hi = int(width[0]), int(width[1])
        if not 1 <= lo <= hi:
            raise InputError(f"width range {width} is invalid; use (lo, hi) with 1 <= lo <= hi, e.g. (3, 7)")
        return int(rng.integers(lo, hi + 1))
    if int(width) < 1:
        raise InputError(f"stroke width {width} is too small; use at least 1 pixel")
    return int(width)


def pick_component(mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One 8-connected component of ``mask`` (H, W) bool, chosen with probability proportional to its area."""
    labels, sizes = geometry.labelled_components(mask)
    if len(sizes) == 1:
        return labels == 1
    k = int(rng.choice(len(sizes), p=sizes / sizes.sum()))
    return labels == k + 1


def sample_pixels(mask: np.ndarray, rng: np.random.Generator, n: int, weights: np.ndarray | None = None) -> np.ndarray:
    """``n`` (row, col) pixels of ``mask`` drawn with replacement, uniformly or by ``weights`` (H, W) >= 0.

    Returns (n, 2) float64.
    """
    if weights is not None:
        # inverse-CDF sampling over the flat weights: cheaper than rng.choice(p=...) on large masks
        cdf = np.cumsum(np.where(mask, weights, 0.0).ravel(), dtype=np.float64)
        if cdf[-1] > 0:
            idx = np.searchsorted(cdf, rng.random(n) * cdf[-1], side="right")
            return np.stack(np.unravel_index(np.minimum(idx, cdf.size - 1), mask.shape), axis=1).astype(np.float64)
    flat = np.flatnonzero(mask)
    idx = flat[rng.integers(len(flat), size=n)]
    return np.stack(np.unravel_index(idx, mask.shape), axis=1).astype(np.float64)


def stroke_along(path: np.ndarray, width: int, inside: np.ndarray) -> np.ndarray:
    """The path rasterised ``width`` px wide and clipped to ``inside`` (H, W) bool."""
    return rasterize_path(path, inside.shape, width) & inside


def dot(inside: np.ndarray, rng: np.random.Generator, width: int) -> np.ndarray:
    """A dot of diameter ``width`` at a random pixel of ``inside``, clipped to it (never empty)."""
    point = sample_pixels(inside, rng, 1)
    return stroke_along(point, width, inside) | _pixel(point[0], inside.shape)


def _pixel(point: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    out = np.zeros(shape, bool)
    out[int(point[0]), int(point[1])] = True
    return out
