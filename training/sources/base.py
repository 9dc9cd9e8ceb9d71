"""What every data source yields: an image with all its labelled regions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass
class Sample:
    """One training image and its regions.

    Attributes
    ----------
    image : (H, W, 3) uint8
        RGB as the model sees it (medical slices already windowed / normalised and repeated to 3 channels
        by :mod:`napari_scribbleseg.imaging`).
    regions : (H, W) int32
        0 = no labelled region (background or stuff), r >= 1 = region r (an instance, an organ, a class).
    ignore : (H, W) bool or None
        Pixels that no loss or metric counts (GrabCut-style boundary bands, VOC's void 255).
    name : str
        Where it came from, for logs.
    scribbles : (H, W) int32 or None
        Strokes an annotator drew (ACDC's real scribbles), in region numbers: r >= 1 a stroke of region r,
        :data:`BACKGROUND_STROKE` a background stroke, 0 none. Items then start from them
        (``given_scribbles`` in the recipe), not from simulated strokes.
    neighbour : (H, W) int32 or None
        The regions of a nearby slice of the same volume (same numbering), for propagation items: the
        recipe's ``propagation`` share starts from it as the previous mask, with the seeds volume
        propagation derives from it (:func:`napari_scribbleseg.volume.seeds.derive_scribbles`).
    """

    image: np.ndarray
    regions: np.ndarray
    ignore: np.ndarray | None
    name: str
    scribbles: np.ndarray | None = None
    neighbour: np.ndarray | None = None


#: The value of a background stroke in :attr:`Sample.scribbles`.
BACKGROUND_STROKE = -1


class Source(Protocol):
    """A data source: ``len(source)`` items, each read with ``source.sample(index, rng)``.

    ``rng`` lets volume sources pick the axis and the slice; image sources ignore it.
    """

    name: str

    def __len__(self) -> int: ...

    def sample(self, index: int, rng: np.random.Generator) -> Sample: ...


def read_rgb(path: str) -> np.ndarray:
    """An image file as (H, W, 3) uint8 RGB, read by the evaluation's reader
    (:func:`napari_scribbleseg.datasets.base.read_image`): grey repeated, alpha dropped, 16-bit and float
    images scaled from their own minimum and maximum."""
    from napari_scribbleseg.datasets.base import read_image

    image = read_image(path)
    if image.dtype != np.uint8:
        image = image.astype(np.float32)
        lo, hi = float(image.min()), float(image.max())
        image = ((image - lo) / max(hi - lo, 1e-6) * 255).astype(np.uint8)
    if image.ndim == 2:
        return np.repeat(image[..., None], 3, axis=2)
    return np.ascontiguousarray(image[..., :3])


def read_mask(path: str) -> np.ndarray:
    """A mask file as (H, W) integers, by the evaluation's rule (:func:`napari_scribbleseg.datasets.base.read_mask`):
    palette indices kept (PASCAL VOC instances), a colour mask the maximum over its channels (a green mask is
    an object, not empty)."""
    from napari_scribbleseg.datasets.base import read_mask as read

    return read(path)
