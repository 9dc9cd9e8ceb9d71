"""Labelled medical volumes sliced into 2-D samples, and the BraTS, Decathlon, CHAOS and CT-slice layouts.

A labelled volume gives one sample per (axis, slice, class) where the class covers at least
``min_pixels`` pixels of the slice, or, with ``multi_region=True``, one sample per slice holding all
selected classes as regions 1..K. Slices of a (Z, Y, X) volume along axis 0 are (Y, X), along 1
(Z, X), along 2 (Z, Y); each sample keeps its pixel spacing in mm.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from napari_scribbleseg import imaging
from napari_scribbleseg.datasets.base import Dataset, Sample, check_pair, read_image, read_mask
from napari_scribbleseg.errors import InputError
from napari_scribbleseg.io import Volume, read_grid, read_volume, resample_like, slice_spacing, slice_volume

#: BraTS label groups (labels: 1 necrosis, 2 oedema, 3 non-enhancing, 4 enhancing tumour).
BRATS_CLASSES: dict[str, tuple[int, ...]] = {
    "whole_tumour": (1, 2, 3, 4),
    "tumour_core": (1, 3, 4),
    "enhancing": (4,),
    "oedema": (2,),
    "necrosis": (1,),
}
BRATS_MODALITIES = ("flair", "t1c", "t1", "t2")

def resolve_classes(
    classes: Any, present: Sequence[int] = (), names: Mapping[str, Sequence[int]] | None = None
) -> list[tuple[str, tuple[int, ...]]]:
    """Normalise a class selection to ``[(name, label values), ...]``.

    ``classes`` may be None (every label value in ``present``), an int, a name in ``names`` (e.g.
    ``"whole_tumour"``), a list of ints and/or names, or a dict ``name -> value(s)``.
    """
    names = dict(names or {})
    if classes is None:
        return [(str(v), (int(v),)) for v in present if v != 0]
    if isinstance(classes, Mapping):
        out = []
        for name, values in classes.items():
            values = (values,) if np.isscalar(values) else tuple(values)
            out.append((str(name), tuple(int(v) for v in values)))
        return out
    if isinstance(classes, (str, int, np.integer)):
        classes = [classes]
    out = []
    for entry in classes:
        if isinstance(entry, str):
            key = entry.lower().replace(" ", "_").replace("-", "_")
            key = {"whole_tumor": "whole_tumour", "tumor_core": "tumour_core", "edema": "oedema"}.get(key, key)
            if key not in names:
                raise InputError(f"unknown class {entry!r}; use a label value or one of {sorted(names)}")
            out.append((key, tuple(int(v) for v in names[key])))
        else:
            out.append((str(int(entry)), (int(entry),)))
    return out


def _kind_of(volume: Volume, kind: str | None) -> str:
    if kind:
        return kind
    modality = str(volume.meta.get("modality", "")).upper()
    if modality == "CT":
        return "ct"
    if modality in ("MR", "MRI") or modality.startswith(("T1", "T2", "FLAIR")):
        return "mr"
    return "ct" if float(volume.array.min()) < -500 else "mr"


def _as_volume(source: Any, what: str) -> Volume:
    if isinstance(source, Volume):
        return source
    if isinstance(source, (str, Path)):
        return read_volume(source)
    array = np.asarray(source)
    if array.ndim != 3:
        raise InputError(f"the {what} is {array.ndim}-D with shape {array.shape}; pass a (Z, Y, X) volume")
    return Volume(array)


class VolumeSlices(Dataset):
    """2-D samples from labelled volumes ("cases"), read one case at a time.

    Parameters
    ----------
    cases : list of dict
        Each with ``name``, ``image`` and ``label`` (a path, a :class:`~napari_scribbleseg.io.Volume` or
        a (Z, Y, X) array) and optional ``kind`` (``"ct"``/``"mr"``), ``spacing`` (z, y, x) mm and
        ``channel`` (for 4-D images).
    axis : int or sequence of int
        Slicing axis/axes of the (Z, Y, X) volume: 0 axial, 1 coronal, 2 sagittal.
    classes : see :func:`resolve_classes`; default every non-zero label value.
    min_pixels : int
        A class (or, for multi-region samples, the union of classes) must cover this many pixels.
    multi_region : bool
        One sample per slice with regions 1..K (in ``classes`` order) instead of one per class.
    class_names : dict, optional
        Names usable in ``classes`` (e.g. :data:`BRATS_CLASSES`).
    """

    layout = "volume"

    def __init__(
        self,
        cases: list[dict],
        name: str = "volume",
        axis: int | Sequence[int] = 0,
        classes: Any = None,
        min_pixels: int = 1,
        multi_region: bool = False,
        class_names: Mapping[str, Sequence[int]] | None = None,
        layout: str | None = None,
    ) -> None:
        super().__init__(name)
        if layout:
            self.layout = layout
        self.cases = cases
        self.axes = [axis] if isinstance(axis, (int, np.integer)) else list(axis)
        for a in self.axes:
            if a not in (0, 1, 2):
                raise InputError(f"axis {a} is not a volume axis; use 0 (Z, axial), 1 (Y, coronal) or 2 (X, sagittal)")
        self.classes = classes
        self.min_pixels = int(min_pixels)
        self.multi_region = multi_region
        self.class_names = dict(class_names or {})
        self._cache_case: tuple[int, Volume, np.ndarray, str, list] | None = None

    def _labels_on_grid(self, case: dict, image: Volume | None = None) -> np.ndarray:
        """The case's (Z, Y, X) label array on the image's voxel grid (resampled when the files disagree)."""
        labels = _as_volume(case["label"], "label volume")
        array = labels.array
        if array.ndim == 4 and array.shape[3] == 1:
            array = array[..., 0]
        if labels.path is not None and isinstance(case["image"], (str, Path)) and array.ndim == 3:
            grid = image if image is not None else read_grid(case["image"])
            image_shape = grid.shape
            if sorted(array.shape) == sorted(image_shape):
                # label files can store the image's grid in another orientation (rows flipped, axes
                # swapped); other sizes are a mismatch to report, not to hide by resampling
                array = resample_like(Volume(array, labels.spacing, labels.origin, labels.direction), grid)
        else:
            image_shape = image.shape if image is not None else _as_volume(case["image"], "image").shape
        if array.shape != image_shape:
            raise InputError(
                f"labels shape {array.shape} does not match image shape {image_shape} in case "
                f"{case['name']!r} ({labels.path or 'array'} vs {case['image'] if isinstance(case['image'], (str, Path)) else 'array'}); "
                "give labels of the image's (Z, Y, X) shape"
            )
        if not (np.issubdtype(array.dtype, np.integer) or array.dtype == bool):
            if not np.all(array == np.round(array)):
                raise InputError(f"labels of case {case['name']!r} are not integers ({array.dtype}); pass a label map")
            array = array.astype(np.int32)
        return array

    def _case(self, index: int) -> tuple[Volume, np.ndarray, str, list]:
        """(image volume, label array on the image grid, kind, selected classes) of case ``index``.

        The last case is cached: samples are ordered by case, so iterating reads each volume once.
        """
        if self._cache_case is not None and self._cache_case[0] == index:
            return self._cache_case[1:]
        case = self.cases[index]
        image = _as_volume(case["image"], "image")
        if case.get("spacing") is not None:
            image = replace(image, spacing=tuple(float(s) for s in case["spacing"]))
        labels = self._labels_on_grid(case, image)
        if image.array.ndim == 4:
            channel = int(case.get("channel", 0))
            if not 0 <= channel < image.array.shape[3]:
                raise InputError(f"channel {channel} is outside the {image.array.shape[3]} channels of case {case['name']!r}")
            image = Volume(image.array[..., channel], image.spacing, image.origin, image.direction, image.path, image.meta)
        kind = _kind_of(image, case.get("kind"))
        self._cache_case = (index, image, labels, kind, self._selected(labels))
        return self._cache_case[1:]

    def _selected(self, labels: np.ndarray) -> list[tuple[str, tuple[int, ...]]]:
        present = [int(v) for v in np.unique(labels)] if self.classes is None else []
        return resolve_classes(self.classes, present, self.class_names)

    def _index(self) -> list:
        items = []
        for case_index in range(len(self.cases)):
            case = self.cases[case_index]
            if isinstance(case["image"], (str, Path)) and Path(case["image"]).is_dir():
                labels = self._case(case_index)[1]  # a DICOM series has no cheap header: read it once, cached
            else:
                labels = self._labels_on_grid(case)
            selected = self._selected(labels)
            masks = [np.isin(labels, values) for _, values in selected]
            for axis in self.axes:
                other = tuple(a for a in range(3) if a != axis)
                if self.multi_region:
                    union = np.logical_or.reduce(masks) if masks else np.zeros(labels.shape, bool)
                    counts = union.sum(axis=other)
                    items += [(case_index, axis, int(s), None) for s in np.flatnonzero(counts >= max(self.min_pixels, 1))]
                else:
                    for class_index, mask in enumerate(masks):
                        counts = mask.sum(axis=other)
                        items += [(case_index, axis, int(s), class_index) for s in np.flatnonzero(counts >= max(self.min_pixels, 1))]
        return sorted(items, key=lambda item: (item[0], item[1], item[2], -1 if item[3] is None else item[3]))

    def _load(self, item) -> Sample:
        case_index, axis, index, class_index = item
        image, labels, kind, selected = self._case(case_index)
        label_slice = np.asarray(slice_volume(labels, axis, index))
        case = self.cases[case_index]
        meta = {"case": case["name"], "axis": axis, "index": index, "path": str(image.path) if image.path else None}
        if class_index is None:
            gt = np.zeros(label_slice.shape, np.int32)
            for region, (_, values) in enumerate(selected, start=1):
                gt[np.isin(label_slice, values)] = region
            meta["classes"] = [name for name, _ in selected]
            name = f"{case['name']}_ax{axis}_{index:04d}"
        else:
            class_name, values = selected[class_index]
            gt = np.isin(label_slice, values).astype(np.int32)
            meta["class"] = class_name
            meta["class_values"] = list(values)
            name = f"{case['name']}_ax{axis}_{index:04d}_{class_name}"
        return Sample(
            name=name,
            image=np.ascontiguousarray(slice_volume(image.array, axis, index)),
            gt=np.ascontiguousarray(gt),
            ignore=None,
            kind=kind,
            spacing=slice_spacing(image.spacing, axis),
            meta=meta,
        )


def _limit_cases(cases: list[dict], limit: int | Sequence[str] | None) -> list[dict]:
    if limit is None:
        return cases
    if isinstance(limit, (int, np.integer)):
        return cases[: int(limit)]
    wanted = set(limit)
    return [case for case in cases if case["name"] in wanted]


def _find_modality(files: list[Path], modality: str) -> Path | None:
    """The BraTS file of a modality: 'flair', 't1c' (also t1ce), 't1' (not t1c/t1ce), 't2'."""
    patterns = {
        "flair": r"flair",
        "t1c": r"t1c|t1ce|t1gd",
        "t1": r"t1(?!c|gd)",
        "t2": r"t2(?!spir)",
    }
    pattern = patterns.get(modality.lower())
    if pattern is None:
        raise InputError(f"unknown BraTS modality {modality!r}; use one of {list(BRATS_MODALITIES)}")
    for path in files:
        if re.search(pattern, path.name.lower()) and "seg" not in path.name.lower():
            return path
    return None


def brats_cases(root: str | Path, modality: str = "flair", missing_ok: bool = False) -> list[dict[str, Any]]:
    """The cases of a BraTS folder: ``{"name", "image", "label", "kind"}`` per case folder holding a modality
    NIfTI and the labels (``OTMultiClass`` or ``*seg*``), for evaluation (:func:`brats_dataset`) and
    training alike. A case without ``modality`` raises, unless ``missing_ok`` skips it."""
    root = Path(root)
    found = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        files = sorted(f for f in folder.iterdir() if f.name.lower().endswith((".nii", ".nii.gz", ".mha")))
        label = next((f for f in files if "otmulticlass" in f.name.lower() or re.search(r"seg\b|_seg", f.name.lower())), None)
        if label is None:
            continue
        image = _find_modality(files, modality)
        if image is None:
            if missing_ok:
                continue
            raise InputError(f"case {folder} has no {modality} image; pick a modality it has from {list(BRATS_MODALITIES)}")
        found.append({"name": folder.name, "image": image, "label": label, "kind": "mr"})
    if not found and not missing_ok:
        raise InputError(f"{root} holds no BraTS case folders (each with a modality NIfTI and OTMultiClass/*seg*)")
    return found


def brats_dataset(
    root: str | Path,
    modality: str = "flair",
    classes: Any = "whole_tumour",
    axis: int | Sequence[int] = 0,
    cases: int | Sequence[str] | None = None,
    min_pixels: int = 1,
    multi_region: bool = False,
) -> VolumeSlices:
    """BraTS: case folders holding one NIfTI per modality and the labels (``OTMultiClass`` or ``*seg*``).

    ``classes`` takes names from :data:`BRATS_CLASSES` (whole tumour = labels > 0, oedema = 2, ...)
    or label values.
    """
    root = Path(root)
    found = brats_cases(root, modality)
    return VolumeSlices(_limit_cases(found, cases), root.name, axis, classes, min_pixels, multi_region, BRATS_CLASSES, "brats")


def msd_cases(root: str | Path, channel: int = 0) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A Decathlon task folder's ``dataset.json`` and its ``training`` cases (``{"name", "image", "label",
    "kind", "channel"}``; the json's ``modality`` of ``channel`` sets the kind: CT -> "ct", else "mr"), for
    evaluation (:func:`msd_dataset`) and training alike."""
    root = Path(root)
    try:
        description = json.loads((root / "dataset.json").read_text())
    except (OSError, ValueError) as error:
        raise InputError(f"could not read {root / 'dataset.json'} ({error}); a Decathlon task folder needs it") from error
    modalities = description.get("modality", {"0": ""})
    modality = str(modalities.get(str(channel), "")).upper()
    kind = "ct" if modality == "CT" else "mr" if modality else None
    found = []
    for entry in description.get("training", []):
        image, label = root / entry["image"], root / entry["label"]
        found.append({"name": Path(entry["image"]).name.split(".")[0], "image": image, "label": label, "kind": kind, "channel": channel})
    if not found:
        raise InputError(f"{root / 'dataset.json'} lists no 'training' cases with labels")
    return description, found


