"""The one check of a label map (scribbles, ground truth, a previous mask, labels to save).

A label map is an integer array: 0 none, k >= 1 class (or object) k. Each caller names the array and the
shape it must have; every refusal says what is wrong and how to fix it, raised where the array enters.
"""

from __future__ import annotations

import numpy as np

from napari_scribbleseg.errors import InputError


def check_label_map(
    array: object,
    name: str,
    ndim: int | None = 2,
    shape: tuple[int, ...] | None = None,
    shape_of: str = "the image",
    whole_floats: bool = True,
) -> np.ndarray:
    """``array`` as an integer label map, or :class:`InputError` naming the problem and the fix.

    Parameters
    ----------
    array : array-like
    name : what to call it in messages ("scribbles", "prev", "the ground truth 'cells'", ...).
    ndim : the number of dimensions it must have (None: any).
    shape : the shape it must have, that of ``shape_of``.
    whole_floats : accept a float array whose values are all whole numbers (a label layer saved as float);
        otherwise floats are refused.

    Returns
    -------
    np.ndarray
        bool maps as uint8 0/1, integer maps unchanged (no copy), whole floats as int64.
    """
    labels = np.asarray(array)
    if ndim is not None and labels.ndim != ndim:
        what = "one 2-D (H, W) label map (for a volume, take one slice)" if ndim == 2 else f"a {ndim}-D label map"
        raise InputError(f"{name} is {labels.ndim}-D with shape {labels.shape}; pass {what}")
    if shape is not None and labels.shape != tuple(shape):
        raise InputError(f"{name} has shape {labels.shape} but {shape_of} is {tuple(shape)}; pass a map of the same size")
    if labels.dtype == bool:
        return labels.astype(np.uint8)
    if not np.issubdtype(labels.dtype, np.integer):
        whole = (
            whole_floats
            and np.issubdtype(labels.dtype, np.floating)
            and bool(np.all(np.isfinite(labels)))
            and bool(np.all(labels == np.round(labels)))
        )
        if not whole:
            raise InputError(
                f"{name} has dtype {labels.dtype} with non-integer values; use an integer label map (0 none, k >= 1 "
                "class k), e.g. np.rint(x).astype(int), or threshold it (x > 0.5) for a binary mask"
            )
        labels = labels.astype(np.int64)
    if labels.size and labels.min() < 0:
        raise InputError(f"{name} has negative values; use 0 for none and k >= 1 for class k")
    return labels
