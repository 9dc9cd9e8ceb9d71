"""2-D training slices of labelled CT/MR volumes, along all three axes, only where a label is present.

Every medical source (BraTS, Decathlon, CHAOS, plain NIfTI pairs) is a list of :class:`VolumeCase`;
:class:`VolumeSliceSource` draws a case, an axis and a slice with foreground, resamples the slice to
square pixels (spacing kept from the file) and converts intensities with the same function the
Session uses at inference, so training and use see identical inputs.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from napari_scribbleseg.errors import InputError
from napari_scribbleseg.slicing import slice_spacing
from training.sources.base import Sample

# (volume (Z, Y, X) float32, labels (Z, Y, X) int32, spacing (z, y, x) mm)
Loaded = tuple[np.ndarray, np.ndarray, tuple[float, float, float]]


@dataclass
class VolumeCase:
    """One labelled volume: ``load()`` returns (volume, labels, spacing); ``kind`` is "ct" or "mr".

    ``label_map`` renames label values (e.g. CHAOS's 63/126/189/252 -> 1..4); values it does not
    name keep theirs.
    """

    name: str
    kind: str
    load: Callable[[], Loaded]
    label_map: dict[int, int] = field(default_factory=dict)


def read_volume(path: str) -> tuple[np.ndarray, tuple[float, float, float]]:
    """A NIfTI / MHA / NRRD file or DICOM series folder as ((Z, Y, X) float32, spacing (z, y, x) mm),
    read by :func:`napari_scribbleseg.io.read_volume` (multi-channel volumes: the first channel)."""
    from napari_scribbleseg.io import read_volume as read

    volume = read(path)
    array = volume.array
    if array.ndim == 4:  # multi-modal Decathlon volumes (Z, Y, X, C): train on the first modality
        array = array[..., 0]
    return array.astype(np.float32), tuple(float(s) for s in volume.spacing)  # type: ignore[return-value]


def intensities_to_rgb(slice_: np.ndarray, kind: str) -> np.ndarray:
    """(H, W) intensities -> (H, W, 3) uint8 through :func:`napari_scribbleseg.imaging.to_rgb_float`.

    The Session converts slices with the same function (default CT window, per-slice MR percentiles),
    so a fine-tuned model sees at inference what it saw in training.
    """
    from napari_scribbleseg.imaging import to_rgb_float

    return np.round(to_rgb_float(slice_, kind=kind) * 255).astype(np.uint8)


class VolumeSliceSource:
    """Random foreground slices of labelled volumes.

    Parameters
    ----------
    cases : list of VolumeCase
    axes : tuple of int
        Slicing axes of the (Z, Y, X) arrays: 0 axial, 1 coronal, 2 sagittal.
    cache : int
        Volumes kept in memory (least recently used dropped).
    min_foreground_px : int
        A slice needs at least this many labelled pixels.
    neighbours : int
        With n > 0 each sample also carries the labels of a slice 1..n away (either side, inside the
        volume) as :attr:`Sample.neighbour`, for propagation items; 0 carries none.
    """

    def __init__(
        self,
        cases: list[VolumeCase],
        name: str,
        axes: tuple[int, ...] = (0, 1, 2),
        cache: int = 8,
        min_foreground_px: int = 32,
        neighbours: int = 0,
    ) -> None:
        if not cases:
            raise InputError(f"{name}: no labelled volume found; check the source's folder")
        self.cases = cases
        self.name = name
        self.axes = tuple(axes)
        self.cache_size = cache
        self.min_foreground_px = min_foreground_px
        self.neighbours = int(neighbours)
        self._cache: OrderedDict[int, tuple[np.ndarray, np.ndarray, tuple[float, float, float], dict]] = OrderedDict()

    def __len__(self) -> int:
        return len(self.cases)

    def _load(self, index: int):
        if index in self._cache:
            self._cache.move_to_end(index)
            return self._cache[index]
        case = self.cases[index]
        volume, labels, spacing = case.load()
        if volume.shape != labels.shape:
            raise InputError(f"{case.name}: image {volume.shape} and labels {labels.shape} differ in shape")
        labels = labels.astype(np.int32)
        if case.label_map:
            mapped = labels.copy()
            for old, new in case.label_map.items():
                mapped[labels == old] = new
            labels = mapped
        # per axis: the slice indices with enough foreground
        counts = {a: np.count_nonzero(labels, axis=tuple(i for i in range(3) if i != a)) for a in self.axes}
        good = {a: np.flatnonzero(c >= self.min_foreground_px) for a, c in counts.items()}
        entry = (volume, labels, spacing, good)
        self._cache[index] = entry
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return entry

    def sample(self, index: int, rng: np.random.Generator) -> Sample:
        import cv2

        volume, labels, spacing, good = self._load(index)
        axes = [a for a in self.axes if len(good[a])]
        if not axes:
            raise InputError(f"{self.cases[index].name}: no slice has {self.min_foreground_px} labelled pixels")
        axis = int(rng.choice(axes))
        k = int(rng.choice(good[axis]))
        image = np.take(volume, k, axis=axis)
        label = np.take(labels, k, axis=axis)
        neighbour = None
        if self.neighbours > 0:
            offsets = [d for d in range(-self.neighbours, self.neighbours + 1) if d and 0 <= k + d < labels.shape[axis]]
            if offsets:
                neighbour = np.take(labels, k + int(rng.choice(offsets)), axis=axis)
        row_mm, col_mm = slice_spacing(spacing, axis)
        # square pixels: stretch the coarser in-plane axis (anisotropic coronal/sagittal slices)
        if not np.isclose(row_mm, col_mm, rtol=0.05):
            base = min(row_mm, col_mm)
            size = (int(round(image.shape[1] * col_mm / base)), int(round(image.shape[0] * row_mm / base)))
            image = cv2.resize(image, size, interpolation=cv2.INTER_LINEAR)
            label = cv2.resize(label.astype(np.int32), size, interpolation=cv2.INTER_NEAREST)
            if neighbour is not None:
                neighbour = cv2.resize(neighbour.astype(np.int32), size, interpolation=cv2.INTER_NEAREST)
        rgb = intensities_to_rgb(image, self.cases[index].kind)
        return Sample(rgb, label.astype(np.int32), None, f"{self.name}/{self.cases[index].name}/ax{axis}:{k}",
                      neighbour=None if neighbour is None else neighbour.astype(np.int32))
