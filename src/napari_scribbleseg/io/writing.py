"""Writing label volumes with the image's geometry, atomically (every format :data:`~napari_scribbleseg.io.base.VOLUME_SUFFIXES` names)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from napari_scribbleseg.atomic import write_file
from napari_scribbleseg.errors import InputError
from napari_scribbleseg.io.base import VOLUME_SUFFIXES, Volume, _SHEAR_TOLERANCE, _shear, _suffix, to_sitk
from napari_scribbleseg.io.dicom import _write_dicom_folder
from napari_scribbleseg.labelmaps import check_label_map


def _label_array(labels: np.ndarray) -> np.ndarray:
    array = np.asarray(labels)
    if array.ndim == 2:
        array = array[None]
    array = check_label_map(array, "labels", ndim=3)
    if array.dtype == np.uint8:
        return array
    top = int(array.max()) if array.size else 0
    if top > np.iinfo(np.uint32).max:
        raise InputError(f"labels go up to {top}; at most {np.iinfo(np.uint32).max} label values can be saved, renumber them")
    # instance ids can run past 255 and 65535: the smallest type that holds them
    return array.astype(np.uint8 if top <= 255 else np.uint16 if top <= 65535 else np.uint32)


def write_labels(
    path: str | Path,
    labels: np.ndarray,
    like: Volume | None = None,
    spacing: tuple[float, float, float] | None = None,
    origin: tuple[float, float, float] | None = None,
    direction: np.ndarray | None = None,
    dicom_meta: dict[str, Any] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write a label volume, keeping the image's geometry.

    Parameters
    ----------
    path : str or Path
        ``.nii``/``.nii.gz``, ``.mha``/``.mhd`` or ``.nrrd``; a path without a suffix is written as a
        DICOM series (a folder with one ``.dcm`` per slice).
    labels : (Z, Y, X) int or bool array
        0 = background, k >= 1 = class k; stored as uint8 (uint16 above 255 labels). A (Y, X) array
        is written as one slice.
    like : Volume, optional
        The image the labels belong to: its spacing, origin and direction (and, for DICOM, patient and
        study tags) are used unless given explicitly.
    spacing, origin, direction
        (z, y, x) mm, (x, y, z) mm, 3x3 ITK direction cosines.
    dicom_meta : dict, optional
        For a DICOM series: the source series' ``patient_id``, ``patient_name``, ``study_instance_uid``
        and ``frame_of_reference_uid`` (as :func:`read_volume` puts them in ``Volume.meta``), used
        instead of ``like.meta`` (the napari writer has the layer's metadata, not a Volume).
    overwrite : bool
        A DICOM series goes into a folder that must be new or empty: a series written over another
        would mix their slices. With ``overwrite=True`` a non-empty folder is replaced whole, atomically
        (the series is written to a temporary folder beside it, then swapped in).

    Returns
    -------
    Path
        The written file or folder. A file is written beside its target and renamed into place, so a
        failure or kill midway leaves the older file as it was (:mod:`napari_scribbleseg.atomic`). A
        sheared frame (a NIfTI read through nibabel) is written exactly to NIfTI, MHA and NRRD, and
        refused for DICOM, whose slices cannot hold it.
    """
    import SimpleITK as sitk

    path = Path(path)
    array = _label_array(labels)
    if like is not None and tuple(like.shape) != array.shape:
        raise InputError(
            f"labels have shape {array.shape} but the image {like.path or ''} is {tuple(like.shape)}; "
            "pass labels of the image's (Z, Y, X) shape"
        )
    spacing = spacing if spacing is not None else (like.spacing if like else (1.0, 1.0, 1.0))
    origin = origin if origin is not None else (like.origin if like else (0.0, 0.0, 0.0))
    direction = direction if direction is not None else (like.direction if like else np.eye(3))
    suffix = _suffix(path)
    if suffix == "":
        if dicom_meta is None:
            dicom_meta = like.meta if like else {}
        return _write_dicom_folder(path, array, spacing, origin, direction, dicom_meta, overwrite)
    if suffix not in VOLUME_SUFFIXES or suffix == ".dcm":
        raise InputError(
            f"cannot write labels to {path} (suffix {suffix!r}); use .nii.gz, .nii, .mha, .mhd, .nrrd, "
            "or a path without a suffix for a DICOM series folder"
        )
    image = to_sitk(array, spacing, origin, direction)
    if suffix in (".nii", ".nii.gz") and _shear(direction) > _SHEAR_TOLERANCE:
        # ITK's NIfTI writer would orthogonalise a sheared frame (only a warning on stderr): nibabel keeps it
        return write_file(path, lambda staged: _write_nifti_nibabel(staged, array, spacing, origin, direction))
    return write_file(path, lambda staged: sitk.WriteImage(image, str(staged), useCompression=True))


def _write_nifti_nibabel(path: Path, array, spacing, origin, direction) -> None:
    """The inverse of :func:`_read_nifti_nibabel`: the exact (sheared) affine in the header."""
    import nibabel as nib

    columns = np.asarray(direction, dtype=np.float64).reshape(3, 3) * np.asarray(spacing[::-1], np.float64)
    affine = np.eye(4)
    affine[:3, :3] = columns
    affine[:3, 3] = origin
    affine = np.diag([-1.0, -1.0, 1.0, 1.0]) @ affine  # ITK's LPS -> NIfTI's RAS
    image = nib.Nifti1Image(np.ascontiguousarray(np.moveaxis(array, [0, 1, 2], [2, 1, 0])), affine)
    image.set_sform(affine, code=1)  # the qform cannot hold a shear: only the sform, as such files are made
    image.set_qform(None, code=0)
    nib.save(image, str(path))
