"""Medical volumes with their geometry: read NIfTI, MetaImage, NRRD and DICOM; write label maps back.

Everything goes through SimpleITK so that one convention holds from file to saved labels:

- ``array`` is (Z, Y, X) as ``SimpleITK.GetArrayFromImage`` gives it ((Z, Y, X, C) for multi-channel
  files such as a 4-D NIfTI of MR modalities);
- ``spacing`` is (z, y, x) in mm, matching the array axes;
- ``origin`` is the physical position (x, y, z) of voxel (0, 0, 0) in ITK's LPS frame, in mm;
- ``direction`` is ITK's 3x3 direction-cosine matrix (column j is the direction of index axis j,
  index axes ordered x, y, z), so a voxel at index (i, j, k) = (x, y, z) sits at
  ``origin + direction @ (spacing_x * i, spacing_y * j, spacing_z * k)``.
"""

from __future__ import annotations

import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from napari_scribbleseg.atomic import replace_folder, write_file
from napari_scribbleseg.errors import InputError
from napari_scribbleseg.labelmaps import check_label_map
from napari_scribbleseg.slicing import slice_spacing, slice_volume  # noqa: F401  (public names of io)

#: File suffixes read and written (a folder holding a DICOM series is read; a path without a suffix is
#: written as one).
VOLUME_SUFFIXES = (".nii", ".nii.gz", ".mha", ".mhd", ".nrrd", ".nhdr", ".dcm")
SUPPORTED = ".nii/.nii.gz, .mha/.mhd, .nrrd, a folder holding a DICOM series, or a single .dcm file"

# DICOM tags worth carrying from a read series to labels written beside it (so viewers and PACS
# attach the labels to the same patient, study and frame of reference).
_DICOM_TAGS = {
    "0008|0060": "modality",
    "0010|0020": "patient_id",
    "0010|0010": "patient_name",
    "0020|000d": "study_instance_uid",
    "0020|0052": "frame_of_reference_uid",
    "0008|103e": "series_description",
}


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


def is_volume_path(path: str | Path) -> bool:
    """True for a file with a volume suffix (see :data:`VOLUME_SUFFIXES`) or a folder holding DICOM files."""
    path = Path(path)
    if path.is_dir():
        return bool(_dicom_series(path))
    return _suffix(path) in VOLUME_SUFFIXES


def _holds_dicom(folder: Path, look_at: int = 20) -> bool:
    """Whether any of the first ``look_at`` files in ``folder`` is DICOM (``.dcm`` or the 'DICM' preamble mark)."""
    for count, path in enumerate(p for p in folder.iterdir() if p.is_file()):
        if count >= look_at:
            return False
        if path.suffix.lower() == ".dcm":
            return True
        try:
            with open(path, "rb") as handle:
                if handle.read(132)[128:] == b"DICM":
                    return True
        except OSError:
            continue
    return False


def _dicom_series(folder: Path) -> list[list[str]]:
    """The DICOM series in ``folder`` as lists of file names, largest first (empty when none)."""
    import SimpleITK as sitk

    # GDCM scans every file and warns on stderr when it finds no series: look first
    if not _holds_dicom(folder):
        return []
    reader = sitk.ImageSeriesReader()
    series = [list(reader.GetGDCMSeriesFileNames(str(folder), uid)) for uid in reader.GetGDCMSeriesIDs(str(folder))]
    return sorted((s for s in series if s), key=len, reverse=True)


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


