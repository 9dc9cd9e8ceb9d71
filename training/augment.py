"""Geometric augmentation to the square training input: random scale and flip, whole-image or zoomed views.

Two views mirror how the Session shows images to the model: the whole image resized to the input
(first interaction) and a crop around the object expanded about 1.4x (zoom-in from the second
interaction on, 000).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from training.sources.base import Sample


@dataclass
class View:
    """A square training input.

    image : (S, S, 3) uint8; regions : (S, S) int32 (0 = none, r = region r of the sample);
    valid : (S, S) bool, False on padding and ignored pixels; scribbles : (S, S) int32 or None, the
    sample's given strokes moved with the regions; neighbour : (S, S) int32 or None, a nearby slice's
    regions (:attr:`Sample.neighbour`) moved with them.
    """

    image: np.ndarray
    regions: np.ndarray
    valid: np.ndarray
    scribbles: np.ndarray | None = None
    neighbour: np.ndarray | None = None


def _resize(array: np.ndarray, size: tuple[int, int], nearest: bool) -> np.ndarray:
    import cv2

    interp = cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR
    if array.dtype == bool:
        return cv2.resize(array.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST).astype(bool)
    if nearest and array.dtype not in (np.uint8, np.uint16, np.int16, np.float32):
        return cv2.resize(array.astype(np.int32).astype(np.float32), size, interpolation=interp).astype(array.dtype)
    return cv2.resize(array, size, interpolation=interp)


def _resize_strokes(strokes: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize an int stroke map so that no stroke vanishes: a pixel takes a stroke's value when the
    stroke covers any part of it (nearest sampling would drop thin lines when shrinking)."""
    import cv2

    out = np.zeros((size[1], size[0]), np.int32)
    for value in np.unique(strokes):
        if value != 0:
            covered = cv2.resize((strokes == value).astype(np.float32), size, interpolation=cv2.INTER_AREA) > 0
            out[covered & (out == 0)] = value
    return out


def _place(crop: View, size: int) -> View:
    """Pad a view smaller than (size, size) at the bottom/right (padding is not valid)."""
    h, w = crop.regions.shape
    if (h, w) == (size, size):
        return crop
    image = np.zeros((size, size, 3), np.uint8)
    regions = np.zeros((size, size), np.int32)
    valid = np.zeros((size, size), bool)
    image[:h, :w], regions[:h, :w], valid[:h, :w] = crop.image, crop.regions, crop.valid
    extra = []
    for layer in (crop.scribbles, crop.neighbour):
        if layer is None:
            extra.append(None)
            continue
        placed = np.zeros((size, size), np.int32)
        placed[:h, :w] = layer
        extra.append(placed)
    return View(image, regions, valid, *extra)


def whole_view(
    sample: Sample, size: int, rng: np.random.Generator, scale: tuple[float, float], base: int | None = None
) -> View:
    """The image resized so its longer side is ``L * s`` (s uniform in ``scale``), then cropped/padded to ``size``.

    ``L`` is ``size`` (the whole image fits the view) or, with ``base``, the longer side the Session's
    encoder sees: ``min(longer side, base)`` with ``base`` its ``encoder_max_side``. Then a view is a
    random ``size`` crop of the image at inference scale.
    """
    h, w = sample.regions.shape
    longer = size if base is None else min(max(h, w), base)
    s = rng.uniform(*scale) * longer / max(h, w)
    new = (max(1, int(round(w * s))), max(1, int(round(h * s))))
    image = _resize(sample.image, new, nearest=False)
    regions = _resize(sample.regions, new, nearest=True)
    valid = ~_resize(sample.ignore, new, nearest=True) if sample.ignore is not None else np.ones(regions.shape, bool)
    scribbles = None if sample.scribbles is None else _resize_strokes(sample.scribbles, new)
    neighbour = None if sample.neighbour is None else _resize(sample.neighbour, new, nearest=True)
    y0 = int(rng.integers(0, max(1, regions.shape[0] - size + 1)))
    x0 = int(rng.integers(0, max(1, regions.shape[1] - size + 1)))
    window = (slice(y0, y0 + size), slice(x0, x0 + size))
    crop = View(image[window], regions[window], valid[window], None if scribbles is None else scribbles[window],
                None if neighbour is None else neighbour[window])
    return _place(crop, size)


def zoom_view(
    sample: Sample, region: int, size: int, rng: np.random.Generator, expand: tuple[float, float] = (1.2, 2.0)
) -> View:
    """A square crop around ``region``'s box, expanded by a random factor, jittered, resized to ``size``."""
    ys, xs = np.nonzero(sample.regions == region)
    h, w = sample.regions.shape
    cy, cx = (ys.min() + ys.max()) / 2, (xs.min() + xs.max()) / 2
    side = max(ys.max() - ys.min() + 1, xs.max() - xs.min() + 1) * rng.uniform(*expand)
    side = max(side, 16.0)
    cy += rng.uniform(-0.1, 0.1) * side
    cx += rng.uniform(-0.1, 0.1) * side
    y0, x0 = int(round(cy - side / 2)), int(round(cx - side / 2))
    y1, x1 = y0 + int(round(side)), x0 + int(round(side))
    # crop with zero padding where the box leaves the image
    pad = max(0, -y0, -x0, y1 - h, x1 - w)
    image = np.pad(sample.image, ((pad, pad), (pad, pad), (0, 0)))
    regions = np.pad(sample.regions, pad)
    inside = np.pad(np.ones((h, w), bool) if sample.ignore is None else ~sample.ignore, pad)
    sl = (slice(y0 + pad, y1 + pad), slice(x0 + pad, x1 + pad))
    scribbles = None
    if sample.scribbles is not None:
        scribbles = _resize_strokes(np.pad(sample.scribbles, pad)[sl], (size, size))
    neighbour = None
    if sample.neighbour is not None:
        neighbour = _resize(np.pad(sample.neighbour, pad)[sl], (size, size), nearest=True)
    return View(
        _resize(image[sl], (size, size), nearest=False),
        _resize(regions[sl], (size, size), nearest=True),
        _resize(inside[sl], (size, size), nearest=True),
        scribbles,
        neighbour,
    )


def flip(view: View, rng: np.random.Generator) -> View:
    """Mirror left-right with probability 1/2."""
    if rng.random() < 0.5:
        mirrored = [None if a is None else a[:, ::-1].copy() for a in (view.scribbles, view.neighbour)]
        return View(view.image[:, ::-1].copy(), view.regions[:, ::-1].copy(), view.valid[:, ::-1].copy(), *mirrored)
    return view
