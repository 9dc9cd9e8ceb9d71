"""The naive baseline (IFIS, as 000 Sec. 4.2 describes it): random points of the mask linked by straight lines."""

from __future__ import annotations

import numpy as np

from napari_scribbleseg.simulate._strokes import (
    Width,
    draw_width,
    pick_component,
    sample_pixels,
    stroke_along,
)
from napari_scribbleseg.simulate._validate import generator, region_mask


def linked_points_scribble(
    mask: np.ndarray, rng: np.random.Generator | int, width: Width = (3, 7), n_points: tuple[int, int] = (2, 5)
) -> np.ndarray:
    """``n_points`` (inclusive range) uniform random pixels of one component of ``mask`` (H, W) bool,
    joined in the order drawn by straight segments ``width`` px wide and clipped to the mask.

    Returns (H, W) bool, non-empty, inside ``mask``.
    """
    rng = generator(rng)
    mask = region_mask(mask)
    w = draw_width(width, rng)
    component = pick_component(mask, rng)
    points = sample_pixels(component, rng, int(rng.integers(n_points[0], n_points[1] + 1)))
    stroke = stroke_along(points, w, component)
    first = points[0].astype(int)
    stroke[first[0], first[1]] = True  # the first point is in the mask: the stroke is never empty
    return stroke