def msd_dataset(
    root: str | Path,
    classes: Any = None,
    axis: int | Sequence[int] = 0,
    cases: int | Sequence[str] | None = None,
    channel: int = 0,
    min_pixels: int = 1,
    multi_region: bool = False,
) -> VolumeSlices:
    """Medical Segmentation Decathlon: ``dataset.json`` with ``training`` pairs under ``imagesTr/``/``labelsTr/``.

    Class names come from the json's ``labels``; ``channel`` picks the modality of 4-D images
    (its ``modality`` entry sets the kind: CT -> ``"ct"``, else ``"mr"``).
    """
    root = Path(root)
    description, found = msd_cases(root, channel)
    labels = {str(name).lower().replace(" ", "_"): (int(value),) for value, name in description.get("labels", {}).items() if int(value) != 0}
    return VolumeSlices(_limit_cases(found, cases), description.get("name", root.name), axis, classes, min_pixels, multi_region, labels, "msd")


# CHAOS MR ground truth encodes organs as grey-value ranges (CHAOS data description)
CHAOS_MR_RANGES = {"liver": (55, 70), "right_kidney": (110, 135), "left_kidney": (175, 200), "spleen": (240, 255)}


def chaos_organs(mask: np.ndarray, modality: str) -> list[tuple[str, np.ndarray]]:
    """(organ, (H, W) bool) of a CHAOS ground-truth PNG: CT liver >= 128; MR grey ranges of :data:`CHAOS_MR_RANGES`.

    The one reading of CHAOS labels, for evaluation (:class:`ChaosDataset`) and training alike.
    """
    if modality.upper() == "CT":
        return [("liver", mask >= 128)]
    return [(organ, (mask >= low) & (mask <= high)) for organ, (low, high) in CHAOS_MR_RANGES.items()]


