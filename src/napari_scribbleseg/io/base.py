"""The volume type of :mod:`napari_scribbleseg.io` and the SimpleITK conversions every reader and writer shares."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from napari_scribbleseg.errors import InputError


#: File suffixes read and written (a folder holding a DICOM series is read; a path without a suffix is
#: written as one).
VOLUME_SUFFIXES = (".nii", ".nii.gz", ".mha", ".mhd", ".nrrd", ".nhdr", ".dcm")


SUPPORTED = ".nii/.nii.gz, .mha/.mhd, .nrrd, a folder holding a DICOM series, or a single .dcm file"


@dataclass
class Volume:
    """A volume and its geometry (see the module docstring for the conventions).

    Attributes
    ----------
    array : (Z, Y, X) or (Z, Y, X, C) ndarray
        Voxel values as stored (HU for CT after the DICOM rescale).
    spacing : (z, y, x) float, mm
    origin : (x, y, z) float, mm, ITK/LPS physical frame
    direction : (3, 3) float ndarray, ITK direction cosines
    path : Path or None
        Where it was read from.
    meta : dict
        Extra facts from the file, e.g. ``"modality": "CT"`` from DICOM.
    """

    array: np.ndarray
    spacing: tuple[float, float, float] = (1.0, 1.0, 1.0)
    origin: tuple[float, float, float] = (0.0, 0.0, 0.0)
    direction: np.ndarray = field(default_factory=lambda: np.eye(3))
    path: Path | None = None
    meta: dict = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, int, int]:
        """(Z, Y, X) voxel counts (channels left out)."""
        return tuple(self.array.shape[:3])


def _suffix(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(".nii.gz"):
        return ".nii.gz"
    return path.suffix.lower()


def _from_sitk(image, path: Path | None, meta: dict | None = None) -> Volume:
    import SimpleITK as sitk

    array = sitk.GetArrayFromImage(image)
    dim = image.GetDimension()
    spacing = image.GetSpacing()
    origin = image.GetOrigin()
    direction = np.asarray(image.GetDirection(), dtype=np.float64).reshape(dim, dim)
    if dim == 2:
        array = array[None]
        spacing, origin = (*spacing, 1.0), (*origin, 0.0)
        direction = np.block([[direction, np.zeros((2, 1))], [np.zeros((1, 2)), np.ones((1, 1))]])
    elif dim == 4:
        # a 4-D NIfTI (e.g. the Decathlon's stacked MR modalities) is (C, Z, Y, X) here: channels last
        array = np.moveaxis(array, 0, -1)
        spacing, origin, direction = spacing[:3], origin[:3], direction[:3, :3]
    elif dim != 3:
        raise InputError(f"{path} is a {dim}-D image; only 2-D, 3-D and 4-D (channels) volumes are supported")
    return Volume(
        array=array,
        spacing=(float(spacing[2]), float(spacing[1]), float(spacing[0])),
        origin=tuple(float(v) for v in origin),
        direction=direction,
        path=path,
        meta=dict(meta or {}),
    )


def _first_line(error: Exception) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[-1] if lines else type(error).__name__


def to_sitk(array: np.ndarray, spacing=(1.0, 1.0, 1.0), origin=(0.0, 0.0, 0.0), direction=None):
    """A SimpleITK image of a (Z, Y, X) array with spacing (z, y, x), origin (x, y, z) and 3x3 direction."""
    import SimpleITK as sitk

    image = sitk.GetImageFromArray(array)
    image.SetSpacing(tuple(float(s) for s in reversed(tuple(spacing))))
    image.SetOrigin(tuple(float(o) for o in origin))
    image.SetDirection(tuple(float(d) for d in np.asarray(np.eye(3) if direction is None else direction).ravel()))
    return image


# direction cosines further than this from orthonormal are a sheared (or skewed) frame
_SHEAR_TOLERANCE = 1e-4


def _shear(direction) -> float:
    """How far a 3x3 direction matrix is from orthonormal (0 for a rotation or reflection)."""
    d = np.asarray(direction, dtype=np.float64).reshape(3, 3)
    return float(np.abs(d.T @ d - np.eye(3)).max())
