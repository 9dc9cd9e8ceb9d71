"""Tiny generated datasets in every layout the training recipes read (COCO/LVIS, VOC, SBD, CHAOS,
Decathlon, BraTS, image/mask folders), laid out under one root as the recipes' ``${data}`` paths expect."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

SIZE = 64


def _shapes(rng: np.random.Generator, n: int = 2, size: int = SIZE) -> np.ndarray:
    """(size, size) int32 with ``n`` non-overlapping rectangles/disks labelled 1..n."""
    labels = np.zeros((size, size), np.int32)
    yy, xx = np.mgrid[:size, :size]
    labels[(yy - size * 0.3) ** 2 + (xx - size * 0.3) ** 2 < (size * 0.18) ** 2] = 1
    if n > 1:
        labels[int(size * 0.55) : int(size * 0.85), int(size * 0.5) : int(size * 0.9)] = 2
    return labels


def _image(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    colours = np.array([[30, 40, 50], [200, 60, 60], [60, 200, 90], [90, 90, 220]], np.uint8)
    img = colours[labels % 4].astype(np.int16) + rng.integers(-10, 10, (*labels.shape, 3))
    return np.clip(img, 0, 255).astype(np.uint8)


def _write_png(path: Path, array: np.ndarray) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def _coco_polygons(mask: np.ndarray) -> list[list[float]]:
    import cv2

    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    return [c.reshape(-1).astype(float).tolist() for c in contours if len(c) >= 3]


def make_coco(root: Path, rng: np.random.Generator, lvis: bool = False, n_images: int = 3) -> None:
    images_dir = root / "coco" / "train2017"
    images, anns = [], []
    for i in range(1, n_images + 1):
        labels = _shapes(rng)
        name = f"{i:012d}.jpg"
        if not lvis:
            _write_png(images_dir / name, _image(labels, rng))
        entry = {"id": i, "height": SIZE, "width": SIZE}
        entry.update({"coco_url": f"http://images.cocodataset.org/train2017/{name}"} if lvis else {"file_name": name})
        images.append(entry)
        for r in (1, 2):
            mask = labels == r
            ys, xs = np.nonzero(mask)
            anns.append({
                "id": len(anns) + 1, "image_id": i, "category_id": 1, "iscrowd": 0, "area": float(mask.sum()),
                "bbox": [float(xs.min()), float(ys.min()), float(np.ptp(xs) + 1), float(np.ptp(ys) + 1)],
                "segmentation": _coco_polygons(mask),
            })
    data = {"images": images, "annotations": anns, "categories": [{"id": 1, "name": "thing"}]}
    path = root / ("lvis/lvis_v1_train.json" if lvis else "coco/annotations/instances_train2017.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


def make_voc(root: Path, rng: np.random.Generator) -> None:
    from PIL import Image

    voc = root / "VOC2012"
    ids = ["2007_000001", "2007_000002"]
    for image_id in ids:
        labels = _shapes(rng)
        _write_png(voc / "JPEGImages" / f"{image_id}.jpg", _image(labels, rng))
        objects = labels.astype(np.uint8)
        objects[(labels == 1) & (np.roll(labels, 1, 0) == 0)] = 255  # a void boundary
        palette = Image.fromarray(objects, mode="P")
        palette.putpalette(list(np.random.default_rng(0).integers(0, 255, 768, dtype=np.uint8)))
        (voc / "SegmentationObject").mkdir(parents=True, exist_ok=True)
        palette.save(voc / "SegmentationObject" / f"{image_id}.png")
    split = voc / "ImageSets" / "Segmentation" / "train.txt"
    split.parent.mkdir(parents=True, exist_ok=True)
    split.write_text("\n".join(ids))


def make_sbd(root: Path, rng: np.random.Generator) -> None:
    from scipy.io import savemat

    sbd = root / "SBD"
    (sbd / "inst").mkdir(parents=True, exist_ok=True)
    labels = _shapes(rng)
    _write_png(sbd / "img" / "2008_000002.jpg", _image(labels, rng))
    savemat(sbd / "inst" / "2008_000002.mat", {"GTinst": {"Segmentation": labels.astype(np.uint8)}})
    (sbd / "train.txt").write_text("2008_000002\n")


def _volume(rng: np.random.Generator, depth: int = 12) -> tuple[np.ndarray, np.ndarray]:
    """(Z, Y, X) intensities and labels 1, 2 through the middle slices."""
    labels = np.zeros((depth, SIZE, SIZE), np.int16)
    labels[2 : depth - 2] = _shapes(rng)
    volume = (labels * 40 + rng.normal(0, 5, labels.shape)).astype(np.float32)
    return volume, labels


def _write_nifti(path: Path, array: np.ndarray, spacing: tuple[float, float, float] = (2.0, 1.0, 1.0)) -> None:
    import SimpleITK as sitk

    image = sitk.GetImageFromArray(array)
    image.SetSpacing(spacing[::-1])
    path.parent.mkdir(parents=True, exist_ok=True)
    sitk.WriteImage(image, str(path))


def make_decathlon(root: Path, rng: np.random.Generator) -> None:
    task = root / "Decathlon" / "Task09_Spleen"
    training = []
    for i in range(2):
        volume, labels = _volume(rng)
        _write_nifti(task / "imagesTr" / f"spleen_{i}.nii.gz", volume * 10 - 1000)
        _write_nifti(task / "labelsTr" / f"spleen_{i}.nii.gz", labels)
        training.append({"image": f"./imagesTr/spleen_{i}.nii.gz", "label": f"./labelsTr/spleen_{i}.nii.gz"})
    meta = {"name": "Spleen", "modality": {"0": "CT"}, "labels": {"0": "background", "1": "spleen"}, "training": training}
    (task / "dataset.json").write_text(json.dumps(meta))


def make_brats(folder: Path, rng: np.random.Generator, modern: bool = False) -> None:
    for case in ("brats_2013_pat0001_1", "brats_2013_pat0002_1"):
        volume, labels = _volume(rng)
        if modern:
            _write_nifti(folder / case / f"{case}_flair.nii.gz", volume)
            _write_nifti(folder / case / f"{case}_t1ce.nii.gz", volume * 0.5)
            _write_nifti(folder / case / f"{case}_seg.nii.gz", labels)
        else:
            _write_nifti(folder / case / "Flair_subtrMeanDivStd.nii.gz", volume)
            _write_nifti(folder / case / "T1c_subtrMeanDivStd.nii.gz", volume * 0.5)
            _write_nifti(folder / case / "OTMultiClass.nii.gz", labels)


def _write_dicom_series(folder: Path, volume: np.ndarray) -> None:
    import locale

    import SimpleITK as sitk

    # GDCM's DICOM writer switches the process locale to "C"; later text decoding (subprocess output in
    # other tests) would then assume ASCII, so the locale is put back afterwards
    saved = locale.setlocale(locale.LC_CTYPE)
    try:
        _write_dicom_planes(folder, volume, sitk)
    finally:
        locale.setlocale(locale.LC_CTYPE, saved)


def _write_dicom_planes(folder: Path, volume: np.ndarray, sitk) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for z, plane in enumerate(volume.astype(np.int16)):
        image = sitk.GetImageFromArray(plane)
        image.SetSpacing((1.0, 1.0))
        writer = sitk.ImageFileWriter()
        writer.KeepOriginalImageUIDOn()
        for tag, value in (("0020|0013", str(z + 1)), ("0020|0032", f"0\\0\\{2.0 * z}"), ("0008|0060", "CT"),
                           ("0020|000e", "1.2.826.0.1.3680043.2.1125.1"), ("0028|0030", "1\\1"), ("0018|0050", "2")):
            image.SetMetaData(tag, value)
        writer.SetFileName(str(folder / f"IMG-0001-{z + 1:05d}.dcm"))
        writer.Execute(image)


def make_chaos(root: Path, rng: np.random.Generator) -> None:
    base = root / "CHAOS" / "Train_Sets"
    volume, labels = _volume(rng, depth=6)
    _write_dicom_series(base / "CT" / "1" / "DICOM_anon", volume * 10 - 1000)
    for z, plane in enumerate(labels):
        _write_png(base / "CT" / "1" / "Ground" / f"liver_GT_{z:03d}.png", ((plane == 1) * 255).astype(np.uint8))
    _write_dicom_series(base / "MR" / "2" / "T2SPIR" / "DICOM_anon", volume * 10)
    for z, plane in enumerate(labels):
        grey = np.select([plane == 1, plane == 2], [63, 126], 0).astype(np.uint8)
        _write_png(base / "MR" / "2" / "T2SPIR" / "Ground" / f"IMG-{z:03d}.png", grey)


def make_folder(folder: Path, rng: np.random.Generator) -> None:
    """images/ + masks/ in COCO MVal's naming: two instance masks of one image, one of another."""
    for stem, n in (("cat00_000000000001", 2), ("dog00_000000000002", 1)):
        labels = _shapes(rng, n)
        image = _image(labels, rng)
        _write_png(folder / "images" / f"{stem}.jpg", image)
        _write_png(folder / "masks" / f"{stem}.png", ((labels == 1) * 255).astype(np.uint8))
        if n == 2:
            twin = stem.replace("cat00", "cat01")
            _write_png(folder / "images" / f"{twin}.jpg", image)
            _write_png(folder / "masks" / f"{twin}.png", ((labels == 2) * 255).astype(np.uint8))


