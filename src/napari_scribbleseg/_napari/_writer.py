"""napari writers: a Labels layer to NIfTI, MetaImage, NRRD or a DICOM series, with the image's geometry.

Geometry comes from the layer: ``metadata["geometry"]`` (set by the reader, and copied by the
segmentation widget onto the layers it creates) gives origin and direction; spacing is the layer's scale
(so a user who fixed the scale in napari gets what they see). Without metadata the translate is the origin.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from napari_scribbleseg.errors import InputError
from napari_scribbleseg.io import write_labels


def geometry_of(meta: dict[str, Any]) -> dict[str, Any]:
    """spacing (z, y, x), origin (x, y, z), 3x3 direction and the source DICOM series' identifying tags
    (patient, study, frame of reference) for :func:`write_labels`, from layer attributes."""
    stored = (meta.get("metadata") or {}).get("geometry") or {}
    scale = [float(s) for s in meta.get("scale", (1.0, 1.0, 1.0))]
    translate = [float(t) for t in meta.get("translate", (0.0, 0.0, 0.0))]
    if len(scale) == 2:
        scale = [float(stored.get("spacing", [1.0])[0]), *scale]
        translate = [0.0, *translate]
    origin = stored.get("origin") or list(reversed(translate[-3:]))
    direction = np.asarray(stored.get("direction", np.eye(3)), float)
    return {
        "spacing": tuple(scale[-3:]),
        "origin": tuple(origin),
        "direction": direction,
        "dicom_meta": dict(stored.get("dicom") or {}),
    }


def write_labels_layer(path: str, data: Any, meta: dict[str, Any]) -> list[str]:
    """npe2 single-layer writer: ``data`` is the Labels layer's (Z, Y, X) or (Y, X) array."""
    array = np.asarray(data)
    if array.ndim not in (2, 3):
        raise InputError(f"the labels are {array.ndim}-D; only 2-D or (Z, Y, X) label layers can be saved")
    written = write_labels(Path(path), array, **geometry_of(meta))
    return [str(written)]


def write_dicom_series(path: str, data: Any, meta: dict[str, Any]) -> list[str]:
    """npe2 writer for a DICOM series: ``name.dcm`` is saved as a folder ``name/`` of one file per slice."""
    folder = Path(path)
    if folder.suffix.lower() == ".dcm":
        folder = folder.with_suffix("")
    geometry = geometry_of(meta)
    array = np.asarray(data)
    if array.ndim not in (2, 3):
        raise InputError(f"the labels are {array.ndim}-D; only 2-D or (Z, Y, X) label layers can be saved")
    # napari's save dialog has asked before replacing an existing path; a folder holding anything but a
    # series this plugin wrote is still refused (a user's own DICOM files are never deleted)
    ours = folder.is_dir() and all(f.name.startswith("labels_") and f.suffix == ".dcm" for f in folder.iterdir())
    written = write_labels(folder, array, **geometry, overwrite=ours)
    return [str(written)]
