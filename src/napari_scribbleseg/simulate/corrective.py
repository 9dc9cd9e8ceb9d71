"""002's corrective scribble (Sec. 4): from the border of an error region through two interior points.

An error region is a connected part of a ground-truth region that was given another class. A user
corrects it with a stroke that starts where the region meets the correctly labelled part of its
ground-truth region and sweeps into the error: a start point on that border, two points drawn
uniformly inside the error region, and a smooth (quadratic Bezier) curve through the three. Of ten
such tries the longest stroke lying entirely inside the ground-truth region is kept.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from napari_scribbleseg.simulate import geometry
from napari_scribbleseg.simulate._strokes import (
    Width,
    draw_width,
    pick_component,
    sample_pixels,
    stroke_along,
)
from napari_scribbleseg.simulate._validate import bool_mask, generator, region_mask


def _curve_through(p0: np.ndarray, p1: np.ndarray, p2: np.ndarray) -> np.ndarray:
    """A quadratic Bezier from p0 to p2 passing through p1 at t = 1/2 (its control point solved for)."""
    control = 2.0 * p1 - 0.5 * (p0 + p2)
    return geometry.bezier_curve(np.stack([p0, control, p2]))


def corrective_scribble(
    mask: np.ndarray,
    rng: np.random.Generator | int,
    gt_region: np.ndarray | None = None,
    width: Width = (3, 7),
    tries: int = 10,
) -> np.ndarray:
    """002's corrective scribble on the error region ``mask`` (H, W) bool.

    Parameters
    ----------
    mask : (H, W) bool
        The error region (pixels of one gt class given another class); with several components one
        is chosen in proportion to its area.
    gt_region : (H, W) bool, optional
        The whole ground-truth region of that class (a superset of ``mask``). The start point lies on
        the error's border with the rest of it, and the stroke must stay inside it. Default: ``mask``
        itself (start on the error's own border).
    width : int or (lo, hi)
        Stroke width in px.
    tries : int
        Curves tried; the longest one inside ``gt_region`` wins (002: 10).

    Returns
    -------
    (H, W) bool stroke inside ``gt_region`` (or ``mask``), non-empty.
    """
    rng = generator(rng)
    mask = region_mask(mask, "error region")
    region = mask if gt_region is None else bool_mask(gt_region, "gt_region", mask.shape) | mask
    w = draw_width(width, rng)
    error = pick_component(mask, rng)
    border = error & ndimage.binary_dilation(region & ~error, structure=geometry.EIGHT)
    if not border.any():
        border = error & ~ndimage.binary_erosion(error, structure=geometry.EIGHT)
    best, best_length, fallback, fallback_inside = None, -1.0, None, -1
    for _ in range(max(1, tries)):
        start = sample_pixels(border, rng, 1)[0]
        inner = sample_pixels(error, rng, 2)
        curve = _curve_through(start, inner[0], inner[1])
        stroke = stroke_along(curve, w, np.ones(mask.shape, bool))
        length = float(np.hypot(*np.diff(curve, axis=0).T).sum())
        if not (stroke & ~region).any():
            if length > best_length:
                best, best_length = stroke, length
        else:
            inside = int((stroke & region).sum())
            if inside > fallback_inside:
                fallback, fallback_inside = stroke & region, inside
    if best is not None:
        return best
    if fallback is not None and fallback.any():
        return fallback
    row, col = geometry.interior_point(error)
    out = np.zeros(mask.shape, bool)
    out[row, col] = True
    return out