def make_acdc(root: Path, rng: np.random.Generator) -> None:
    """ACDC-like cases (patients 1 and 2): uint8 cine-MR slices, labels 1-3 and real-style scribbles (4 = background)."""
    for patient in (1, 2):
        labels = np.zeros((3, 64, 64), np.uint8)
        labels[:, 15:35, 10:30], labels[:, 20:45, 35:55], labels[:, 26:39, 41:49] = 1, 2, 3
        image = np.clip(labels * 60 + rng.integers(0, 30, labels.shape), 0, 255).astype(np.uint8)
        strokes = np.zeros_like(labels)
        strokes[:, 25, 14:26], strokes[:, 22, 38:52], strokes[:, 32, 43:47], strokes[:, 55, 5:60] = 1, 2, 3, 4
        case = root / "medical" / "acdc_scribbles" / f"patient{patient:03d}_frame01"
        for part, array in (("image", image), ("label", labels), ("scribble", strokes)):
            _write_nifti(case / f"{part}.nii.gz", array)


@pytest.fixture(scope="session")
def tiny_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data root with every layout the recipes name, each a few 64x64 images or 12-slice volumes."""
    root = tmp_path_factory.mktemp("tiny_data")
    rng = np.random.default_rng(0)
    make_coco(root, rng)
    make_coco(root, rng, lvis=True)
    make_voc(root, rng)
    make_sbd(root, rng)
    make_decathlon(root, rng)
    make_brats(root / "BraTS", rng, modern=True)
    make_brats(root / "medical" / "brats2015", rng)
    make_chaos(root, rng)
    make_folder(root / "natural" / "coco_mval", rng)
    make_acdc(root, rng)
    volume, labels = _volume(rng)
    for name, seg in (("example_ct_sm", "example_seg"), ("example_mr_sm", "example_seg_mr")):
        _write_nifti(root / "medical" / "totalseg" / f"{name}.nii.gz", volume)
        _write_nifti(root / "medical" / "totalseg" / f"{seg}.nii.gz", labels)
    return root
