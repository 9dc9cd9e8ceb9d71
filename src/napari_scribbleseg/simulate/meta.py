"""000's training meta-simulators (Sec. 3.3) and their composition.

Each simulator takes an (H, W) bool ``mask`` (the region the strokes belong to) and a
``np.random.Generator`` and returns an (H, W) bool stroke map inside the mask. Strokes are drawn on
the mask eroded away from its boundary ("protect boundary", 000 Tab. 6) and clipped to it, ``width``
3-7 px. A disconnected mask gets each stroke on one component, chosen in proportion to its area.
"""

from __future__ import annotations

import cv2
import numpy as np

from napari_scribbleseg.errors import InputError
from napari_scribbleseg.simulate import geometry
from napari_scribbleseg.simulate._strokes import (
    Width,
    dot,
    draw_width,
    pick_component,
    sample_pixels,
    stroke_along,
)
from napari_scribbleseg.simulate._validate import generator, region_mask

#: 000 Tab. 5: Bezier as the principal stroke, 0.2 shared by axial and boundary strokes
SCRIBBLESEG_SHARES = {"bezier": 0.8, "axial": 0.1, "boundary": 0.1}


class _Target:
    """Where one stroke goes: a component of the mask, eroded ("protect boundary"), in its bounding box."""

    def __init__(self, component: np.ndarray, width: int, protect_boundary: bool):
        self.shape = component.shape
        if protect_boundary:
            self.box, self.inside, self.depth = geometry.protected_crop(component, width)
        else:
            self.box = geometry.bounding_box(component)
            self.inside = component[self.box]
            self.depth = geometry.inner_distance(self.inside)

    def paste(self, stroke: np.ndarray) -> np.ndarray:
        """The (h, w) crop stroke placed into an (H, W) bool map."""
        out = np.zeros(self.shape, bool)
        out[self.box] = stroke
        return out


def _bezier(target: _Target, rng: np.random.Generator, w: int, n_control: tuple[int, int]) -> np.ndarray:
    n = int(rng.integers(n_control[0], n_control[1] + 1))
    points = sample_pixels(target.inside, rng, n, weights=target.depth)
    centred = points - points.mean(axis=0)
    axis = np.linalg.svd(centred, full_matrices=False)[2][0] if n > 1 else np.array([1.0, 0.0])
    points = points[np.argsort(centred @ axis, kind="stable")]
    stroke = stroke_along(geometry.bezier_curve(points), w, target.inside)
    return stroke if stroke.any() else dot(target.inside, rng, w)


def _axial(target: _Target, rng: np.random.Generator, w: int) -> np.ndarray:
    path = geometry.longest_skeleton_path(target.inside)
    if path is None:
        return dot(target.inside, rng, w)
    keep = rng.uniform(0.5, 1.0)
    start = rng.uniform(0.0, 1.0 - keep)
    lo, hi = int(start * (len(path) - 1)), int(np.ceil((start + keep) * (len(path) - 1)))
    stroke = stroke_along(geometry.smooth_bezier_path(path[lo : hi + 1]), w, target.inside)
    return stroke if stroke.any() else dot(target.inside, rng, w)


