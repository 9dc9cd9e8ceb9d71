"""Scribbles for a neighbouring slice, derived from a segmented slice (the propagation's "user").

Each object class gets seeds well inside its mask (an eroded core, or that core's skeleton, which looks
like a stroke); the background gets a thin ring outside the union of the objects. Distances are in mm
(the in-plane pixel spacing given), so anisotropic pixels erode the same physical margin in every
direction. Seeds are tested against the new slice's intensities (:func:`check_seeds`): when few of a
class's seeds still look like it, propagation knows the object ended although its seeds were carried over.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import ndimage as ndi

SeedShape = Literal["skeleton", "core"]

# a core this thin (fraction of the deepest point) is kept when the full margin would erase the class
_RIDGE_FRACTION = 0.6
_MAD_TO_SIGMA = 1.4826


def inside_distance(mask: np.ndarray, pixel_spacing: tuple[float, float]) -> np.ndarray:
    """(H, W) float distance in mm from each pixel of ``mask`` to the nearest pixel outside it (0 outside)."""
    if not mask.any():
        return np.zeros(mask.shape, np.float64)
    padded = np.pad(mask, 1, constant_values=False)
    # the image border counts as "outside": an object cut by the border still gets an eroded core there
    return ndi.distance_transform_edt(padded, sampling=pixel_spacing)[1:-1, 1:-1]


def class_core(mask: np.ndarray, pixel_spacing: tuple[float, float], margin_mm: float) -> np.ndarray:
    """(H, W) bool: pixels of ``mask`` deeper than ``margin_mm``; the deepest ridge if none are."""
    depth = inside_distance(mask, pixel_spacing)
    core = depth > margin_mm
    if not core.any() and mask.any():
        core = depth >= _RIDGE_FRACTION * depth.max()
    return core


def background_ring(
    objects: np.ndarray, pixel_spacing: tuple[float, float], gap_mm: float, width_mm: float
) -> np.ndarray:
    """(H, W) bool: pixels between ``gap_mm`` and ``gap_mm + width_mm`` outside the union ``objects``."""
    if not objects.any():
        return np.zeros(objects.shape, bool)
    outside = ndi.distance_transform_edt(~objects, sampling=pixel_spacing)
    return (outside > gap_mm) & (outside <= gap_mm + width_mm)


def derive_scribbles(
    labels: np.ndarray,
    classes: Sequence[int],
    ring_label: int,
    pixel_spacing: tuple[float, float],
    margin_mm: float,
    ring_width_mm: float,
    shape: SeedShape = "skeleton",
) -> np.ndarray:
    """Scribbles for the next slice from the (H, W) result ``labels`` of a segmented slice.

    Parameters
    ----------
    labels : (H, W) int
        The segmented slice.
    classes : object classes to carry over (the background is not one of them).
    ring_label : label of the background ring.
    pixel_spacing : (row, col) pixel size in mm.
    margin_mm : how far a boundary may move between the two slices: cores stay this deep inside each
        class, the ring this far outside the objects.
    ring_width_mm : width of the background ring.
    shape : "core" (the eroded core itself) or "skeleton" (its medial skeleton, a stroke-like seed).

    Returns
    -------
    (H, W) int32 scribble map: 0 none, k for class k's seeds, ``ring_label`` on the ring.
    """
    labels = np.asarray(labels)
    scribbles = np.zeros(labels.shape, np.int32)
    objects = np.isin(labels, list(classes))
    scribbles[background_ring(objects, pixel_spacing, margin_mm, ring_width_mm)] = ring_label
    for k in classes:
        scribbles[class_seed(labels == k, pixel_spacing, margin_mm, shape)] = k
    return scribbles


def class_seed(
    mask: np.ndarray, pixel_spacing: tuple[float, float], margin_mm: float, shape: SeedShape = "skeleton"
) -> np.ndarray:
    """(H, W) bool seed of one class: its :func:`class_core`, or with ``shape="skeleton"`` that core's medial
    skeleton (a stroke-like seed; the core itself where the skeleton is empty)."""
    from skimage.morphology import skeletonize

    core = class_core(mask, pixel_spacing, margin_mm)
    if shape == "skeleton" and core.any():
        skeleton = skeletonize(core)
        core = skeleton if skeleton.any() else core
    return core


def carried_seeds(
    shown: np.ndarray, classes: Sequence[int], pixel_spacing: tuple[float, float], margin_mm: float
) -> np.ndarray:
    """(H, W) int32 seeds of ``classes`` on a slice that shows ``shown``: each class's eroded core reduced to
    its skeleton (a stroke-like seed, the kind propagation segments from), 0 elsewhere. See :func:`carry_classes`."""
    shown = np.asarray(shown)
    seeds = np.zeros(shown.shape, np.int32)
    boxes = ndi.find_objects(np.where(np.isin(shown, list(classes)), shown, 0))
    for k in classes:
        box = boxes[k - 1] if 0 < k <= len(boxes) else None
        if box is None:
            continue
        wide = tuple(slice(max(b.start - 1, 0), min(b.stop + 1, n)) for b, n in zip(box, shown.shape))
        seeds[wide][class_seed(shown[wide] == k, pixel_spacing, margin_mm)] = int(k)
    return seeds


def carry_classes(
    scribbles: np.ndarray, seeds: np.ndarray, pixel_spacing: tuple[float, float], margin_mm: float
) -> np.ndarray:
    """The user's (H, W) ``scribbles`` on a slice that showed a result they did not paint (what propagation
    gave it), plus that result's :func:`carried_seeds` ``seeds``.

    A correction of a propagated slice refines what the slice showed, as more strokes refine a scribbled
    one: a first stroke of one class (the background, trimming a leak) must not make the other classes
    vanish for want of strokes of their own, which a predictor does with classes it has no strokes of. The
    seeds stay while the user corrects (carrying a class only until the user paints it kept the first
    stroke's result but lost the later ones on the dev volumes: docs/BENCHMARKS.md "Volumes"); they keep
    ``margin_mm`` from every user stroke of another class, so a stroke across a wrong part clears the seed
    there, and never cover a user's stroke, which is returned unchanged.
    """
    given = np.asarray(scribbles).astype(np.int32, copy=True)
    reach = [int(np.ceil(margin_mm / p)) + 1 for p in pixel_spacing]
    boxes = ndi.find_objects(seeds)
    for k, box in enumerate(boxes, start=1):
        if box is None:
            continue
        # the seeds' box and the strokes within reach of it: the work is the object's size, not the slice's
        wide = tuple(slice(max(b.start - r, 0), min(b.stop + r, n)) for b, r, n in zip(box, reach, given.shape))
        mine = seeds[wide] == k
        part = given[wide]
        others = (part > 0) & (part != k)
        if others.any():
            mine &= ndi.distance_transform_edt(~others, sampling=pixel_spacing) > margin_mm
        part[mine & (part == 0)] = k
    return given


@dataclass(frozen=True)
class Appearance:
    """Robust intensity model of one class on one slice: median and a MAD-based sigma."""

    median: float
    sigma: float

    def z(self, values: np.ndarray) -> np.ndarray:
        """Robust z-scores of ``values``."""
        return np.abs(values - self.median) / self.sigma

    def log_density(self, values: np.ndarray) -> np.ndarray:
        """Gaussian log density of ``values`` up to a shared constant: a broad class (a background of fat,
        muscle and air) is less likely at any one value than a narrow one at its median."""
        return -0.5 * self.z(values) ** 2 - np.log(self.sigma)


def appearance_of(image: np.ndarray, mask: np.ndarray, floor: float) -> Appearance | None:
    """Appearance of ``image`` (H, W) under ``mask``; None if the mask is empty. ``floor`` bounds sigma."""
    values = image[mask]
    if values.size == 0:
        return None
    median = float(np.median(values))
    sigma = _MAD_TO_SIGMA * float(np.median(np.abs(values - median)))
    return Appearance(median, max(sigma, floor))


def sigma_floor(image: np.ndarray) -> float:
    """A small intensity scale of ``image`` that keeps a flat class from getting a zero sigma."""
    lo, hi = np.percentile(image, [1, 99])
    return max(1e-3 * float(hi - lo), 1e-12)


def check_seeds(
    scribbles: np.ndarray,
    image: np.ndarray,
    models: dict[int, Appearance],
    ring_label: int,
    max_z: float,
) -> tuple[np.ndarray, dict[int, float]]:
    """Test derived seeds against the new slice's intensities.

    Returns a copy of ``scribbles`` without the class seeds further than ``max_z`` robust sigmas from
    their class (outliers: a vessel, a calcification), and, per object class with a model, the fraction
    of its seeds that fit it: within ``max_z`` and explained at least as well (Gaussian density) by the
    class as by the background ring. A low fraction means the class is no longer under its seeds.
    Only outliers are dropped, so a heterogeneous class (a tumour with a darker core) keeps seeds on
    all its parts. Of the ring only pixels that are clearly object (within 1 sigma of a class and
    ``max_z`` or more from the background) are dropped: the object moved into the ring there. A ring
    with wider gaps lets region-growing predictors leak (seen on BraTS with a looser rule).
    """
    out = scribbles.copy()
    values = np.asarray(image, np.float64)
    background = models.get(ring_label)
    fractions: dict[int, float] = {}
    for k, model in models.items():
        if k == ring_label:
            continue
        seeds = out == k
        seed_values = values[seeds]
        inlier = model.z(seed_values) <= max_z
        fit = inlier.copy()
        if background is not None:
            fit &= model.log_density(seed_values) >= background.log_density(seed_values)
        fractions[k] = float(fit.mean()) if fit.size else 0.0
        out.flat[np.flatnonzero(seeds)[~inlier]] = 0  # flatnonzero order matches values[seeds]
    if background is not None:
        # the object moved into the ring: drop ring pixels that are clearly object, not background
        ring = out == ring_label
        ring_values = values[ring]
        clearly_object = np.zeros(ring_values.shape, bool)
        for k, model in models.items():
            if k != ring_label:
                clearly_object |= (model.z(ring_values) <= 1.0) & (background.z(ring_values) >= max_z)
        out.flat[np.flatnonzero(ring)[clearly_object]] = 0
    return out, fractions