def _natural_key(path: Path) -> list:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", path.name.lower())]


def chaos_series(root: str | Path, modalities: Sequence[str] = ("CT", "MR")) -> list[tuple[str, str, list[Path], list[Path]]]:
    """(name, modality, DICOM slice files, mask files) per CHAOS series, slice i paired with mask i (MR masks
    by their slice's file stem, CT masks in natural file-name order): the one pairing, for evaluation
    (:class:`ChaosDataset`) and training alike."""
    root = Path(root)
    base = next((p for p in (root, root / "Train_Sets", root / "CHAOS_Train_Sets" / "Train_Sets") if (p / "CT").is_dir() or (p / "MR").is_dir()), root)
    series = []
    for modality in [m.upper() for m in modalities]:
        for patient in sorted((base / modality).glob("*"), key=_natural_key) if (base / modality).is_dir() else []:
            candidates = [patient] if modality == "CT" else [patient / "T2SPIR", patient / "T1DUAL"]
            for folder in candidates:
                dicom = folder / "DICOM_anon"
                if (dicom / "InPhase").is_dir():
                    dicom = dicom / "InPhase"
                ground = folder / "Ground"
                if not (dicom.is_dir() and ground.is_dir()):
                    continue
                slices = sorted((p for p in dicom.iterdir() if p.suffix.lower() == ".dcm"), key=_natural_key)
                masks = sorted((p for p in ground.iterdir() if p.suffix.lower() == ".png"), key=_natural_key)
                by_stem = {m.stem: m for m in masks}
                if len(by_stem) == len(slices) and all(p.stem in by_stem for p in slices):
                    masks = [by_stem[p.stem] for p in slices]  # MR masks are named after their slice
                if len(slices) != len(masks):
                    raise InputError(
                        f"{dicom} has {len(slices)} DICOM slices but {ground} has {len(masks)} masks; "
                        "CHAOS pairs them one to one in file-name order"
                    )
                name = f"{modality}_{patient.name}" + ("" if modality == "CT" else f"_{folder.name}")
                series.append((name, modality, slices, masks))
    return series


