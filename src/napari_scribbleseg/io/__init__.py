"""Medical volumes with their geometry: read NIfTI, MetaImage, NRRD and DICOM; write label maps back.

Everything goes through SimpleITK so that one convention holds from file to saved labels:

- ``array`` is (Z, Y, X) as ``SimpleITK.GetArrayFromImage`` gives it ((Z, Y, X, C) for multi-channel
  files such as a 4-D NIfTI of MR modalities);
- ``spacing`` is (z, y, x) in mm, matching the array axes;
- ``origin`` is the physical position (x, y, z) of voxel (0, 0, 0) in ITK's LPS frame, in mm;
- ``direction`` is ITK's 3x3 direction-cosine matrix (column j is the direction of index axis j,
  index axes ordered x, y, z), so a voxel at index (i, j, k) = (x, y, z) sits at
  ``origin + direction @ (spacing_x * i, spacing_y * j, spacing_z * k)``.

The package's modules: :mod:`.base` (the :class:`Volume` type and SimpleITK conversions), :mod:`.reading`,
:mod:`.writing` and :mod:`.dicom`; every public name imports from ``napari_scribbleseg.io``.
"""

from napari_scribbleseg.io.base import SUPPORTED, VOLUME_SUFFIXES, Volume, to_sitk
from napari_scribbleseg.io.reading import is_volume_path, read_grid, read_grid_from_volume, read_volume, resample_like
from napari_scribbleseg.io.writing import write_labels
from napari_scribbleseg.slicing import slice_spacing, slice_volume

__all__ = [
    "SUPPORTED", "VOLUME_SUFFIXES", "Volume", "is_volume_path", "read_grid", "read_grid_from_volume", "read_volume",
    "resample_like", "slice_spacing", "slice_volume", "to_sitk", "write_labels",
]
