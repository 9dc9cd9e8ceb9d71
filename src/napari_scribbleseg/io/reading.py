"""Reading volumes with their geometry: NIfTI, MetaImage, NRRD, DICOM (through SimpleITK; sheared NIfTI through nibabel)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from napari_scribbleseg.errors import InputError
from napari_scribbleseg.io.base import SUPPORTED, VOLUME_SUFFIXES, Volume, _first_line, _from_sitk, _suffix, to_sitk
from napari_scribbleseg.io.dicom import _DICOM_TAGS, _dicom_series, _read_dicom_folder


def is_volume_path(path: str | Path) -> bool:
    """True for a file with a volume suffix (see :data:`VOLUME_SUFFIXES`) or a folder holding DICOM files."""
    path = Path(path)
    if path.is_dir():
        return bool(_dicom_series(path))
    return _suffix(path) in VOLUME_SUFFIXES


def read_volume(path: str | Path) -> Volume:
    """Read a volume and its geometry.

    Parameters
    ----------
    path : str or Path
        A ``.nii``/``.nii.gz``, ``.mha``/``.mhd``, ``.nrrd`` or ``.dcm`` file, or a folder holding a
        DICOM series (the largest series when it holds several; DICOM rescale slope/intercept applied,
        so CT comes out in HU).

    Returns
    -------
    Volume
        ``array`` (Z, Y, X) (or (Z, Y, X, C)); a 2-D file gives Z = 1.

    Raises
    ------
    InputError
        When the path is missing, has an unsupported suffix or cannot be read; the message names the
        path and the supported formats.
    """
    import SimpleITK as sitk

    path = Path(path)
    if not path.exists():
        raise InputError(f"no such file or folder: {path}; give the path of {SUPPORTED}")
    if path.is_dir():
        return _read_dicom_folder(path)
    suffix = _suffix(path)
    if suffix not in VOLUME_SUFFIXES:
        raise InputError(f"{path} has an unsupported suffix {suffix!r}; supported: {SUPPORTED}")
    from napari_scribbleseg.completeness import check_complete

    check_complete(path)  # ITK would fill a cut file's missing voxels with 0
    try:
        image = sitk.ReadImage(str(path))
    except RuntimeError as error:
        if suffix in (".nii", ".nii.gz"):
            # ITK refuses some NIfTI headers (non-orthonormal or sheared affines) that nibabel reads
            return _read_nifti_nibabel(path, error)
        raise InputError(f"could not read {path}: {_first_line(error)}; supported: {SUPPORTED}") from error
    meta = {}
    for tag, name in _DICOM_TAGS.items():
        if image.HasMetaDataKey(tag) and image.GetMetaData(tag).strip():
            meta[name] = image.GetMetaData(tag).strip()
    return _from_sitk(image, path, meta)


def _read_nifti_nibabel(path: Path, itk_error: Exception) -> Volume:
    import nibabel as nib

    try:
        image = nib.load(str(path))
        data = np.asarray(image.dataobj)
    except Exception as error:  # nibabel raises many types for broken files
        raise InputError(
            f"could not read {path}: {_first_line(itk_error)} / {error}; supported: {SUPPORTED}"
        ) from error
    if data.ndim not in (3, 4):
        raise InputError(f"{path} is {data.ndim}-D; only 3-D volumes or 4-D (channels last) are supported")
    # nibabel's affine maps (i, j, k) to RAS; ITK's frame is LPS: flip the first two world axes
    affine = np.diag([-1.0, -1.0, 1.0, 1.0]) @ image.affine
    columns = affine[:3, :3]
    spacing_xyz = np.linalg.norm(columns, axis=0)
    direction = columns / spacing_xyz
    array = np.moveaxis(data, [0, 1, 2], [2, 1, 0])  # (X, Y, Z[, C]) -> (Z, Y, X[, C])
    return Volume(
        array=np.ascontiguousarray(array),
        spacing=(float(spacing_xyz[2]), float(spacing_xyz[1]), float(spacing_xyz[0])),
        origin=tuple(float(v) for v in affine[:3, 3]),
        direction=direction,
        path=path,
        meta={"read_with": "nibabel"},
    )


def read_grid(path: str | Path) -> Volume:
    """The geometry of a volume file without reading its voxels.

    ``array`` is a read-only broadcast of zeros with the file's (Z, Y, X) shape, so the result serves
    as the reference of :func:`resample_like`. A DICOM folder is read in full.
    """
    import SimpleITK as sitk

    path = Path(path)
    if path.is_dir() or not path.exists():
        return read_grid_from_volume(read_volume(path))
    reader = sitk.ImageFileReader()
    reader.SetFileName(str(path))
    try:
        reader.ReadImageInformation()
    except RuntimeError:
        return read_grid_from_volume(read_volume(path))  # the nibabel fallback, or a clear InputError
    size, spacing, origin = reader.GetSize(), reader.GetSpacing(), reader.GetOrigin()
    dim = len(size)
    direction = np.asarray(reader.GetDirection(), np.float64).reshape(dim, dim)
    if dim < 3:
        return read_grid_from_volume(read_volume(path))
    shape = (size[2], size[1], size[0])
    return Volume(
        np.broadcast_to(np.uint8(0), shape),
        (float(spacing[2]), float(spacing[1]), float(spacing[0])),
        tuple(float(v) for v in origin[:3]),
        direction[:3, :3],
        path,
    )


def read_grid_from_volume(volume: Volume) -> Volume:
    """``volume``'s geometry with a placeholder array (see :func:`read_grid`)."""
    return Volume(np.broadcast_to(np.uint8(0), volume.shape), volume.spacing, volume.origin, volume.direction, volume.path, volume.meta)


def resample_like(labels: Volume, reference: Volume) -> np.ndarray:
    """Labels resampled (nearest neighbour) onto ``reference``'s voxel grid, as (Z, Y, X).

    Needed where a label file stores the same physical grid in another orientation (e.g. NIfTI labels
    of a DICOM series with the rows flipped). Returns ``labels.array`` unchanged when the grids agree.
    """
    import SimpleITK as sitk

    same = (
        labels.shape == reference.shape
        and np.allclose(labels.spacing, reference.spacing, atol=1e-4)
        and np.allclose(labels.origin, reference.origin, atol=1e-3)
        and np.allclose(labels.direction, reference.direction, atol=1e-4)
    )
    if same:
        return labels.array
    moving = to_sitk(labels.array, labels.spacing, labels.origin, labels.direction)
    target = to_sitk(np.zeros(reference.shape, np.uint8), reference.spacing, reference.origin, reference.direction)
    out = sitk.Resample(moving, target, sitk.Transform(), sitk.sitkNearestNeighbor, 0, moving.GetPixelID())
    return sitk.GetArrayFromImage(out)
