"""``load_dataset``: any supported folder layout, a labelled volume, or arrays -> a lazy sequence of samples."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from napari_scribbleseg import imaging
from napari_scribbleseg.datasets.base import Dataset, Sample, SampleList, check_pair
from napari_scribbleseg.datasets.medical import ChaosDataset, CtSlices2D, VolumeSlices, brats_dataset, msd_dataset
from napari_scribbleseg.datasets.natural import FolderDataset, GrabCutDataset, davis_dataset, sbd_dataset
from napari_scribbleseg.datasets.scribbled import AcdcScribbles
from napari_scribbleseg.errors import InputError
from napari_scribbleseg.io import Volume, is_volume_path


def _folder(layout: str) -> Callable[..., Dataset]:
    def make(root, multi_region: bool = False) -> Dataset:
        return FolderDataset(root, multi_region=multi_region, layout=layout)

    make.__name__ = f"{layout}_dataset"
    return make


def _volume_pair(image, label, axis=0, classes=None, min_pixels: int = 1, multi_region: bool = False, kind=None, spacing=None, name=None) -> VolumeSlices:
    for path in (image, label):
        if isinstance(path, (str, Path)) and not Path(path).exists():
            raise InputError(f"no such file or folder: {path}; give the image and label volumes as existing paths")
    if isinstance(image, (str, Path)):
        name = name or Path(image).name.split(".")[0]
    case = {"name": name or "volume", "image": image, "label": label, "kind": kind, "spacing": spacing}
    return VolumeSlices([case], case["name"], axis, classes, min_pixels, multi_region)


#: layout name -> (reader, what the folder holds)
LAYOUTS: dict[str, tuple[Callable[..., Dataset], str]] = {
    "grabcut": (lambda root, **kw: GrabCutDataset(root, **kw), "images/ + masks/*.bmp (255 object, 128 ignored band)"),
    "berkeley": (_folder("berkeley"), "images/ + masks/ (0/255)"),
    "coco_mval": (_folder("coco_mval"), "images/*.jpg + masks/*.png (0/255)"),
    "folder": (_folder("folder"), "images/ + masks/ matched by file stem"),
    "davis": (davis_dataset, "img/ + gt/, or JPEGImages/480p/<seq>/ + Annotations/480p/<seq>/"),
    "sbd": (sbd_dataset, "img/ + inst/*.mat (SBD), one sample per instance"),
    "pascal": (sbd_dataset, "JPEGImages/ + SegmentationObject/*.png (PASCAL VOC instances, 255 ignored)"),
    "brats": (brats_dataset, "case folders with Flair/T1c/T1/T2 NIfTI + OTMultiClass or *seg*"),
    "msd": (msd_dataset, "dataset.json + imagesTr/ + labelsTr/ (Medical Segmentation Decathlon)"),
    "chaos": (lambda root, **kw: ChaosDataset(root, **kw), "CT/<patient>/DICOM_anon + Ground/*.png, MR/<patient>/T2SPIR|T1DUAL/..."),
    "ct_slices_2d": (lambda root, **kw: CtSlices2D(root, **kw), "images/ + masks/ + image2label_train.json"),
    "acdc_scribbles": (
        lambda root, **kw: AcdcScribbles(root, **kw),
        "patientNNN_frameMM/ with image, label and scribble .nii.gz (ACDC with real scribbles)",
    ),
}
# options of the readers whose signature does not show them (lambdas over classes)
_OPTIONS = {
    "grabcut": (),
    "volume": ("axis", "classes", "min_pixels", "multi_region", "kind", "spacing", "name"),
    "chaos": ("modalities", "min_pixels", "multi_region"),
    "ct_slices_2d": ("split", "multi_region", "min_pixels"),
    "acdc_scribbles": ("patients", "min_scribbled"),
}


def _known_layouts() -> str:
    return "; ".join(f"{name}: {description}" for name, (_, description) in LAYOUTS.items())


def _dirs(root: Path) -> set[str]:
    return {p.name for p in root.iterdir() if p.is_dir()}


def detect_layout(root: str | Path) -> str:
    """The layout name of a dataset folder, guessed from its contents.

    Raises :class:`InputError` listing the known layouts when nothing matches.
    """
    root = Path(root)
    if not root.is_dir():
        raise InputError(f"{root} is not a folder; give a dataset folder in one of the layouts: {_known_layouts()}")
    dirs = _dirs(root)
    lower = {d.lower() for d in dirs}
    if (root / "dataset.json").is_file():
        return "msd"
    if (root / "image2label_train.json").is_file() or (root / "label2image_test.json").is_file():
        return "ct_slices_2d"
    if {"ct", "mr"} & lower or {"train_sets", "chaos_train_sets"} & lower:
        return "chaos"
    if {"img", "inst"} <= dirs:
        return "sbd"
    if {"JPEGImages", "SegmentationObject"} <= dirs:
        return "pascal"
    if {"JPEGImages", "Annotations"} <= dirs or {"img", "gt"} <= dirs:
        return "davis"
    if any(d.startswith("patient") and (root / d / "scribble.nii.gz").is_file() for d in dirs):
        return "acdc_scribbles"
    if {"data_GT", "boundary_GT"} <= dirs:
        return "grabcut"
    if "images" in dirs and "masks" in dirs:
        if any(p.suffix.lower() == ".bmp" for p in (root / "masks").iterdir()):
            return "grabcut"
        name = root.name.lower()
        return "coco_mval" if "coco" in name else "berkeley" if "berkeley" in name else "folder"
    for case in sorted(root.iterdir()):
        if case.is_dir():
            names = [f.name.lower() for f in case.iterdir()]
            if any("otmulticlass" in n or "_seg." in n for n in names) and any(n.endswith((".nii", ".nii.gz")) for n in names):
                return "brats"
    if is_volume_path(root):
        raise InputError(f"{root} holds a DICOM series but no labels; pass (series folder, label file) to slice a labelled volume")
    raise InputError(f"could not tell the layout of {root}; arrange it as one of: {_known_layouts()}; or pass layout=")


def _check_options(layout: str, factory: Callable, options: dict) -> None:
    allowed = _OPTIONS[layout] if layout in _OPTIONS else tuple(inspect.signature(factory).parameters)[1:]
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise InputError(f"layout {layout!r} has no option {unknown[0]!r}; its options are {list(allowed)}")


def _gt_array(gt: Any, where: str) -> np.ndarray:
    array = np.asarray(gt)
    if array.ndim != 2:
        raise InputError(f"ground truth of {where} is {array.ndim}-D with shape {array.shape}; pass an (H, W) mask")
    if array.dtype == bool:
        return array.astype(np.int32)
    if not np.issubdtype(array.dtype, np.integer):
        if not (np.issubdtype(array.dtype, np.floating) and np.all(array == np.round(array))):
            raise InputError(f"ground truth of {where} has dtype {array.dtype} with non-integer values; pass an integer mask")
    if array.size and array.min() < 0:
        raise InputError(f"ground truth of {where} has negative values; use 0 background, 1..K regions")
    values = np.unique(array)
    if set(values.tolist()) <= {0, 255}:
        return (array == 255).astype(np.int32)  # a 0/255 picture of a binary mask
    return array.astype(np.int32)


def _sample_from_arrays(index: int, entry: Any) -> Sample:
    if isinstance(entry, Sample):
        return entry
    if not isinstance(entry, (tuple, list)) or len(entry) not in (2, 3):
        raise InputError(f"item {index} is not (image, gt) or (image, gt, ignore); pass a list of such tuples")
    where = f"item {index}"
    image = imaging.check_image(entry[0], f"image of {where}")
    gt = _gt_array(entry[1], where)
    check_pair(image, gt, where, "ground truth")
    ignore = None
    if len(entry) == 3 and entry[2] is not None:
        ignore = np.asarray(entry[2]).astype(bool)
        check_pair(image, ignore, where, "ignore mask")
    return Sample(f"sample_{index:04d}", image, gt, ignore, imaging.guess_kind(image), None, {})


def _is_volume_like(x: Any) -> bool:
    return isinstance(x, Volume) or (isinstance(x, (str, Path)) and is_volume_path(x))


def _is_pair_of_volumes(source: Any) -> bool:
    if not isinstance(source, tuple) or len(source) != 2:
        return False
    image, labels = source
    if _is_volume_like(image) and _is_volume_like(labels):
        return True
    if isinstance(image, np.ndarray) and isinstance(labels, np.ndarray) and labels.ndim == 3:
        return image.ndim in (3, 4) and image.shape[:3] == labels.shape
    return False


def load_dataset(source: Any, layout: str = "auto", **options: Any) -> Sequence[Sample]:
    """Samples from a dataset folder, a labelled volume or arrays.

    Parameters
    ----------
    source
        - a folder in one of :data:`LAYOUTS` (``layout="auto"`` guesses it from the contents);
        - ``(image, labels)``: a labelled volume as two paths (NIfTI, .mha, .nrrd, DICOM folder),
          two :class:`~napari_scribbleseg.io.Volume` or two (Z, Y, X) arrays, sliced along ``axis``;
        - a list of ``(image, gt)`` or ``(image, gt, ignore)`` 2-D arrays, or of :class:`Sample`.
    layout : str
        ``"auto"`` or a name in :data:`LAYOUTS`.
    **options
        Passed to the layout's reader, e.g. ``multi_region``, ``split``; for volumes ``axis``
        (0, 1, 2 or several), ``classes``, ``min_pixels``, ``multi_region``, ``kind``, ``spacing``;
        for BraTS also ``modality`` and ``cases``.

    Returns
    -------
    Dataset
        A lazy sequence of :class:`Sample` with ``len()``, indexing, slicing and ``.name``.

    Examples
    --------
    >>> ds = load_dataset("../shared/data/natural/grabcut")          # doctest: +SKIP
    >>> ds = load_dataset(("ct.nii.gz", "seg.nii.gz"), axis=2, classes=[5])  # doctest: +SKIP
    >>> ds = load_dataset([(image, mask)])                           # doctest: +SKIP
    """
    if isinstance(source, Dataset):
        return source
    if _is_pair_of_volumes(source) or layout == "volume":
        if not (isinstance(source, tuple) and len(source) == 2):
            raise InputError("a labelled volume is given as (image, labels); pass a tuple of two paths or arrays")
        _check_options("volume", _volume_pair, options)
        return _volume_pair(source[0], source[1], **options)
    if isinstance(source, (str, Path)):
        root = Path(source)
        if not root.exists():
            raise InputError(f"dataset path {root} does not exist; give a folder in one of the layouts: {_known_layouts()}")
        if root.is_file():
            if is_volume_path(root):
                raise InputError(f"{root} is a volume without labels; pass (image path, label path) to slice a labelled volume")
            raise InputError(f"{root} is a file; give a dataset folder in one of the layouts: {_known_layouts()}")
        name = detect_layout(root) if layout == "auto" else layout
        if name not in LAYOUTS:
            raise InputError(f"unknown layout {layout!r}; use 'auto', 'volume' or one of {list(LAYOUTS)}")
        factory = LAYOUTS[name][0]
        _check_options(name, factory, options)
        return factory(root, **options)
    if isinstance(source, (list, tuple)):
        if options:
            raise InputError(f"options {sorted(options)} apply to folders and volumes, not to a list of arrays")
        if not source:
            raise InputError("the list of samples is empty; pass at least one (image, gt) pair")
        if len(source) == 2 and all(isinstance(x, np.ndarray) for x in source) and source[1].ndim == 2:
            source = [tuple(source)]  # one (image, gt) pair given bare
        return SampleList([_sample_from_arrays(i, entry) for i, entry in enumerate(source)])
    raise InputError(
        f"cannot make a dataset of a {type(source).__name__}; pass a folder, (image, labels) volumes, "
        "or a list of (image, gt) arrays"
    )
