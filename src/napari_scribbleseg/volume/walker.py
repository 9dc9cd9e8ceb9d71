"""Propagation in 3-D: a random walker over the volume, seeded by the user's segmented slices.

Slice-by-slice propagation hands each slice its neighbour's result; errors compound, and an object that
shrinks towards its ends is carried too large (docs/BENCHMARKS.md "Volumes"). Here every slice the user
segmented (scribbled with the model, or accepted) seeds a 3-D random walker (Grady 2006; scikit-image,
voxel spacing given) with its whole result: each class a pixel inside its boundary, the background a
pixel outside, so the walker decides only where a boundary runs between and beyond those slices, along
the volume's own edges in all three directions. Where the walker's labels differ from the slice-by-slice
result, each connected region takes the labels that the user's slices' intensities favour
(:mod:`napari_scribbleseg.volume.arbitrate`), so the walker's diffusion across a faint boundary goes back
and the slice-by-slice result's leak into look-alike tissue does not. On the dev volumes of issue 16, after
the model + GrowCut propagation, it is above GrowCut's propagation and the 3-D random walker on the same
scribbles on every (structure, 1 or 3 slices) cell (docs/BENCHMARKS.md "Volumes").

The walker works inside a box around the objects found so far (their bounding box grown by
:data:`ROI_MARGIN_MM`), whose in-plane faces are background, the box a user draws around a structure,
through all of its slices; at half in-plane resolution where pixels are finer than :data:`FINE_PIXEL_MM`
(coarser where the box exceeds :data:`MAX_VOXELS`), which keeps one solve to seconds. The seeded slices
themselves are never rewritten.
"""

from __future__ import annotations

import importlib.util
import warnings
from collections.abc import Sequence

import numpy as np
from scipy import ndimage as ndi

from napari_scribbleseg.imaging import ct_window, mr_normalize, resolve_window
from napari_scribbleseg.volume.arbitrate import arbitrate, intensity_models

#: the walker's edge weight exp(-BETA * gradient^2) on intensities in [0, 1] (scikit-image's beta); the
#: value the 3-D random walker peer of benchmarks/volume_dice.py uses
BETA = 5000.0
#: the box the walker solves in: the objects' bounding box grown by this much on every side
ROI_MARGIN_MM = 10.0
#: seeds stay this far inside each class (and outside all of them) on a seeded slice: the walker may
#: move a boundary by a pixel there, the slice itself keeps its labels
SEED_MARGIN_MM = 1.0
#: in-plane pixels finer than this are solved at half resolution (probabilities upsampled linearly)
FINE_PIXEL_MM = 2.0
#: a box larger than this many voxels is solved at a coarser in-plane resolution (time and memory of one solve)
MAX_VOXELS = 2_000_000


def seeded_slice(labels: np.ndarray, classes: Sequence[int], background: int, pixel_spacing: Sequence[float],
                 margin_mm: float = SEED_MARGIN_MM) -> np.ndarray:
    """(H, W) seeds of one segmented slice: class k where a pixel lies more than ``margin_mm`` inside k,
    ``background`` more than ``margin_mm`` outside every class, 0 (left to the walker) in between."""
    seeds = np.zeros(labels.shape, np.int32)
    objects = np.isin(labels, classes)
    for k in classes:
        mine = labels == k
        if mine.any():
            seeds[ndi.distance_transform_edt(mine, sampling=pixel_spacing) > margin_mm] = k
    if objects.any():
        seeds[ndi.distance_transform_edt(~objects, sampling=pixel_spacing) > margin_mm] = background
    else:
        seeds[:] = background
    return seeds


def walk(
    volume: np.ndarray,
    labels: np.ndarray,
    seeded: Sequence[int],
    classes: Sequence[int],
    background: int,
    spacing: Sequence[float],
    kind: str | None = None,
) -> tuple[tuple[slice, slice, slice], np.ndarray] | None:
    """Solve the random walker for the slices between and around the ``seeded`` ones.

    ``volume`` and ``labels`` are (Z, Y, X) with slices across axis 0 (``spacing`` in that order);
    ``labels`` holds the seeded slices' results and the slice-by-slice result elsewhere (which sets the
    box and is kept where the seeded slices' intensities favour it: :func:`~napari_scribbleseg.volume.arbitrate.arbitrate`).
    ``background`` is the label the walker gives to no class (the caller maps it back). Returns the box
    and its (Z', Y', X') int32 labels, or None when no seeded slice holds an object.
    """
    classes = [int(k) for k in classes]
    objects = np.isin(labels, classes)
    seeded = [int(z) for z in seeded if objects[z].any()]
    if not seeded:
        return None
    box = _box(objects, spacing)
    data = _intensities(volume[box], kind)
    if not np.ptp(data) > 0:
        return None  # a flat box: no edge for the walker to follow
    seeds = np.zeros(data.shape, np.int32)
    pixel = tuple(float(s) for s in spacing[1:])
    z0 = box[0].start
    for z in seeded:
        if box[0].start <= z < box[0].stop:
            seeds[z - z0] = seeded_slice(labels[z][box[1:]], classes, background, pixel)
    frame = np.ones(seeds.shape, bool)
    frame[:, 1:-1, 1:-1] = False
    seeds[frame & (seeds == 0)] = background
    values = [*classes, background]
    current = np.where(np.isin(labels[box], classes), labels[box], background)
    mine = np.zeros(data.shape[0], bool)
    mine[[z - z0 for z in seeded if box[0].start <= z < box[0].stop]] = True
    models = intensity_models(data[mine], current[mine], values)
    return box, arbitrate(data, current, _solve(data, seeds, values, spacing), values, models, fixed=mine[:, None, None])


