"""Flawed previous masks for training (000 Sec. 3.3): perturbed ground truth.

000 mixes the model's own predictions (iterative training, done in ``training/``) with ground truth
perturbed by random dilation, erosion, translation and local erasing, at 1 : 0.4. These functions
give the perturbed half. Sizes scale with the object (its equivalent radius sqrt(area / pi)) so small
and large objects are damaged alike.
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy import ndimage

from napari_scribbleseg.errors import InputError
from napari_scribbleseg.simulate import geometry
from napari_scribbleseg.simulate._validate import generator, label_map

PERTURBATIONS = ("dilate", "erode", "translate", "erase")


def _radius(mask: np.ndarray) -> float:
    return float(np.sqrt(mask.sum() / np.pi))


def _disk(radius: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))


def dilate_mask(mask: np.ndarray, rng: np.random.Generator | int, scale: tuple[float, float] = (0.05, 0.25)) -> np.ndarray:
    """``mask`` (H, W) bool grown by a disk of radius ``scale`` x its equivalent radius (at least 1 px)."""
    rng = generator(rng)
    r = max(1, round(rng.uniform(*scale) * _radius(mask)))
    return cv2.dilate(mask.astype(np.uint8), _disk(r)).astype(bool)


def erode_mask(mask: np.ndarray, rng: np.random.Generator | int, scale: tuple[float, float] = (0.05, 0.25)) -> np.ndarray:
    """``mask`` (H, W) bool shrunk by a disk of radius ``scale`` x its equivalent radius (at least 1 px)."""
    rng = generator(rng)
    r = max(1, round(rng.uniform(*scale) * _radius(mask)))
    return cv2.erode(mask.astype(np.uint8), _disk(r), borderValue=0).astype(bool)


def translate_mask(mask: np.ndarray, rng: np.random.Generator | int, scale: tuple[float, float] = (0.05, 0.3)) -> np.ndarray:
    """``mask`` (H, W) bool shifted in a random direction by ``scale`` x its equivalent radius (>= 1 px)."""
    rng = generator(rng)
    distance = max(1.0, rng.uniform(*scale) * _radius(mask))
    angle = rng.uniform(0.0, 2.0 * np.pi)
    shift = np.rint([distance * np.sin(angle), distance * np.cos(angle)]).astype(int)
    return ndimage.shift(mask, shift, order=0, mode="constant", cval=False)


def erase_locally(
    mask: np.ndarray, rng: np.random.Generator | int, n_holes: tuple[int, int] = (1, 3), scale: tuple[float, float] = (0.2, 0.6)
) -> np.ndarray:
    """``mask`` (H, W) bool with 1-3 disks erased, centred on mask pixels, radius ``scale`` x its equivalent radius."""
    rng = generator(rng)
    out = mask.copy()
    flat = np.flatnonzero(mask)
    radius = _radius(mask)
    for _ in range(int(rng.integers(n_holes[0], n_holes[1] + 1))):
        center = np.unravel_index(int(flat[rng.integers(len(flat))]), mask.shape)
        out &= ~geometry.disk_mask(center, max(1.0, rng.uniform(*scale) * radius), mask.shape)
    return out


_OPS = {"dilate": dilate_mask, "erode": erode_mask, "translate": translate_mask, "erase": erase_locally}


def perturb_mask(mask: np.ndarray, rng: np.random.Generator | int, ops: tuple[str, ...] = PERTURBATIONS) -> np.ndarray:
    """One perturbation, drawn uniformly from ``ops``, applied to the (H, W) bool ground-truth ``mask``.

    Returns (H, W) bool, a flawed previous mask. An empty mask stays empty.
    """
    rng = generator(rng)
    mask = np.asarray(mask, bool)
    if mask.ndim != 2:
        raise InputError(f"mask is {mask.ndim}-D; pass one 2-D (H, W) mask")
    unknown = [op for op in ops if op not in _OPS]
    if unknown or not ops:
        raise InputError(f"perturbations {unknown or ops} are unknown; use some of {PERTURBATIONS}")
    if not mask.any():
        return mask.copy()
    return _OPS[ops[int(rng.integers(len(ops)))]](mask, rng)


def perturb_label_map(
    labels: np.ndarray, rng: np.random.Generator | int, ops: tuple[str, ...] = PERTURBATIONS, p: float = 0.5
) -> np.ndarray:
    """A flawed multi-class previous prediction from an (H, W) int ground truth (0 = unlabelled).

    Each class is perturbed with probability ``p`` (at least one class always is), in random order:
    pixels it gains take its label, pixels it loses take the label of the nearest pixel of another
    class (or 0). Binary maps (1 object, 2 background) perturb the object.

    Returns (H, W) int32.
    """
    rng = generator(rng)
    labels = label_map(labels, "labels")
    classes = [int(c) for c in np.unique(labels) if c > 0]
    if not classes:
        return labels.astype(np.int32)
    if set(classes) <= {1, 2}:
        classes = [1] if 1 in classes else classes
    chosen = [k for k in classes if rng.random() < p] or [classes[int(rng.integers(len(classes)))]]
    out = labels.astype(np.int32).copy()
    for k in rng.permutation(chosen):
        before = out == k
        after = perturb_mask(before, rng, ops)
        lost = before & ~after
        if lost.any() and before.all():
            out[lost] = 0
        elif lost.any():
            # a lost pixel takes the label of the nearest pixel outside class k
            _, (rows, cols) = ndimage.distance_transform_edt(before, return_indices=True)
            out[lost] = out[rows[lost], cols[lost]]
        out[after] = k
    return out
