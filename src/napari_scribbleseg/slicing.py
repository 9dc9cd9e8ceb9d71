"""Slices of volumes: one way to index, cut and measure a 2-D slice along any axis.

A slice is named by a key: ``()`` for a 2-D image, ``(axis, index)`` for slice ``index`` across ``axis``
of a (Z, Y, X) volume (0 = Z axial, 1 = Y coronal, 2 = X sagittal). The controller, the widgets, the
instance annotator and the file readers all index with :func:`slice_key`.
"""

from __future__ import annotations

import numpy as np

from napari_scribbleseg.errors import InputError


def slice_key(key: tuple) -> tuple:
    """The numpy index of the slice named by ``key``: ``()`` -> everything, ``(axis, index)`` -> that slice."""
    if not key:
        return (Ellipsis,)
    axis, index = key
    return (slice(None),) * int(axis) + (int(index),)


def _check_axis(ndim: int, axis: int) -> int:
    if axis not in (0, 1, 2, -1, -2, -3):
        raise InputError(f"axis {axis} is not a volume axis; use 0 (Z, axial), 1 (Y, coronal) or 2 (X, sagittal)")
    if ndim < 3:
        raise InputError(f"the volume is {ndim}-D; slicing needs a (Z, Y, X) array")
    return axis % 3


def slice_volume(array: np.ndarray, axis: int, index: int) -> np.ndarray:
    """The 2-D slice ``index`` of a (Z, Y, X[, C]) array along ``axis`` (0 = Z, 1 = Y, 2 = X).

    Rows and columns are the two remaining axes in their order: axis 0 -> (Y, X), axis 1 -> (Z, X),
    axis 2 -> (Z, Y); channels, if any, stay last. A view, not a copy.
    """
    array = np.asarray(array)
    axis = _check_axis(array.ndim, axis)
    size = array.shape[axis]
    if not -size <= index < size:
        raise InputError(f"slice {index} is outside axis {axis} of a volume with shape {array.shape}; use 0..{size - 1}")
    return array[(slice(None),) * axis + (index,)]


def slice_spacing(spacing: tuple[float, float, float], axis: int) -> tuple[float, float]:
    """(row, col) spacing in mm of slices along ``axis`` of a volume with (z, y, x) ``spacing``."""
    axis = _check_axis(3, axis)
    rest = [float(s) for i, s in enumerate(spacing) if i != axis]
    return rest[0], rest[1]
