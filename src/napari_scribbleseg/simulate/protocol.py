"""The evaluation protocol: where the next scribble or click goes, given ground truth and prediction.

000 Sec. 3.4: each new interaction goes on the largest error region (FN -> a stroke of the object class,
FP -> a stroke of the background class; with K classes, a stroke of the ground-truth class of the
region, 002's "largest error anywhere"). The scribble follows 000's deterministic Alg. 1; the click
sits at the interior-most point of the region (the DIOS/RITM click protocol), so both interaction
kinds are measured on one scale. Everything here is deterministic: no random numbers, stable sorts,
ties broken by raster order.

Label maps are (H, W) integer arrays, axis order (row, col). Binary tasks use gt 1 = object,
2 = background; a prediction's 0 ("no class") then counts as background.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from napari_scribbleseg.errors import InputError
from napari_scribbleseg.scribbles import rasterize_path
from napari_scribbleseg.simulate import geometry
from napari_scribbleseg.simulate._validate import (
    bool_mask,
    ground_truth,
    label_map,
    region_mask,
)

KINDS = ("scribble", "click")

#: fall back to the un-eroded region when erosion leaves a longest axis under this share of the region's
SHATTERED = 0.3


@dataclass(frozen=True)
class Interaction:
    """One simulated user interaction.

    Attributes
    ----------
    label : int
        Class the stroke belongs to: the ground-truth class of the region it lies in (>= 1).
    mask : (H, W) bool
        Pixels of the stroke.
    kind : str
        ``"scribble"`` or ``"click"``.
    path : (N, 2) float64 or None
        The stroke's centre line in (row, col) pixels (a click: its one centre point), for drawing it
        as a Shapes path, jittering it, or logging it.
    """

    label: int
    mask: np.ndarray
    kind: str
    path: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise InputError(f"interaction kind {self.kind!r} is unknown; use one of {KINDS}")
        if int(self.label) < 1:
            raise InputError(f"interaction label {self.label} is not a class; classes are 1..K")
        mask = np.asarray(self.mask)
        if mask.ndim != 2 or mask.dtype != bool:
            raise InputError(f"interaction mask must be a 2-D bool array; got {mask.dtype} with shape {mask.shape}")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Interaction):
            return NotImplemented
        same_path = (self.path is None and other.path is None) or (
            self.path is not None and other.path is not None and np.array_equal(self.path, other.path)
        )
        return self.label == other.label and self.kind == other.kind and np.array_equal(self.mask, other.mask) and same_path

    def __repr__(self) -> str:
        points = 0 if self.path is None else len(self.path)
        return (
            f"Interaction(label={self.label}, kind={self.kind!r}, pixels={int(self.mask.sum())}, "
            f"shape={self.mask.shape}, path_points={points})"
        )

    def __hash__(self) -> int:
        return hash((self.label, self.kind, self.mask.shape, np.packbits(self.mask).tobytes()))

    def paint(self, scribbles: np.ndarray) -> np.ndarray:
        """Return a copy of the (H, W) int scribble map with this stroke painted in its class."""
        out = np.array(scribbles, copy=True)
        out[self.mask] = self.label
        return out


def _is_binary(gt: np.ndarray, valid: np.ndarray) -> bool:
    return bool(valid.any()) and int(gt[valid].max()) <= 2


def error_regions(
    gt: np.ndarray, pred: np.ndarray | None, ignore: np.ndarray | None = None, *, limit: int | None = None
) -> list[tuple[int, np.ndarray]]:
    """Connected error regions of a prediction, largest first, each with its ground-truth class.

    Parameters
    ----------
    gt : (H, W) int or bool
        Ground truth, classes 1..K (binary: 1 = object, 2 = background; a bool mask is read as that).
        Pixels with value 0 must be listed in ``ignore`` (0 is not a class).
    pred : (H, W) int or None
        Prediction; None means nothing predicted yet. In a binary task (gt values <= 2) a predicted 0
        counts as background (2); with more classes 0 is "no class", wrong wherever gt is labelled.
    ignore : (H, W) bool, optional
        Pixels left out (e.g. GrabCut's 128 boundary band, unlabelled gt).
    limit : int, optional
        Return only the first ``limit`` regions (each region is a full-size mask: a noisy prediction
        can have thousands, so the protocol asks for one).

    Returns
    -------
    list of (class, (H, W) bool)
        8-connected components of ``gt != pred`` outside ``ignore``, split by gt class, sorted by
        size descending; equal sizes by class ascending, then by their first pixel in raster order.
    """
    gt = ground_truth(gt)
    valid = ~bool_mask(ignore, "ignore", gt.shape)
    if np.any((gt == 0) & valid):
        raise InputError(
            "gt has 0-valued pixels outside `ignore`; number the classes 1..K (binary: 1 = object, "
            "2 = background) or pass the unlabelled pixels as ignore=(gt == 0)"
        )
    pred = np.zeros_like(gt) if pred is None else label_map(pred, "pred", gt.shape)
    if _is_binary(gt, valid):
        pred = np.where(pred == 0, 2, pred)
    wrong = (gt != pred) & valid
    if not wrong.any():
        return []
    # one label image for all classes: class k's components (numbered in raster order of their first
    # pixel by ndimage.label) follow those of every smaller class, so a stable sort by size alone
    # breaks ties by (class, first pixel)
    labels = np.zeros(gt.shape, np.int32)
    classes: list[int] = []
    all_sizes: list[np.ndarray] = []
    for k in np.unique(gt[wrong]):
        lab, sizes = geometry.labelled_components(wrong & (gt == k))
        inside = lab > 0
        labels[inside] = lab[inside] + len(classes)
        classes.extend([int(k)] * len(sizes))
        all_sizes.append(sizes)
    order = np.argsort(-np.concatenate(all_sizes), kind="stable")
    if limit is not None:
        order = order[: max(0, int(limit))]
    return [(classes[i], labels == i + 1) for i in order]


def scribble_in_region(
    region: np.ndarray, width: float = 3.0, protect_boundary: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """000 Alg. 1 on one region: a smooth stroke along its medial axis.

    ``region`` (H, W) bool -> eroded away from its boundary (``protect_boundary``; see
    :func:`geometry.protected_region`; the un-eroded region is used when erosion breaks it into pieces
    whose longest axis is under :data:`SHATTERED` of the region's) -> longest medial-axis path
    (:func:`geometry.longest_skeleton_path`)
    -> piecewise cubic Bezier through it -> rasterised ``width`` px wide and clipped to the eroded region.
    When the skeleton has fewer than two pixels (a tiny region) the stroke is a dot of diameter
    ``width`` at the interior-most point.

    Returns
    -------
    mask : (H, W) bool
        The stroke, non-empty, inside the (eroded) region.
    path : (N, 2) float64
        Its centre line (row, col), before clipping.
    """
    region = region_mask(region, "error region")
    if not width >= 1:
        raise InputError(f"scribble width {width} is too small; use a width of at least 1 pixel (3 is the protocol's)")
    target = geometry.protected_region(region, width) if protect_boundary else region
    skeleton_path = geometry.longest_skeleton_path(target)
    if protect_boundary and len(geometry.labelled_components(target)[1]) > 1:
        # erosion shattered the region (a thin band eroded to a dotted line, thin limbs cut off): when
        # the longest piece's axis is under SHATTERED of the region's, protecting the boundary would
        # shrink the stroke to a fragment, so the un-eroded region is used instead
        whole_path = geometry.longest_skeleton_path(region)
        if geometry.path_length(skeleton_path) < SHATTERED * geometry.path_length(whole_path):
            target, skeleton_path = region, whole_path
    if skeleton_path is not None:
        path = geometry.smooth_bezier_path(skeleton_path)
        stroke = rasterize_path(path, region.shape, width) & target
        if stroke.any():
            return stroke, path
    # the interior-most point always survives the erosion (it erodes by at most half its depth)
    center = np.array([geometry.interior_point(region)], np.float64)
    stroke = rasterize_path(center, region.shape, width) & target
    return stroke, center


def click_in_region(region: np.ndarray, radius: float = 5.0) -> tuple[np.ndarray, np.ndarray]:
    """A click: a disk of ``radius`` px at the interior-most point of ``region``, clipped to it.

    Returns the (H, W) bool disk and its (1, 2) (row, col) centre.
    """
    region = region_mask(region, "error region")
    center = geometry.interior_point(region)
    return geometry.disk_mask(center, radius, region.shape) & region, np.array([center], np.float64)


def next_scribble(
    gt: np.ndarray,
    pred: np.ndarray | None,
    ignore: np.ndarray | None = None,
    width: float = 3.0,
    protect_boundary: bool = True,
) -> Interaction | None:
    """The protocol's next scribble: 000 Alg. 1 on the largest error region, or None when nothing is wrong.

    Shapes and conventions as in :func:`error_regions`; the stroke is ``width`` px wide and carries the
    gt class of its region (binary: 1 on a false negative, 2 on a false positive).
    """
    regions = error_regions(gt, pred, ignore, limit=1)
    if not regions:
        return None
    label, region = regions[0]
    mask, path = scribble_in_region(region, width=width, protect_boundary=protect_boundary)
    return Interaction(label, mask, "scribble", path)


def next_click(
    gt: np.ndarray, pred: np.ndarray | None, ignore: np.ndarray | None = None, radius: float = 5.0
) -> Interaction | None:
    """The click protocol's next click: a ``radius`` px disk at the distance-transform maximum of the
    largest error region (clipped to it), or None when nothing is wrong."""
    regions = error_regions(gt, pred, ignore, limit=1)
    if not regions:
        return None
    label, region = regions[0]
    mask, center = click_in_region(region, radius)
    return Interaction(label, mask, "click", center)


def first_interaction(
    gt: np.ndarray,
    kind: str = "scribble",
    width: float = 3.0,
    radius: float = 5.0,
    ignore: np.ndarray | None = None,
    protect_boundary: bool = True,
    label: int = 1,
) -> Interaction:
    """The first interaction of a binary session: a positive stroke (class ``label``, default the object 1)
    on the largest connected part of that class in ``gt`` (H, W) int, outside ``ignore``."""
    gt = ground_truth(gt)
    valid = ~bool_mask(ignore, "ignore", gt.shape)
    target = (gt == label) & valid
    if not target.any():
        raise InputError(
            f"gt has no pixel of class {label} outside ignore; a binary task needs the object as class 1 "
            "(and the background as class 2)"
        )
    region = geometry.largest_component(target)
    if kind == "scribble":
        mask, path = scribble_in_region(region, width=width, protect_boundary=protect_boundary)
    elif kind == "click":
        mask, path = click_in_region(region, radius)
    else:
        raise InputError(f"interaction kind {kind!r} is unknown; use one of {KINDS}")
    return Interaction(int(label), mask, kind, path)


SIMULATORS: dict[str, Callable[..., Interaction | None]] = {"scribble": next_scribble, "click": next_click}


def get_simulator(name: str) -> Callable[..., Interaction | None]:
    """The protocol simulator called ``name`` (``SIMULATORS``): ``f(gt, pred, ignore=None, **options)``."""
    try:
        return SIMULATORS[name]
    except (KeyError, TypeError):
        raise KeyError(f"unknown simulator {name!r}; choose one of {sorted(SIMULATORS)}") from None
