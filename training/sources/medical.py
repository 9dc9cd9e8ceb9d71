"""Medical layouts as lists of :class:`VolumeCase`: BraTS, Medical Segmentation Decathlon, CHAOS, NIfTI pairs."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from napari_scribbleseg.errors import InputError
from training.sources.volumes import VolumeCase, VolumeSliceSource, read_volume

def _pair_loader(image: str, label: str):
    def load():
        volume, spacing = read_volume(image)
        labels, _ = read_volume(label)
        return volume, np.rint(labels).astype(np.int32), spacing

    return load


def brats_cases(
    root: str | Path, modalities: tuple[str, ...] = ("flair", "t1c"), exclude: list[str] | None = None
) -> list[VolumeCase]:
    """One case per (patient folder, modality) of a BraTS folder, found by the evaluation's rules
    (:func:`napari_scribbleseg.datasets.medical.brats_cases`); tumour classes as labels. ``exclude``:
    patterns of folder names to leave out (the held-out case)."""
    from napari_scribbleseg.datasets.medical import brats_cases as find

    cases = []
    for modality in modalities:
        for case in find(root, modality, missing_ok=True):
            if exclude and any(re.search(e, case["name"]) for e in exclude):
                continue
            cases.append(VolumeCase(f"{case['name']}/{modality}", "mr", _pair_loader(str(case["image"]), str(case["label"]))))
    return sorted(cases, key=lambda c: c.name)


def decathlon_cases(root: str | Path) -> list[VolumeCase]:
    """The ``training`` pairs of a Decathlon task folder's ``dataset.json``, read by the evaluation's rules
    (:func:`napari_scribbleseg.datasets.medical.msd_cases`; modality 0 decides CT or MR)."""
    from napari_scribbleseg.datasets.medical import msd_cases

    _, found = msd_cases(root)
    return [
        VolumeCase(case["name"], case["kind"] or "mr", _pair_loader(str(case["image"]), str(case["label"])))
        for case in found if Path(case["image"]).exists() and Path(case["label"]).exists()
    ]


def _chaos_labels(mask: np.ndarray, modality: str) -> np.ndarray:
    """(H, W) int32 organ ids 1..n of a CHAOS ground-truth PNG, by the evaluation's rule
    (:func:`napari_scribbleseg.datasets.medical.chaos_organs`: CT liver; MR liver, kidneys, spleen by grey range)."""
    from napari_scribbleseg.datasets.medical import chaos_organs

    out = np.zeros(mask.shape, np.int32)
    for k, (_, organ) in enumerate(chaos_organs(mask, modality), start=1):
        out[organ] = k
    return out


def _chaos_loader(slices: list[Path], masks: list[Path], modality: str):
    def load():
        from napari_scribbleseg.datasets.base import read_mask

        import SimpleITK as sitk

        # slice i with mask i, as the evaluation pairs them (datasets.medical.chaos_series)
        image = sitk.ReadImage([str(p) for p in slices])
        volume = sitk.GetArrayFromImage(image).astype(np.float32)
        spacing = tuple(float(s) for s in image.GetSpacing()[::-1])
        labels = np.stack([_chaos_labels(read_mask(p), modality) for p in masks]).astype(np.int32)
        return volume, labels, spacing

    return load


def chaos_cases(root: str | Path) -> list[VolumeCase]:
    """CHAOS ``Train_Sets``: CT (liver -> 1) and MR T2SPIR / T1DUAL in-phase (liver, right and left kidney,
    spleen -> 1..4): the evaluation's series and slice-mask pairing
    (:func:`napari_scribbleseg.datasets.medical.chaos_series`) and its label rule."""
    from napari_scribbleseg.datasets.medical import chaos_series

    return [
        VolumeCase(name, modality.lower(), _chaos_loader(slices, masks, modality))
        for name, modality, slices, masks in chaos_series(root)
    ]


def nifti_pair_cases(pairs: list[dict]) -> list[VolumeCase]:
    """Explicit ``{"image": path, "label": path, "kind": "ct"|"mr"}`` pairs (e.g. TotalSegmentator examples)."""
    cases = []
    for pair in pairs:
        if not Path(pair["image"]).exists() or not Path(pair["label"]).exists():
            raise InputError(f"volume pair {pair} names a file that does not exist; fix the recipe's paths")
        cases.append(VolumeCase(Path(pair["image"]).name.split(".")[0], pair.get("kind", "ct"), _pair_loader(pair["image"], pair["label"])))
    return cases


def volume_source(name: str, cases: list[VolumeCase], **kwargs) -> VolumeSliceSource:
    """Wrap cases as a slice source (``axes``, ``cache``, ``min_foreground_px`` pass through)."""
    if "axes" in kwargs:
        kwargs["axes"] = tuple(kwargs["axes"])
    return VolumeSliceSource(cases, name=name, **kwargs)
