"""Readers of benchmark and medical layouts -> (image, ground truth, ignore) samples.

``load_dataset(source)`` returns a lazy sequence of :class:`Sample` for a folder in a known layout
(GrabCut, Berkeley, DAVIS, COCO MVal, SBD/PASCAL, plain folders, BraTS, Decathlon, CHAOS, CT slices),
a labelled volume sliced along any axis, or arrays.
"""

from napari_scribbleseg.datasets.base import Dataset, Sample, SampleList, read_image, read_mask
from napari_scribbleseg.datasets.load import LAYOUTS, detect_layout, load_dataset
from napari_scribbleseg.datasets.medical import BRATS_CLASSES, CHAOS_MR_RANGES, VolumeSlices

__all__ = [
    "BRATS_CLASSES",
    "CHAOS_MR_RANGES",
    "LAYOUTS",
    "Dataset",
    "Sample",
    "SampleList",
    "VolumeSlices",
    "detect_layout",
    "load_dataset",
    "read_image",
    "read_mask",
]