def _read_dicom_folder(folder: Path) -> Volume:
    import SimpleITK as sitk

    series = _dicom_series(folder)
    if not series:
        raise InputError(f"folder {folder} holds no DICOM series; point to a file or folder of {SUPPORTED}")
    _refuse_unreadable_slices(folder, series)
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(series[0])
    reader.MetaDataDictionaryArrayUpdateOn()
    image = reader.Execute()
    _refuse_uneven_slices(folder, reader, len(series[0]))
    meta = {name: reader.GetMetaData(0, tag).strip() for tag, name in _DICOM_TAGS.items() if reader.HasMetaDataKey(0, tag)}
    meta = {name: value for name, value in meta.items() if value}
    meta["n_series_in_folder"] = len(series)
    if len(series) > 1:
        found = "; ".join(f"{_series_name(files)} ({len(files)} slices)" for files in series)
        meta["series_found"] = found
        warnings.warn(
            f"{folder} holds {len(series)} DICOM series: {found}. Read the largest, {_series_name(series[0])}; "
            "to open another, put its files in a folder of their own",
            stacklevel=3,
        )
    return _from_sitk(image, folder, meta)


def _series_name(files: list[str]) -> str:
    """'description' [uid] of the series a file list belongs to, read from its first file's header."""
    import SimpleITK as sitk

    reader = sitk.ImageFileReader()
    reader.SetFileName(files[0])
    reader.ReadImageInformation()
    get = lambda tag: reader.GetMetaData(tag).strip() if reader.HasMetaDataKey(tag) else ""  # noqa: E731
    return f"{get('0008|103e') or 'no description'!r} [{get('0020|000e') or '?'}]"


def _refuse_unreadable_slices(folder: Path, series: list[list[str]]) -> None:
    """GDCM leaves a damaged file out of every series without a word: name it instead."""
    import SimpleITK as sitk

    listed = {Path(f).name for files in series for f in files}
    bad = []
    for path in sorted(p for p in folder.iterdir() if p.is_file() and p.name not in listed):
        with open(path, "rb") as handle:
            looks_dicom = path.suffix.lower() == ".dcm" or handle.read(132)[128:] == b"DICM"
        if not looks_dicom:
            continue
        reader = sitk.ImageFileReader()
        reader.SetFileName(str(path))
        try:
            reader.ReadImageInformation()
            sitk.GetArrayViewFromImage(reader.Execute())
        except RuntimeError:
            bad.append(path.name)
    if bad:
        raise InputError(
            f"{folder}: {', '.join(bad[:5])}{' ...' if len(bad) > 5 else ''} cannot be read (truncated or damaged); "
            "copy the series again, or move the file out of the folder to read the rest"
        )


def _refuse_uneven_slices(folder: Path, reader: Any, n: int, tolerance: float = 0.01) -> None:
    """Refuse a series whose slice positions are not evenly spaced (a missing slice): ITK would stretch it."""
    if n < 3 or not all(reader.HasMetaDataKey(i, "0020|0032") for i in range(n)):
        return
    positions = np.array([[float(v) for v in reader.GetMetaData(i, "0020|0032").split("\\")] for i in range(n)])
    if reader.HasMetaDataKey(0, "0020|0037"):
        cosines = np.array([float(v) for v in reader.GetMetaData(0, "0020|0037").split("\\")])
        normal = np.cross(cosines[:3], cosines[3:])
    else:
        normal = positions[-1] - positions[0]
    depth = np.sort(positions @ (normal / (np.linalg.norm(normal) or 1.0)))
    gaps = np.diff(depth)
    step = float(np.median(gaps))
    if step > 0 and np.max(np.abs(gaps - step)) > max(tolerance * step, 1e-3):
        raise InputError(
            f"{folder}: the slices are not evenly spaced (gaps from {gaps.min():.3g} to {gaps.max():.3g} mm, "
            f"typically {step:.3g} mm): a slice is missing or the series mixes acquisitions; read as one volume "
            "it would be stretched. Restore the missing slice, or resample the series to even spacing first"
        )


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


def _first_line(error: Exception) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[-1] if lines else type(error).__name__


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


def to_sitk(array: np.ndarray, spacing=(1.0, 1.0, 1.0), origin=(0.0, 0.0, 0.0), direction=None):
    """A SimpleITK image of a (Z, Y, X) array with spacing (z, y, x), origin (x, y, z) and 3x3 direction."""
    import SimpleITK as sitk

    image = sitk.GetImageFromArray(array)
    image.SetSpacing(tuple(float(s) for s in reversed(tuple(spacing))))
    image.SetOrigin(tuple(float(o) for o in origin))
    image.SetDirection(tuple(float(d) for d in np.asarray(np.eye(3) if direction is None else direction).ravel()))
    return image


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


