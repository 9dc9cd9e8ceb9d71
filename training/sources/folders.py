"""Plain image/mask folders, including COCO MVal's layout (one instance mask per file)."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import numpy as np

from napari_scribbleseg.errors import InputError
from training.sources.base import Sample, read_mask, read_rgb

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff")


def regions_from_mask(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Turn a mask file's values into (regions, ignore).

    Binary masks (0 and one other value) give region 1; GrabCut-style masks with 0, 128 and 255 give
    region 1 = 255 and ignore = 128; other masks give one region per non-zero value (255 is VOC's void
    and becomes ignore when other values are present).
    """
    values = np.unique(mask)
    nonzero = values[values != 0]
    if len(nonzero) <= 1:
        return (mask != 0).astype(np.int32), None
    if set(nonzero.tolist()) == {128, 255}:
        return (mask == 255).astype(np.int32), mask == 128
    ignore = None
    if 255 in nonzero:
        ignore = mask == 255
        nonzero = nonzero[nonzero != 255]
    regions = np.zeros(mask.shape, np.int32)
    for i, value in enumerate(nonzero, start=1):
        regions[mask == value] = i
    return regions, ignore


class FolderSource:
    """Images in ``root/images`` with masks of the same stem in ``root/masks``.

    Parameters
    ----------
    root : str or Path
        The folder holding ``images/`` and ``masks/`` (names configurable).
    group_by : str, optional
        A regular expression whose first group names the image a mask belongs to; masks sharing it are
        merged into one multi-region sample (COCO MVal: ``_(\\d+)$`` groups the instances of one COCO
        image). Without it every mask file is a sample.
    exclude : list of str, optional
        Regular expressions of stems to leave out (held-out images).
    holdout_every : int, optional
        Leave out every n-th mask by sorted name, starting with the first: the held-out split the dev
        benchmark evaluates (``benchmarks/dev_sets.py``, COCO MVal every 8th).
    """

    def __init__(
        self,
        root: str | Path,
        images: str = "images",
        masks: str = "masks",
        group_by: str | None = None,
        exclude: list[str] | None = None,
        name: str | None = None,
        holdout_every: int | None = None,
    ) -> None:
        self.root = Path(root)
        self.name = name or self.root.name
        image_dir, mask_dir = self.root / images, self.root / masks
        if not image_dir.is_dir() or not mask_dir.is_dir():
            raise InputError(
                f"{self.root} needs {images}/ and {masks}/ folders of images and same-named masks; "
                "point the source at a folder laid out that way"
            )
        image_files = {p.stem: p for p in sorted(image_dir.iterdir()) if p.suffix.lower() in IMAGE_SUFFIXES}
        patterns = [re.compile(e) for e in (exclude or [])]
        groups: dict[str, list[tuple[Path, Path]]] = defaultdict(list)
        masks = [m for m in sorted(mask_dir.iterdir()) if m.stem in image_files]
        held_out = {m.stem for m in masks[:: int(holdout_every)]} if holdout_every else set()
        for mask_path in masks:
            stem = mask_path.stem
            if stem in held_out or any(p.search(stem) for p in patterns):
                continue
            match = re.search(group_by, stem) if group_by else None
            key = match.group(1) if match else stem
            groups[key].append((image_files[stem], mask_path))
        if not groups:
            raise InputError(f"{self.root} has no image with a mask of the same name; check the folder names")
        self.items = [groups[k] for k in sorted(groups)]

    def __len__(self) -> int:
        return len(self.items)

    def sample(self, index: int, rng: np.random.Generator) -> Sample:
        pairs = self.items[index]
        image = read_rgb(str(pairs[0][0]))
        regions = np.zeros(image.shape[:2], np.int32)
        ignore = np.zeros(image.shape[:2], bool)
        next_id = 1
        # larger masks first so that a small instance on top of a large one keeps its pixels
        masks = [regions_from_mask(read_mask(str(m))) for _, m in pairs]
        for mask_regions, mask_ignore in sorted(masks, key=lambda m: -int((m[0] > 0).sum())):
            if mask_regions.shape != regions.shape:
                raise InputError(
                    f"mask of {pairs[0][0].name} is {mask_regions.shape} but the image is {regions.shape}; "
                    "masks must match their images pixel for pixel"
                )
            for r in range(1, int(mask_regions.max()) + 1):
                regions[mask_regions == r] = next_id
                next_id += 1
            if mask_ignore is not None:
                ignore |= mask_ignore
        return Sample(image, regions, ignore if ignore.any() else None, f"{self.name}/{pairs[0][0].stem}")


def coco_mval_source(root: str | Path, **kwargs) -> FolderSource:
    """COCO MVal (``images/<category><nn>_<cocoid>.jpg`` + ``masks/...png``), instances grouped per image."""
    return FolderSource(root, group_by=r"_(\d+)$", name=kwargs.pop("name", "coco_mval"), **kwargs)
