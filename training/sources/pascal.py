"""PASCAL VOC (``SegmentationObject`` PNGs) and SBD (``inst/*.mat``) instance masks."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from napari_scribbleseg.errors import InputError
from training.sources.base import Sample, read_mask, read_rgb


def _read_split(path: Path) -> list[str] | None:
    return [line.strip() for line in path.read_text().splitlines() if line.strip()] if path.exists() else None


class PascalSource:
    """PASCAL VOC 2012 or SBD instance segmentation, detected from the folder layout.

    VOC: ``JPEGImages/``, ``SegmentationObject/*.png`` (palette indices: 0 background, i instance i,
    255 void boundary = ignored), split lists in ``ImageSets/Segmentation/<split>.txt``.
    SBD: ``img/``, ``inst/*.mat`` (``GTinst.Segmentation``), split lists ``<split>.txt``.
    """

    def __init__(self, root: str | Path, split: str = "train", name: str = "pascal") -> None:
        self.root = Path(root)
        self.name = name
        if (self.root / "SegmentationObject").is_dir():
            self.layout = "voc"
            self.image_dir, self.mask_dir, mask_suffix = self.root / "JPEGImages", self.root / "SegmentationObject", ".png"
            ids = _read_split(self.root / "ImageSets" / "Segmentation" / f"{split}.txt")
        elif (self.root / "inst").is_dir():
            self.layout = "sbd"
            self.image_dir, self.mask_dir, mask_suffix = self.root / "img", self.root / "inst", ".mat"
            ids = _read_split(self.root / f"{split}.txt")
        else:
            raise InputError(
                f"{self.root} is neither PASCAL VOC (SegmentationObject/) nor SBD (inst/); "
                "point the source at VOC2012/ or at SBD's dataset/ folder"
            )
        available = sorted(p.stem for p in self.mask_dir.glob(f"*{mask_suffix}"))
        self.ids = [i for i in (ids or available) if (self.mask_dir / f"{i}{mask_suffix}").exists()]
        if not self.ids:
            raise InputError(f"no instance masks found in {self.mask_dir} for split {split!r}")

    def __len__(self) -> int:
        return len(self.ids)

    def _instances(self, image_id: str) -> np.ndarray:
        if self.layout == "voc":
            return read_mask(str(self.mask_dir / f"{image_id}.png")).astype(np.int32)
        from scipy.io import loadmat

        gt = loadmat(str(self.mask_dir / f"{image_id}.mat"), squeeze_me=True, struct_as_record=False)["GTinst"]
        return np.asarray(gt.Segmentation, dtype=np.int32)

    def sample(self, index: int, rng: np.random.Generator) -> Sample:
        image_id = self.ids[index]
        image = read_rgb(str(self.image_dir / f"{image_id}.jpg"))
        instances = self._instances(image_id)
        ignore = instances == 255
        regions = np.where(ignore, 0, instances).astype(np.int32)
        return Sample(image, regions, ignore if ignore.any() else None, f"{self.name}/{image_id}")