class ChaosDataset(Dataset):
    """CHAOS: per patient DICOM slices + ``Ground/*.png`` masks.

    CT masks (``liver_GT_000.png``) pair with the slices (``i0000,0000b.dcm``) by file-name index,
    not by slice position (which can run against the numbering); MR masks carry
    their slice's name. Each slice is read on its own, so the series order never matters.

    CT (``CT/<patient>/DICOM_anon`` + ``Ground``): liver (PNG 255). MR (``MR/<patient>/T2SPIR`` and
    ``T1DUAL`` with ``DICOM_anon/InPhase``): liver, right kidney, left kidney, spleen, encoded as the
    grey ranges of :data:`CHAOS_MR_RANGES`. One sample per (slice, organ) with foreground, or one
    multi-region sample per slice.
    """

    layout = "chaos"

    def __init__(self, root: str | Path, modalities: Sequence[str] = ("CT", "MR"), min_pixels: int = 1, multi_region: bool = False):
        self.root = Path(root)
        super().__init__(self.root.name)
        self.modalities = [m.upper() for m in modalities]
        self.min_pixels = int(min_pixels)
        self.multi_region = multi_region
        self.series = self._series()
        if not self.series:
            raise InputError(f"{root} holds no CHAOS series (CT/<patient>/DICOM_anon + Ground, MR/<patient>/T2SPIR/...)")

    def _series(self) -> list[tuple[str, str, list[Path], list[Path]]]:
        return chaos_series(self.root, self.modalities)

    def _organs(self, mask: np.ndarray, modality: str) -> list[tuple[str, np.ndarray]]:
        return chaos_organs(mask, modality)

    def _index(self) -> list:
        items = []
        for series_index, (_, modality, _, masks) in enumerate(self.series):
            for slice_index, path in enumerate(masks):
                organs = self._organs(read_mask(path), modality)
                if self.multi_region:
                    if sum(int(m.sum()) for _, m in organs) >= max(self.min_pixels, 1):
                        items.append((series_index, slice_index, None))
                else:
                    items += [(series_index, slice_index, k) for k, (_, m) in enumerate(organs) if m.sum() >= max(self.min_pixels, 1)]
        return items

    def _load(self, item) -> Sample:
        series_index, slice_index, organ_index = item
        name, modality, slices, masks = self.series[series_index]
        volume = read_volume(slices[slice_index])
        image = volume.array[0]
        mask = read_mask(masks[slice_index])
        check_pair(image, mask, str(masks[slice_index]))
        organs = self._organs(mask, modality)
        meta = {"series": name, "index": slice_index, "path": str(slices[slice_index]), "mask_path": str(masks[slice_index])}
        if organ_index is None:
            gt = np.zeros(mask.shape, np.int32)
            for region, (_, organ) in enumerate(organs, start=1):
                gt[organ] = region
            meta["classes"] = [organ for organ, _ in organs]
            sample_name = f"{name}_{slice_index:03d}"
        else:
            organ, organ_mask = organs[organ_index]
            gt = organ_mask.astype(np.int32)
            meta["class"] = organ
            sample_name = f"{name}_{slice_index:03d}_{organ}"
        return Sample(sample_name, image, gt, None, "ct" if modality == "CT" else "mr", tuple(volume.spacing[1:]), meta)


