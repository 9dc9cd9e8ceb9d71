"""Samples, the lazy dataset sequence every layout returns, and the file readers they share."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from napari_scribbleseg.errors import InputError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff")


@dataclass
class Sample:
    """One evaluation or training sample.

    Attributes
    ----------
    name : str
        Unique within its dataset (file stem, plus instance / slice / class where needed).
    image : ndarray
        (H, W) or (H, W, 3) raw intensities (uint8 photo, HU for CT, scanner units or z-scores for MR);
        turn it into model input with ``imaging.to_rgb_float(image, kind)``.
    gt : (H, W) int32 ndarray
        Binary samples: 0 background, 1 object. Multi-region samples: 0 background, 1..K regions.
    ignore : (H, W) bool ndarray or None
        Pixels left out of the metrics (GrabCut's 128 band, PASCAL's 255 boundary).
    kind : str
        ``"rgb"``, ``"gray"``, ``"ct"`` or ``"mr"``: how ``imaging`` converts ``image``.
    spacing : (row, col) mm or None
        Pixel spacing of medical slices.
    meta : dict
        Where it came from (path, case, axis, slice index, class names, ...).
    """

    name: str
    image: np.ndarray
    gt: np.ndarray
    ignore: np.ndarray | None = None
    kind: str = "rgb"
    spacing: tuple[float, float] | None = None
    meta: dict = field(default_factory=dict)

    @property
    def num_regions(self) -> int:
        """K: the largest label in ``gt`` (1 for a binary sample with an object)."""
        return int(self.gt.max()) if self.gt.size else 0


class Dataset(Sequence):
    """A lazy sequence of :class:`Sample`: the index is built on first use, each sample read on access.

    Subclasses implement ``_index()`` (cheap descriptors, one per sample) and ``_load(item)``.
    Instances pickle (no open files, caches dropped) so evaluation can hand them to worker processes.
    """

    layout = "dataset"

    def __init__(self, name: str) -> None:
        self.name = name
        self._items: list | None = None

    def _index(self) -> list:
        raise NotImplementedError

    def _load(self, item: Any) -> Sample:
        raise NotImplementedError

    @property
    def items(self) -> list:
        """The sample descriptors (built once)."""
        if self._items is None:
            self._items = list(self._index())
        return self._items

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return Subset(self, range(len(self))[index])
        if not -len(self) <= index < len(self):
            raise IndexError(f"sample {index} of a dataset with {len(self)} samples")
        return self._load(self.items[index])

    def __repr__(self) -> str:
        count = len(self._items) if self._items is not None else "?"
        return f"<{type(self).__name__} {self.name!r} layout={self.layout!r} samples={count}>"

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_cache")}


class Subset(Dataset):
    """Some samples of another dataset (what slicing a dataset returns)."""

    def __init__(self, parent: Dataset, indices: Sequence[int]) -> None:
        super().__init__(parent.name)
        self.layout = parent.layout
        self.parent = parent
        self.indices = list(indices)

    def _index(self) -> list:
        return self.indices

    def _load(self, item: int) -> Sample:
        return self.parent[item]


class SampleList(Dataset):
    """Samples already in memory (arrays given directly)."""

    layout = "arrays"

    def __init__(self, samples: Sequence[Sample], name: str = "arrays") -> None:
        super().__init__(name)
        self.samples = list(samples)

    def _index(self) -> list:
        return list(range(len(self.samples)))

    def _load(self, item: int) -> Sample:
        return self.samples[item]


def read_image(path: Path) -> np.ndarray:
    """An image file as (H, W) or (H, W, 3) (uint8, or uint16/int32/float32 for 16-bit and float TIFF/PNG).

    Palette and CMYK images become RGB; alpha is dropped (a benchmark file's alpha carries no label).
    """
    from PIL import Image

    try:
        with Image.open(path) as image:
            if image.mode in ("P", "CMYK", "YCbCr", "RGBA", "LA", "PA", "RGBX", "HSV", "LAB"):
                image = image.convert("RGB" if image.mode != "LA" else "L")
            elif image.mode == "1":
                image = image.convert("L")
            array = np.asarray(image)
    except FileNotFoundError as error:
        raise InputError(f"image file {path} does not exist; check the dataset folder") from error
    except OSError as error:
        raise InputError(f"could not read image {path} ({error}); use JPEG, PNG, BMP or TIFF") from error
    if array.ndim == 3 and array.shape[2] == 3 and _channels_equal(array):
        return np.ascontiguousarray(array[..., 0])
    return array


def _channels_equal(rgb: np.ndarray) -> bool:
    return bool(np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 1], rgb[..., 2]))


def read_mask(path: Path) -> np.ndarray:
    """A mask file as (H, W) integers: palette indices kept (instance maps), RGB reduced by the max over channels."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            if image.mode in ("RGBA", "LA"):
                image = image.convert("RGB" if image.mode == "RGBA" else "L")
            array = np.asarray(image)
    except FileNotFoundError as error:
        raise InputError(f"mask file {path} does not exist; check the dataset folder") from error
    except OSError as error:
        raise InputError(f"could not read mask {path} ({error}); masks are PNG or BMP label images") from error
    if array.ndim == 3:
        # masks saved as RGB (DAVIS, some Berkeley copies): any channel marks the object
        array = array.max(axis=2)
    if array.dtype == bool:
        array = array.astype(np.uint8)
    return array


def binarize(mask: np.ndarray) -> np.ndarray:
    """0/1 int32 object mask of a 0/255 (threshold 128) or 0/1 (non-zero) mask."""
    if mask.size and mask.max() > 1:
        return (mask >= 128).astype(np.int32) if mask.dtype == np.uint8 else (mask > 0).astype(np.int32)
    return (mask > 0).astype(np.int32)


def check_pair(image: np.ndarray, mask: np.ndarray, where: str, what: str = "mask") -> None:
    """Raise :class:`InputError` when a mask does not cover its image pixel for pixel."""
    if mask.shape != image.shape[:2]:
        raise InputError(
            f"{what} shape {mask.shape} does not match image shape {image.shape[:2]} in {where}; "
            f"give each image a {what} of the same height and width"
        )


def image_kind(image: np.ndarray) -> str:
    """``"rgb"`` for (H, W, 3), else ``"gray"`` (natural-image layouts)."""
    return "rgb" if image.ndim == 3 else "gray"


def files_by_stem(folder: Path, suffixes: Sequence[str] = IMAGE_SUFFIXES) -> dict[str, Path]:
    """Files in ``folder`` with one of ``suffixes`` (case-insensitive), keyed by stem."""
    return {p.stem: p for p in sorted(folder.iterdir()) if p.is_file() and p.suffix.lower() in suffixes}
