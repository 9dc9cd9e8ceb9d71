"""Checks at the simulators' boundary: label maps, masks and their shapes. Each error names the fix."""

from __future__ import annotations

import numpy as np

from napari_scribbleseg.errors import InputError
from napari_scribbleseg.labelmaps import check_label_map


def label_map(array: np.ndarray, name: str, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """Return ``array`` as an (H, W) int64 label map; bool maps become 0/1.

    Raises :class:`InputError` for non-2-D, float, negative or wrongly shaped maps.
    """
    labels = check_label_map(array, name, shape=shape, shape_of="the ground truth", whole_floats=False)
    return labels.astype(np.int64, copy=False)


def ground_truth(array: np.ndarray) -> np.ndarray:
    """A ground-truth label map as (H, W) int64; a bool mask is read as a binary task (True 1, False 2)."""
    array = np.asarray(array)
    if array.dtype == bool:
        return label_map(np.where(array, 1, 2), "gt")
    return label_map(array, "gt")


def bool_mask(array: np.ndarray | None, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """Return ``array`` as an (H, W) bool mask of ``shape`` (all False when None).

    Accepts bool or integer 0/1 arrays; anything else raises :class:`InputError`.
    """
    if array is None:
        return np.zeros(shape, bool)
    array = np.asarray(array)
    if array.shape != tuple(shape):
        raise InputError(f"{name} has shape {array.shape} but the image is {tuple(shape)}; pass a mask of the same size")
    if array.dtype == bool:
        return array
    if np.issubdtype(array.dtype, np.integer) and (array.size == 0 or (array.min() >= 0 and array.max() <= 1)):
        return array.astype(bool)
    raise InputError(f"{name} has dtype {array.dtype} with values other than 0/1; pass a bool mask")


def region_mask(array: np.ndarray, name: str = "mask") -> np.ndarray:
    """Return a non-empty (H, W) bool region; raises :class:`InputError` when 2-D-ness or content is wrong."""
    array = np.asarray(array)
    if array.ndim != 2:
        raise InputError(f"{name} is {array.ndim}-D with shape {array.shape}; pass one 2-D (H, W) mask")
    mask = bool_mask(array, name, array.shape)
    if not mask.any():
        raise InputError(f"{name} is empty; a stroke needs at least one pixel of the region to lie in")
    return mask


def generator(rng: np.random.Generator | int | None) -> np.random.Generator:
    """``rng`` as a Generator: an int seeds one; None is refused so that no result depends on global state."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None:
        raise InputError("pass rng=np.random.default_rng(seed) (or an int seed); simulators never use global randomness")
    if isinstance(rng, (int, np.integer)):
        return np.random.default_rng(int(rng))
    raise InputError(f"rng is a {type(rng).__name__}; pass a numpy Generator or an int seed")