def _intensities(data: np.ndarray, kind: str | None) -> np.ndarray:
    """The box's intensities in [0, 1]: CT through the project's default window (abdomen), anything else between its percentiles
    (:func:`~napari_scribbleseg.imaging.mr_normalize`), or between its minimum and maximum where those
    percentiles coincide (a volume of a few grey values)."""
    if kind == "ct":
        return ct_window(data, *resolve_window(None))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # saturation changes only the walker's scaling here
        out = mr_normalize(data)
    if np.ptp(out) > 0:
        return out
    data = np.asarray(data, np.float32)
    low, high = float(data.min()), float(data.max())
    return np.zeros(data.shape, np.float32) if not high > low else (data - low) / (high - low)


def _box(objects: np.ndarray, spacing: Sequence[float]) -> tuple[slice, slice, slice]:
    box = []
    for axis, s in enumerate(spacing):
        present = np.flatnonzero(objects.any(axis=tuple(a for a in range(3) if a != axis)))
        grow = int(np.ceil(ROI_MARGIN_MM / s))
        box.append(slice(max(present[0] - grow, 0), min(present[-1] + grow + 1, objects.shape[axis])))
    return tuple(box)


def _solve(data: np.ndarray, seeds: np.ndarray, values: list[int], spacing: Sequence[float]) -> np.ndarray:
    """The walker's labels (Z, Y, X) int32 from ``seeds`` (0 unknown): at half in-plane resolution for fine
    pixels, coarser where the box would exceed :data:`MAX_VOXELS`; the seeds keep their labels."""
    from skimage.segmentation import random_walker
    from skimage.transform import downscale_local_mean

    present = [v for v in values if np.any(seeds == v)]
    if len(present) < 2 or not np.any(seeds == 0):
        return np.where(seeds == 0, present[0], seeds).astype(np.int32) if present else seeds.copy()
    f = 2 if max(spacing[1:]) < FINE_PIXEL_MM else 1
    f = max(f, int(np.ceil(np.sqrt(data.size / MAX_VOXELS))))
    f = min(f, max(min(data.shape[1:]) // 4, 1))
    small = downscale_local_mean(data, (1, f, f)) if f > 1 else data
    small_seeds = seeds[:, ::f, ::f][:, : small.shape[1], : small.shape[2]]
    if f > 1 and (not np.any(small_seeds == 0) or len(np.unique(small_seeds[small_seeds > 0])) < len(present)):
        f, small, small_seeds = 1, data, seeds  # a thin band or a small class lost in the subsampling
    # the multigrid solver where pyamg is installed: in 3-D a direct solve fills in too much
    mode = "cg_mg" if importlib.util.find_spec("pyamg") is not None else "cg_j"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "the probability ... not converged" on flat regions
        prob = random_walker(small, small_seeds, beta=BETA, mode=mode, tol=1e-3, return_full_prob=True,
                             spacing=(spacing[0], spacing[1] * f, spacing[2] * f))
    order = np.unique(small_seeds[small_seeds > 0])  # random_walker's probabilities follow the sorted labels
    if f > 1:
        zoom = [1.0, data.shape[1] / prob.shape[2], data.shape[2] / prob.shape[3]]
        prob = np.stack([ndi.zoom(p, zoom, order=1)[:, : data.shape[1], : data.shape[2]] for p in prob])
        prob = np.pad(prob, [(0, 0), (0, 0), (0, data.shape[1] - prob.shape[2]), (0, data.shape[2] - prob.shape[3])],
                      mode="edge")
    out = order[np.argmax(prob, axis=0)].astype(np.int32)
    known = seeds > 0
    out[known] = seeds[known]
    return out
