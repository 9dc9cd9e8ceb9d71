"""Image + mask folder layouts of the interactive-segmentation benchmarks.

- ``grabcut``: ``images/`` (or ``data_GT/``) + ``masks/*.bmp`` (or ``boundary_GT/``): 255 object,
  128 uncertain band (-> ``ignore``), 0 background.
- ``berkeley``, ``coco_mval``, ``folder``: ``images/`` + ``masks/`` matched by file stem, masks 0/255
  (or 0/1); ``multi_region=True`` turns every mask value into a region 1..K.
- ``davis``: RITM's copy (``img/`` + ``gt/``, one object per image) or the native layout
  (``JPEGImages/480p/<seq>/`` + ``Annotations/480p/<seq>/``, one sample per object and frame).
- ``sbd`` / ``pascal``: SBD (``img/*.jpg`` + ``inst/*.mat``) or PASCAL VOC (``JPEGImages/`` +
  ``SegmentationObject/*.png``, 255 = boundary -> ``ignore``): one sample per instance, or one
  multi-region sample per image with ``multi_region=True``.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from napari_scribbleseg.datasets.base import (
    Dataset,
    Sample,
    binarize,
    check_pair,
    files_by_stem,
    image_kind,
    read_image,
    read_mask,
)
from napari_scribbleseg.errors import InputError


def _first_existing(root: Path, names: tuple[str, ...], what: str) -> Path:
    for name in names:
        if (root / name).is_dir():
            return root / name
    raise InputError(f"{root} has no {what} folder; expected one of {list(names)}")


def _pairs(images: Path, masks: Path, mask_suffixes: tuple[str, ...] = (".png", ".bmp", ".jpg", ".tif", ".tiff")):
    """(stem, image path, mask path) for stems present in both folders; warns about the unmatched."""
    image_files = files_by_stem(images)
    mask_files = files_by_stem(masks, mask_suffixes)
    stems = sorted(set(image_files) & set(mask_files))
    if not stems:
        raise InputError(
            f"no image in {images} has a mask with the same file stem in {masks}; "
            "name each mask like its image (e.g. images/cat.jpg + masks/cat.png)"
        )
    missing = sorted(set(image_files) - set(mask_files))
    if missing:
        warnings.warn(f"{len(missing)} images in {images} have no mask and are skipped (e.g. {missing[0]})", stacklevel=3)
    return [(stem, image_files[stem], mask_files[stem]) for stem in stems]


def _regions(mask: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """Relabel the non-zero values of a mask as regions 1..K (ascending value)."""
    values = [int(v) for v in np.unique(mask) if v != 0]
    lookup = np.zeros(int(mask.max()) + 1, np.int32)
    lookup[values] = np.arange(1, len(values) + 1, dtype=np.int32)
    return lookup[mask], values


class FolderDataset(Dataset):
    """``images/`` + ``masks/`` matched by stem (the ``folder``, ``berkeley`` and ``coco_mval`` layouts)."""

    layout = "folder"
    image_dirs: tuple[str, ...] = ("images", "imgs", "img", "data_GT")
    mask_dirs: tuple[str, ...] = ("masks", "labels", "gt", "boundary_GT")

    def __init__(self, root: str | Path, multi_region: bool = False, layout: str | None = None, name: str | None = None):
        self.root = Path(root)
        super().__init__(name or self.root.name)
        if layout:
            self.layout = layout
        self.multi_region = multi_region
        self.images = _first_existing(self.root, self.image_dirs, "image")
        self.masks = _first_existing(self.root, self.mask_dirs, "mask")

    def _index(self) -> list:
        return _pairs(self.images, self.masks)

    def _load(self, item) -> Sample:
        stem, image_path, mask_path = item
        image = read_image(image_path)
        mask = read_mask(mask_path)
        check_pair(image, mask, str(mask_path))
        meta = {"path": str(image_path), "mask_path": str(mask_path)}
        if self.multi_region:
            gt, values = _regions(mask)
            meta["region_values"] = values
        else:
            gt = binarize(mask)
        return Sample(stem, image, gt, None, image_kind(image), None, meta)


class GrabCutDataset(FolderDataset):
    """GrabCut: 255 object, 128 the uncertain band left out of the metric, 0 background."""

    layout = "grabcut"

    def _load(self, item) -> Sample:
        stem, image_path, mask_path = item
        image = read_image(image_path)
        mask = read_mask(mask_path)
        check_pair(image, mask, str(mask_path))
        gt = (mask > 128).astype(np.int32)
        ignore = mask == 128
        return Sample(stem, image, gt, ignore, image_kind(image), None, {"path": str(image_path), "mask_path": str(mask_path)})


class InstanceDataset(Dataset):
    """Instance maps (PNG ids or SBD ``.mat``) -> one sample per instance, or one multi-region sample per image.

    ``ignore_value`` (PASCAL's 255 boundary) becomes the ignore mask. Building the per-instance index
    reads every mask once (not the images).
    """

    layout = "sbd"

    def __init__(
        self,
        pairs: list[tuple[str, Path, Path]],
        name: str,
        layout: str,
        ignore_value: int | None = None,
        multi_region: bool = False,
        min_pixels: int = 1,
    ) -> None:
        super().__init__(name)
        self.layout = layout
        self.pairs = pairs
        self.ignore_value = ignore_value
        self.multi_region = multi_region
        self.min_pixels = min_pixels

    def _instances(self, mask_path: Path) -> np.ndarray:
        if mask_path.suffix.lower() == ".mat":
            return read_sbd_instances(mask_path)
        return read_mask(mask_path)

    def _index(self) -> list:
        if self.multi_region:
            return [(stem, image, mask, None) for stem, image, mask in self.pairs]
        items = []
        for stem, image, mask_path in self.pairs:
            mask = self._instances(mask_path)
            values, counts = np.unique(mask, return_counts=True)
            for value, count in zip(values.tolist(), counts.tolist()):
                if value != 0 and value != self.ignore_value and count >= self.min_pixels:
                    items.append((stem, image, mask_path, int(value)))
        return items

    def _load(self, item) -> Sample:
        stem, image_path, mask_path, instance = item
        image = read_image(image_path)
        mask = self._instances(mask_path)
        check_pair(image, mask, str(mask_path))
        ignore = (mask == self.ignore_value) if self.ignore_value is not None else None
        meta = {"path": str(image_path), "mask_path": str(mask_path)}
        if instance is None:
            kept = np.where(ignore, 0, mask) if ignore is not None else mask
            gt, values = _regions(kept)
            meta["region_values"] = values
            name = stem
        else:
            gt = (mask == instance).astype(np.int32)
            meta["instance"] = instance
            name = f"{stem}_{instance}"
        return Sample(name, image, gt, ignore, image_kind(image), None, meta)


def read_sbd_instances(path: Path) -> np.ndarray:
    """The (H, W) instance-id map of an SBD ``inst/*.mat`` file (``GTinst.Segmentation``)."""
    from scipy.io import loadmat

    try:
        return np.asarray(loadmat(str(path))["GTinst"][0][0]["Segmentation"], dtype=np.int32)
    except (OSError, ValueError, KeyError, IndexError) as error:
        raise InputError(f"could not read SBD instance file {path} ({error}); expected a .mat holding GTinst") from error


def _split_stems(path: Path) -> set[str] | None:
    return {line.strip() for line in path.read_text().splitlines() if line.strip()} if path.is_file() else None


def sbd_dataset(root: str | Path, split: str | None = None, multi_region: bool = False, min_pixels: int = 1) -> InstanceDataset:
    """SBD (``img/`` + ``inst/*.mat``, ``train.txt``/``val.txt``) or PASCAL VOC (``JPEGImages/`` +
    ``SegmentationObject/``, ``ImageSets/Segmentation/<split>.txt``)."""
    root = Path(root)
    if (root / "inst").is_dir():
        pairs, ignore, split_file = _pairs(root / "img", root / "inst", (".mat", ".png")), None, root / f"{split}.txt"
        layout = "sbd"
    elif (root / "SegmentationObject").is_dir():
        pairs = _pairs(root / "JPEGImages", root / "SegmentationObject", (".png",))
        ignore, split_file, layout = 255, root / "ImageSets" / "Segmentation" / f"{split}.txt", "pascal"
    else:
        raise InputError(f"{root} is neither SBD (img/ + inst/) nor PASCAL VOC (JPEGImages/ + SegmentationObject/)")
    if split is not None:
        stems = _split_stems(split_file)
        if stems is None:
            raise InputError(f"split {split!r} needs {split_file}, which does not exist; pass split=None for all images")
        pairs = [p for p in pairs if p[0] in stems]
    return InstanceDataset(pairs, root.name, layout, ignore, multi_region, min_pixels)


def davis_dataset(root: str | Path, multi_region: bool = False, resolution: str = "480p") -> Dataset:
    """DAVIS: RITM's ``img/`` + ``gt/`` copy (binary) or native ``JPEGImages``/``Annotations`` (per object)."""
    root = Path(root)
    if (root / "img").is_dir() and (root / "gt").is_dir():
        return FolderDataset(root, multi_region=multi_region, layout="davis")
    images, annotations = root / "JPEGImages" / resolution, root / "Annotations" / resolution
    if not annotations.is_dir():
        raise InputError(f"{root} is not DAVIS: expected img/ + gt/, or JPEGImages/{resolution}/ + Annotations/{resolution}/")
    pairs = []
    for sequence in sorted(p for p in annotations.iterdir() if p.is_dir()):
        for stem, image, mask in _pairs(images / sequence.name, sequence, (".png",)):
            pairs.append((f"{sequence.name}_{stem}", image, mask))
    return InstanceDataset(pairs, root.name, "davis", None, multi_region)


def instance_images(root: str | Path) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(name, image, instance labels) for every image of an instance folder, for the instance protocol.

    ``root`` holds ``images/`` and ``labels/`` (or ``masks/``): each image has an (H, W) integer label map of
    the same file stem, 0 none and k object k (16-bit PNG for more than 255 objects), as microscopy
    annotation tools save them (e.g. ``../shared/data/microscopy/fluo_nuclei``).
    """
    root = Path(root)
    if not root.is_dir():
        raise InputError(f"{root} is not a folder; give a folder with images/ and labels/ (instance label maps)")
    images = _first_existing(root, ("images", "img"), "images")
    labels = _first_existing(root, ("labels", "masks"), "instance label")
    out = []
    for stem, image_path, label_path in _pairs(images, labels):
        image = read_image(image_path)
        instances = read_mask(label_path)
        check_pair(image, instances, str(label_path), "instance label map")
        if not np.issubdtype(instances.dtype, np.integer):
            raise InputError(f"{label_path} holds {instances.dtype} values; an instance map holds integer object ids")
        out.append((stem, image, instances.astype(np.int32)))
    return out