def _boundary(target: _Target, rng: np.random.Generator, w: int) -> np.ndarray:
    inner = geometry.protected_region(target.inside, w, margin=np.ceil(w / 2.0))
    contours, _ = cv2.findContours(inner.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    if not contours or max(len(c) for c in contours) < 3:
        return dot(target.inside, rng, w)
    contour = max(contours, key=len)[:, 0, ::-1].astype(np.float64)  # (x, y) -> (row, col)
    n = len(contour)
    length = max(2, int(rng.uniform(0.2, 0.6) * n))
    arc = contour[(int(rng.integers(n)) + np.arange(length)) % n]
    stroke = stroke_along(geometry.smooth_bezier_path(arc, control_spacing=6.0), w, target.inside)
    return stroke if stroke.any() else dot(target.inside, rng, w)


def bezier_scribble(
    mask: np.ndarray,
    rng: np.random.Generator | int,
    width: Width = (3, 7),
    n_control: tuple[int, int] = (3, 5),
    protect_boundary: bool = True,
) -> np.ndarray:
    """A Bezier curve inside the mask (000 Fig. 4a).

    ``n_control`` (inclusive range) control points are drawn inside the eroded mask with probability
    proportional to the distance from its border (so curves favour the interior), ordered along their
    principal axis (one sweep, as a hand draws) and used as the Bernstein control polygon.

    Returns
    -------
    (H, W) bool stroke, non-empty, inside ``mask``.
    """
    rng = generator(rng)
    mask = region_mask(mask)
    w = draw_width(width, rng)
    target = _Target(pick_component(mask, rng), w, protect_boundary)
    return target.paste(_bezier(target, rng, w, n_control))


def axial_scribble(
    mask: np.ndarray, rng: np.random.Generator | int, width: Width = (3, 7), protect_boundary: bool = True
) -> np.ndarray:
    """A stroke along the medial axis (000 Fig. 4b): a random stretch (50-100 %) of the longest skeleton path.

    Returns (H, W) bool, non-empty, inside ``mask``.
    """
    rng = generator(rng)
    mask = region_mask(mask)
    w = draw_width(width, rng)
    target = _Target(pick_component(mask, rng), w, protect_boundary)
    return target.paste(_axial(target, rng, w))


def boundary_scribble(
    mask: np.ndarray, rng: np.random.Generator | int, width: Width = (3, 7), protect_boundary: bool = True
) -> np.ndarray:
    """A stroke following the mask's boundary just inside it (000 Fig. 4c): 20-60 % of the contour.

    The contour is taken half a stroke width inside the eroded mask so that the stroke hugs the
    boundary without crossing the protected margin.

    Returns (H, W) bool, non-empty, inside ``mask``.
    """
    rng = generator(rng)
    mask = region_mask(mask)
    w = draw_width(width, rng)
    target = _Target(pick_component(mask, rng), w, protect_boundary)
    return target.paste(_boundary(target, rng, w))


META_SIMULATORS = {"bezier": bezier_scribble, "axial": axial_scribble, "boundary": boundary_scribble}


def stroke_count(rng: np.random.Generator | int, max_strokes: int = 16, decay: float = 0.8) -> int:
    """A number of strokes in 1..``max_strokes`` with P(n) = ``decay`` * P(n - 1) (000 Sec. 4.3)."""
    rng = generator(rng)
    p = decay ** np.arange(max_strokes, dtype=np.float64)
    return int(rng.choice(max_strokes, p=p / p.sum())) + 1


def scribbleseg_scribbles(
    mask: np.ndarray,
    rng: np.random.Generator | int,
    max_strokes: int = 16,
    decay: float = 0.8,
    width: Width = (3, 7),
    shares: dict[str, float] | None = None,
    protect_boundary: bool = True,
) -> np.ndarray:
    """000's composition: :func:`stroke_count` strokes, each a meta-simulator drawn by ``shares``
    (default :data:`SCRIBBLESEG_SHARES`: Bezier 0.8, axial 0.1, boundary 0.1), width 3-7 each.

    Returns (H, W) bool, the union of the strokes, inside ``mask``.
    """
    rng = generator(rng)
    mask = region_mask(mask)
    shares = SCRIBBLESEG_SHARES if shares is None else shares
    unknown = [k for k in shares if k not in _DRAW]
    if unknown:
        raise InputError(f"stroke kinds {unknown} are unknown; shares may name {sorted(_DRAW)}")
    names = sorted(shares)
    p = np.array([shares[k] for k in names], np.float64)
    labels, sizes = geometry.labelled_components(mask)
    out = np.zeros(mask.shape, bool)
    for _ in range(stroke_count(rng, max_strokes, decay)):
        name = names[int(rng.choice(len(names), p=p / p.sum()))]
        w = draw_width(width, rng)
        k = int(rng.choice(len(sizes), p=sizes / sizes.sum())) if len(sizes) > 1 else 0
        target = _Target(labels == k + 1, w, protect_boundary)
        out[target.box] |= _DRAW[name](target, rng, w)
    return out


_DRAW = {
    "bezier": lambda target, rng, w: _bezier(target, rng, w, (3, 5)),
    "axial": _axial,
    "boundary": _boundary,
}
