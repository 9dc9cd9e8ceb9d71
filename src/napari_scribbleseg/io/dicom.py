"""DICOM series: finding and checking a series in a folder, reading it, writing labels as a series beside it."""

from __future__ import annotations

import uuid
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from napari_scribbleseg.atomic import replace_folder
from napari_scribbleseg.errors import InputError
from napari_scribbleseg.io.base import SUPPORTED, Volume, _SHEAR_TOLERANCE, _from_sitk, _shear, to_sitk


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