# direction cosines further than this from orthonormal are a sheared (or skewed) frame
_SHEAR_TOLERANCE = 1e-4


def _shear(direction) -> float:
    """How far a 3x3 direction matrix is from orthonormal (0 for a rotation or reflection)."""
    d = np.asarray(direction, dtype=np.float64).reshape(3, 3)
    return float(np.abs(d.T @ d - np.eye(3)).max())


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


def _decimal_string(value: float) -> str:
    """A DICOM DS value: as precise as its 16-character limit allows."""
    for digits in range(15, 5, -1):
        text = f"{float(value):.{digits}g}"
        if len(text) <= 16:
            return text
    return f"{float(value):.6g}"


def _write_dicom_folder(folder: Path, array, spacing, origin, direction, meta: dict, overwrite: bool) -> Path:
    """:func:`_write_dicom_series` into ``folder``, new or empty, or replaced whole when ``overwrite``."""
    if array.size and int(array.max()) > 65535:
        raise InputError(
            f"labels go up to {int(array.max())}; a DICOM series holds at most 65535 label values: save as "
            ".nii.gz, .mha or .nrrd, or renumber the objects"
        )
    if _shear(direction) > _SHEAR_TOLERANCE:
        raise InputError(
            f"the image's axes are sheared (direction cosines {_shear(direction):.3g} from orthonormal); a DICOM "
            "series cannot store that frame: save the labels as .nii.gz, .mha or .nrrd, which keep it"
        )
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{folder} is a file; a DICOM series is written as a folder: pick a folder name")
    if folder.exists() and any(folder.iterdir()) and not overwrite:
        raise InputError(
            f"the folder {folder} is not empty; a series written into it would mix with the files there. "
            "Pick a new folder, or pass overwrite=True to replace its contents"
        )
    return replace_folder(folder, lambda staging: _write_dicom_series(staging, array, spacing, origin, direction, meta))


def _write_dicom_series(folder: Path, array, spacing, origin, direction, meta: dict) -> Path:
    """One secondary-capture-like DICOM file per slice, geometry in the position/orientation tags."""
    import SimpleITK as sitk

    folder.mkdir(parents=True, exist_ok=True)
    image = to_sitk(array.astype(np.uint16), spacing, origin, direction)
    d = np.asarray(direction, dtype=np.float64).reshape(3, 3)
    orientation = "\\".join(_decimal_string(v) for v in (*d[:, 0], *d[:, 1]))
    series_uid = f"2.25.{uuid.uuid4().int}"
    tags = {
        "0008|0008": "DERIVED\\SECONDARY",
        "0008|0060": "OT",
        "0008|103e": "scribbleseg labels",
        "0020|000e": series_uid,
        "0020|0037": orientation,
        "0018|0050": _decimal_string(spacing[0]),
    }
    names = {v: k for k, v in _DICOM_TAGS.items()}
    for key in ("patient_id", "patient_name", "study_instance_uid", "frame_of_reference_uid"):
        if key in meta:
            tags[names[key]] = meta[key]
    writer = sitk.ImageFileWriter()
    writer.KeepOriginalImageUIDOn()
    for z in range(image.GetDepth()):
        slice_image = image[:, :, z]
        for tag, value in tags.items():
            slice_image.SetMetaData(tag, value)
        position = image.TransformIndexToPhysicalPoint((0, 0, z))
        slice_image.SetMetaData("0020|0032", "\\".join(_decimal_string(v) for v in position))
        slice_image.SetMetaData("0020|0013", str(z + 1))
        slice_image.SetMetaData("0008|0018", f"{series_uid}.{z + 1}")
        writer.SetFileName(str(folder / f"labels_{z:04d}.dcm"))
        writer.Execute(slice_image)
    return folder


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


