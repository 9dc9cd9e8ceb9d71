"""napari reader: NIfTI, MetaImage, NRRD files and DICOM series folders, geometry kept.

Spacing becomes the layer's ``scale`` (z, y, x), the origin its ``translate`` (reversed to z, y, x; exact
for axis-aligned scans), and origin, spacing and ITK direction go to ``metadata["geometry"]`` so the writer
restores them exactly. Files whose name says they are labels (``*seg*``, ``*label*``, ``*mask*``) and that
hold integers open as a Labels layer.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable

import numpy as np

from napari_scribbleseg.io import Volume, is_volume_path, read_volume

LayerData = tuple[np.ndarray, dict[str, Any], str]
_LABEL_NAME = re.compile(r"(seg|label|mask|gt|truth)", re.IGNORECASE)


def get_reader(path: str | list[str]) -> Callable[[str | list[str]], list[LayerData]] | None:
    """Return :func:`read_layers` when every path is a volume file or a DICOM folder, else None."""
    paths = [path] if isinstance(path, str) else list(path)
    if not paths or not all(is_volume_path(p) for p in paths):
        return None
    return read_layers


def read_layers(path: str | list[str]) -> list[LayerData]:
    """Read each path into a napari layer (Image, or Labels for label files)."""
    paths = [path] if isinstance(path, str) else list(path)
    return [volume_layer(read_volume(p)) for p in paths]


def geometry_metadata(volume: Volume) -> dict[str, Any]:
    """What the writer needs to restore the file's geometry (plain lists, so it survives copies)."""
    return {
        "spacing": [float(s) for s in volume.spacing],
        "origin": [float(o) for o in volume.origin],
        "direction": np.asarray(volume.direction, float).tolist(),
        "dicom": dict(volume.meta),
    }


def volume_layer(volume: Volume) -> LayerData:
    """A napari layer tuple for ``volume``: scale = spacing, translate = origin, geometry in metadata."""
    path = Path(volume.path) if volume.path else None
    name = _layer_name(path) if path else "volume"
    array = volume.array
    if array.ndim == 3 and array.shape[0] == 1:
        array = array[0]  # a 2-D file (Z = 1): show a plain image
    spatial = array.ndim if array.ndim <= 3 else 3
    kwargs: dict[str, Any] = {
        "name": name,
        "scale": tuple(volume.spacing)[-spatial:],
        "translate": tuple(reversed(volume.origin))[-spatial:],
        "metadata": {"geometry": geometry_metadata(volume), "path": str(path) if path else None},
    }
    if np.issubdtype(array.dtype, np.integer) and path is not None and _LABEL_NAME.search(path.name):
        return array, kwargs, "labels"
    if array.ndim == 4:
        kwargs["channel_axis"] = 3  # (Z, Y, X, C): one layer per channel (MR modalities)
    kwargs["colormap"] = "gray"
    if volume.meta.get("modality") == "CT" or (array.size and float(array.min()) < -500):
        kwargs["contrast_limits"] = (-160.0, 240.0)  # abdomen window in HU
        kwargs["metadata"]["kind"] = "ct"
    elif volume.meta.get("modality") == "MR":
        kwargs["metadata"]["kind"] = "mr"
    return array, kwargs, "image"


def _layer_name(path: Path) -> str:
    name = path.name
    for suffix in (".nii.gz", ".nii", ".mha", ".mhd", ".nrrd", ".nhdr", ".dcm"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name
