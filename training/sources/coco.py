"""COCO and LVIS instance annotations (JSON) through pycocotools.

LVIS JSON has COCO's structure (images, annotations with polygon or RLE ``segmentation``), except that
images name their file by ``coco_url`` instead of ``file_name``; pycocotools reads both, so the
``lvis`` package is not needed. 000 trains on the union of COCO and LVIS: pass both files to
:class:`CocoSource` and the instances of an image are merged (duplicates of the same object from the
two files simply overlap).
"""

from __future__ import annotations

import contextlib
import io
from collections import defaultdict
from pathlib import Path

import numpy as np

from napari_scribbleseg.errors import InputError
from training.sources.base import Sample, read_rgb


def _file_name(image_info: dict) -> str:
    if "file_name" in image_info:
        return Path(image_info["file_name"]).name
    if "coco_url" in image_info:
        return image_info["coco_url"].rsplit("/", 1)[-1]
    raise InputError(f"image {image_info.get('id')} names no file (neither file_name nor coco_url)")


class CocoSource:
    """Instance regions of COCO-style JSON files (COCO, LVIS, SBD converted to COCO).

    Parameters
    ----------
    annotations : str or list of str
        One or more instance JSON files (e.g. COCO ``instances_train2017.json`` and LVIS
        ``lvis_v1_train.json``); their images are matched by image id.
    images : str
        Folder of the image files (``train2017/``).
    min_area : float
        Instances smaller than this many pixels are left out (too small to scribble on).
    """

    def __init__(self, annotations: str | list[str], images: str, min_area: float = 400.0, name: str = "coco"):
        from pycocotools.coco import COCO

        self.name = name
        self.images = Path(images)
        files = [annotations] if isinstance(annotations, (str, Path)) else list(annotations)
        self.apis = []
        self.files: dict[int, str] = {}
        self.anns: dict[int, list[tuple[int, int]]] = defaultdict(list)  # image id -> (api index, ann id)
        for i, path in enumerate(files):
            if not Path(path).exists():
                raise InputError(f"annotation file {path} does not exist; download COCO/LVIS or fix the recipe")
            with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints progress
                api = COCO(str(path))
            self.apis.append(api)
            for image_id, info in api.imgs.items():
                self.files.setdefault(image_id, _file_name(info))
            for ann in api.dataset.get("annotations", []):
                if ann.get("iscrowd", 0) or ann.get("area", min_area) < min_area:
                    continue
                self.anns[ann["image_id"]].append((i, ann["id"]))
        self.ids = sorted(k for k in self.anns if k in self.files)
        if not self.ids:
            raise InputError(f"no instance of at least {min_area} px in {files}")

    def __len__(self) -> int:
        return len(self.ids)

    def sample(self, index: int, rng: np.random.Generator) -> Sample:
        image_id = self.ids[index]
        image = read_rgb(str(self.images / self.files[image_id]))
        masks = []
        for api_index, ann_id in self.anns[image_id]:
            ann = self.apis[api_index].anns[ann_id]
            mask = self.apis[api_index].annToMask(ann).astype(bool)
            if mask.shape != image.shape[:2]:
                raise InputError(
                    f"annotation {ann_id} is {mask.shape} but {self.files[image_id]} is {image.shape[:2]}"
                )
            masks.append(mask)
        regions = np.zeros(image.shape[:2], np.int32)
        # large instances first so that small ones drawn on top keep their pixels
        for r, mask in enumerate(sorted(masks, key=lambda m: -int(m.sum())), start=1):
            regions[mask] = r
        return Sample(image, regions, None, f"{self.name}/{image_id}")
