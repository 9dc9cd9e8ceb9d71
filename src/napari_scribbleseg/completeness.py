"""Refuse a volume file that ends before its header says it should: a cut download or copy.

ITK reads a truncated NIfTI as if the missing voxels were 0, and reports a truncated MetaImage as "No
such file or directory". Both are checked here against their own headers before any voxel is read,
so a bad file is refused with its reason, never half-read.
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import numpy as np

from napari_scribbleseg.errors import InputError

_CHUNK = 1 << 22

#: Bytes per voxel of MetaImage element types.
_MET_BYTES = {
    "MET_CHAR": 1, "MET_UCHAR": 1, "MET_SHORT": 2, "MET_USHORT": 2, "MET_INT": 4, "MET_UINT": 4,
    "MET_LONG": 4, "MET_ULONG": 4, "MET_LONG_LONG": 8, "MET_ULONG_LONG": 8, "MET_FLOAT": 4, "MET_DOUBLE": 8,
}


def check_complete(path: Path) -> None:
    """Raise :class:`InputError` if the NIfTI or MetaImage file ``path`` is shorter than its header says."""
    name = path.name.lower()
    if name.endswith((".nii", ".nii.gz")):
        _check_nifti(path)
    elif name.endswith((".mha", ".mhd")):
        _check_metaimage(path)


def _truncated(path: Path, have: int, want: int) -> InputError:
    return InputError(
        f"{path} ends after {have} of {want} bytes; the download or copy is incomplete: fetch or copy it again"
    )


def _check_nifti(path: Path) -> None:
    import nibabel as nib

    try:
        header = nib.load(str(path)).header
    except Exception:  # noqa: BLE001 - no readable header: the reader itself names the problem
        return
    shape = header.get_data_shape()
    want = int(header["vox_offset"]) + int(np.prod(shape, dtype=np.int64)) * int(header["bitpix"]) // 8
    have = _gzip_length(path) if path.name.lower().endswith(".gz") else path.stat().st_size
    if have < want:
        raise _truncated(path, have, want)


def _gzip_length(path: Path) -> int:
    """Decompressed length of a gzip file; a stream cut short counts what it holds."""
    total = 0
    with gzip.open(path, "rb") as stream:
        try:
            while chunk := stream.read(_CHUNK):
                total += len(chunk)
        except (EOFError, OSError, gzip.BadGzipFile):
            pass  # cut inside the compressed data: what was read is all there is
    return total


def _check_metaimage(path: Path) -> None:
    with open(path, "rb") as f:
        raw = f.read(65536)  # the header is text at the start; in a .mha the voxels follow it
    match = re.search(rb"ElementDataFile\s*=\s*([^\r\n]*)", raw)
    if match is None:
        raise InputError(
            f"{path} ends before its MetaImage header does (no ElementDataFile line): the file is truncated "
            "or not a MetaImage; copy it again"
        )
    header = raw[: match.end()].decode("latin-1")
    fields = dict(re.findall(r"^\s*(\w+)\s*=\s*(.*?)\s*$", header, flags=re.M))
    try:
        dims = [int(v) for v in fields["DimSize"].split()]
        size = _MET_BYTES[fields["ElementType"]] * int(fields.get("ElementNumberOfChannels", "1"))
    except (KeyError, ValueError) as error:
        raise InputError(f"{path} has a MetaImage header without a usable DimSize / ElementType ({error})") from error
    compressed = fields.get("CompressedData", "False").lower() == "true"
    if compressed and "CompressedDataSize" not in fields:
        return  # no size to check against; ITK will find the stream's end
    want = int(fields["CompressedDataSize"]) if compressed else int(np.prod(dims, dtype=np.int64)) * size
    source = match.group(1).decode("latin-1").strip()
    if source == "LOCAL":
        start = match.end() + (2 if raw[match.end(): match.end() + 2] == b"\r\n" else 1)
        have = max(0, path.stat().st_size - start)
    else:
        data = path.parent / source
        if not data.exists():
            raise InputError(f"{path} names the data file {source!r}, which is not beside it; copy both files")
        have = data.stat().st_size
    if have < want:
        raise _truncated(path if source == "LOCAL" else path.parent / source, have, want)
