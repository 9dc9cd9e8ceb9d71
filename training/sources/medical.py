"""Medical layouts as lists of :class:`VolumeCase`: BraTS, Medical Segmentation Decathlon, CHAOS, NIfTI pairs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from napari_scribbleseg.errors import InputError
from training.sources.volumes import VolumeCase, VolumeSliceSource, read_volume

# BraTS modality file patterns: 2013/2015 (``Flair_subtrMeanDivStd.nii.gz``) and 2018+ (``<case>_flair.nii.gz``)
BRATS_MODALITIES = {
    "flair": [r"^flair.*\.nii(\.gz)?$", r"_flair\.nii(\.gz)?$"],
    "t1c": [r"^t1c.*\.nii(\.gz)?$", r"_t1ce\.nii(\.gz)?$"],
    "t1": [r"^t1_.*\.nii(\.gz)?$", r"_t1\.nii(\.gz)?$"],
    "t2": [r"^t2.*\.nii(\.gz)?$", r"_t2\.nii(\.gz)?$"],
}
BRATS_LABELS = [r"^otmulticlass.*\.nii(\.gz)?$", r"_seg\.nii(\.gz)?$", r"^seg\.nii(\.gz)?$"]


def _find(folder: Path, patterns: list[str]) -> Path | None:
    for path in sorted(folder.iterdir()):
        if any(re.search(p, path.name, re.IGNORECASE) for p in patterns):
            return path
    return None


def _pair_loader(image: str, label: str):
    def load():
        volume, spacing = read_volume(image)
        labels, _ = read_volume(label)
        return volume, np.rint(labels).astype(np.int32), spacing

    return load


def brats_cases(
    root: str | Path, modalities: tuple[str, ...] = ("flair", "t1c"), exclude: list[str] | None = None
) -> list[VolumeCase]:
    """One case per (patient folder, modality) of a BraTS folder; tumour classes as labels."""
    root = Path(root)
    cases = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        if exclude and any(re.search(e, folder.name) for e in exclude):
            continue
        label = _find(folder, BRATS_LABELS)
        if label is None:
            continue
        for modality in modalities:
            image = _find(folder, BRATS_MODALITIES[modality])
            if image is not None:
                cases.append(VolumeCase(f"{folder.name}/{modality}", "mr", _pair_loader(str(image), str(label))))
    return cases


def decathlon_cases(root: str | Path) -> list[VolumeCase]:
    """The ``training`` pairs of a Decathlon task folder's ``dataset.json`` (modality 0 decides CT or MR)."""
    root = Path(root)
    meta_path = root / "dataset.json"
    if not meta_path.exists():
        raise InputError(f"{root} has no dataset.json; point at a Decathlon task folder such as Task09_Spleen")
    meta = json.loads(meta_path.read_text())
    modality = str(meta.get("modality", {}).get("0", "MR")).upper()
    kind = "ct" if modality == "CT" else "mr"
    cases = []
    for pair in meta.get("training", []):
        image, label = root / pair["image"], root / pair["label"]
        if image.exists() and label.exists():
            cases.append(VolumeCase(image.name.split(".")[0], kind, _pair_loader(str(image), str(label))))
    return cases


def _chaos_labels(mask: np.ndarray, modality: str) -> np.ndarray:
    """(H, W) int32 organ ids 1..n of a CHAOS ground-truth PNG, by the evaluation's rule
    (:func:`napari_scribbleseg.datasets.medical.chaos_organs`: CT liver; MR liver, kidneys, spleen by grey range)."""
    from napari_scribbleseg.datasets.medical import chaos_organs

    out = np.zeros(mask.shape, np.int32)
    for k, (_, organ) in enumerate(chaos_organs(mask, modality), start=1):
        out[organ] = k
    return out


def _chaos_loader(dicom_dir: Path, ground_dir: Path, modality: str):
    def load():
        from napari_scribbleseg.datasets.base import read_mask

        import SimpleITK as sitk

        # CHAOS pairs the i-th mask with the i-th DICOM file by name, whatever the slice positions say
        files = sorted(str(p) for p in dicom_dir.glob("*.dcm"))
        image = sitk.ReadImage(files)
        volume = sitk.GetArrayFromImage(image).astype(np.float32)
        spacing = tuple(float(s) for s in image.GetSpacing()[::-1])
        masks = [_chaos_labels(read_mask(p), modality) for p in sorted(ground_dir.glob("*.png"))]
        if len(masks) != volume.shape[0]:
            raise InputError(f"{ground_dir}: {len(masks)} masks for {volume.shape[0]} DICOM slices")
        return volume, np.stack(masks).astype(np.int32), spacing

    return load


def chaos_cases(root: str | Path) -> list[VolumeCase]:
    """CHAOS ``Train_Sets``: CT (liver -> 1) and MR T2SPIR / T1DUAL in-phase (liver, right and left kidney,
    spleen -> 1..4), labels read as the evaluation reads them."""
    root = Path(root)
    base = root / "Train_Sets" if (root / "Train_Sets").is_dir() else root
    cases = []
    for patient in sorted((base / "CT").glob("*")) if (base / "CT").is_dir() else []:
        if (patient / "DICOM_anon").is_dir() and (patient / "Ground").is_dir():
            cases.append(VolumeCase(f"CT/{patient.name}", "ct", _chaos_loader(patient / "DICOM_anon", patient / "Ground", "CT")))
    for patient in sorted((base / "MR").glob("*")) if (base / "MR").is_dir() else []:
        for sequence, dicom in (("T2SPIR", "T2SPIR/DICOM_anon"), ("T1DUAL", "T1DUAL/DICOM_anon/InPhase")):
            ground = patient / sequence / "Ground"
            if (patient / dicom).is_dir() and ground.is_dir():
                cases.append(VolumeCase(f"MR/{patient.name}/{sequence}", "mr", _chaos_loader(patient / dicom, ground, "MR")))
    return cases


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