class CtSlices2D(Dataset):
    """``ct_slices_2d``: windowed CT slices (``images/*.png``) with one binary PNG per organ, listed in
    ``image2label_train.json`` (image -> masks) and ``label2image_test.json`` (mask -> image).

    ``multi_region=True`` (default) gives one sample per image with organs 1..K (names in
    ``meta["classes"]``); ``False`` one binary sample per organ mask.
    """

    layout = "ct_slices_2d"

    def __init__(self, root: str | Path, split: str = "all", multi_region: bool = True, min_pixels: int = 1):
        self.root = Path(root)
        super().__init__(self.root.name)
        if split not in ("train", "test", "all"):
            raise InputError(f"unknown split {split!r}; use 'train', 'test' or 'all'")
        self.split = split
        self.multi_region = multi_region
        self.min_pixels = int(min_pixels)

    def _resolve(self, listed: str) -> Path:
        # the json lists paths like data_demo/images/x.png; the files sit under images/ and masks/ here
        listed_path = Path(listed)
        for candidate in (self.root / listed_path, self.root / Path(*listed_path.parts[1:]), self.root / listed_path.parent.name / listed_path.name):
            if candidate.is_file():
                return candidate
        raise InputError(f"{listed} (listed in {self.root}'s json) is not under {self.root}; check the dataset folder")

    def _mapping(self) -> dict[Path, list[Path]]:
        mapping: dict[Path, list[Path]] = {}
        if self.split in ("train", "all") and (self.root / "image2label_train.json").is_file():
            for image, masks in json.loads((self.root / "image2label_train.json").read_text()).items():
                mapping.setdefault(self._resolve(image), []).extend(self._resolve(m) for m in masks)
        if self.split in ("test", "all") and (self.root / "label2image_test.json").is_file():
            for mask, image in json.loads((self.root / "label2image_test.json").read_text()).items():
                mapping.setdefault(self._resolve(image), []).append(self._resolve(mask))
        if not mapping:
            raise InputError(f"{self.root} has no image2label_train.json / label2image_test.json for split {self.split!r}")
        return {image: sorted(set(masks)) for image, masks in sorted(mapping.items())}

    def _index(self) -> list:
        mapping = self._mapping()
        if self.multi_region:
            return [(image, masks) for image, masks in mapping.items()]
        return [(image, [mask]) for image, masks in mapping.items() for mask in masks]

    def _organ(self, image: Path, mask: Path) -> str:
        """``s0619_32_hip_right_000.png`` -> ``hip_right``; a second instance ``..._001`` -> ``hip_right_1``."""
        organ = mask.stem[len(image.stem) + 1 :] if mask.stem.startswith(image.stem + "_") else mask.stem
        match = re.fullmatch(r"(.*)_(\d{3})", organ)
        if match is None:
            return organ
        return match.group(1) if int(match.group(2)) == 0 else f"{match.group(1)}_{int(match.group(2))}"

    def _load(self, item) -> Sample:
        image_path, mask_paths = item
        image = read_image(image_path)
        gt = np.zeros(image.shape[:2], np.int32)
        overlap = 0
        for region, mask_path in enumerate(mask_paths, start=1):
            mask = read_mask(mask_path)
            check_pair(image, mask, str(mask_path))
            organ = mask >= 128 if mask.max() > 1 else mask > 0
            overlap += int(np.count_nonzero(organ & (gt > 0)))
            gt[organ] = region
        classes = [self._organ(image_path, m) for m in mask_paths]
        meta = {"path": str(image_path), "mask_paths": [str(m) for m in mask_paths], "classes": classes, "modality": "CT", "overlap_pixels": overlap}
        name = image_path.stem if self.multi_region else f"{image_path.stem}_{classes[0]}"
        # the PNGs are already windowed 8-bit CT: their intensities convert as grey, not as HU
        return Sample(name, image, gt, None, imaging.guess_kind(image) if image.ndim == 2 else "rgb", None, meta)
