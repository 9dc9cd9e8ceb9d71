"""Sample data: photographs that ship with scikit-image (no download) and generated CT and MR phantoms.

The phantoms come with their ground-truth labels as a second layer, so the evaluation widget can run on
them straight away.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from napari_scribbleseg.phantoms import CT_LABELS, MR_LABELS, ct_abdomen, mr_brain

LayerData = tuple[np.ndarray, dict[str, Any], str]


def astronaut() -> list[LayerData]:
    """RGB photograph (512, 512, 3) uint8 from ``skimage.data``."""
    from skimage import data

    return [(data.astronaut(), {"name": "astronaut", "rgb": True}, "image")]


def coins() -> list[LayerData]:
    """Grey photograph (303, 384) uint8 of coins from ``skimage.data``: many objects of one class."""
    from skimage import data

    return [(data.coins(), {"name": "coins", "colormap": "gray"}, "image")]


def chelsea() -> list[LayerData]:
    """RGB photograph (300, 451, 3) uint8 of a cat from ``skimage.data``."""
    from skimage import data

    return [(data.chelsea(), {"name": "chelsea", "rgb": True}, "image")]


def _volume(name: str, image: np.ndarray, labels: np.ndarray, spacing: tuple, names: dict, kind: str, limits) -> list[LayerData]:
    geometry = {"spacing": list(spacing), "origin": [0.0, 0.0, 0.0], "direction": np.eye(3).tolist(), "dicom": {}}
    meta = {"geometry": geometry, "kind": kind}
    return [
        (image, {"name": name, "scale": spacing, "colormap": "gray", "contrast_limits": limits, "metadata": meta}, "image"),
        (labels, {"name": f"{name} ground truth", "scale": spacing, "metadata": {**meta, "classes": names}, "visible": False}, "labels"),
    ]


def ct_abdomen_sample() -> list[LayerData]:
    """Synthetic abdomen CT (40, 128, 128) in HU, spacing (5, 2.5, 2.5) mm, with organ labels."""
    image, labels, spacing = ct_abdomen()
    return _volume("CT abdomen (synthetic)", image, labels, spacing, CT_LABELS, "ct", (-160.0, 240.0))


def mr_brain_sample() -> list[LayerData]:
    """Synthetic brain T1 MR (36, 112, 96), spacing (4, 1.8, 1.8) mm, with tissue and tumour labels."""
    image, labels, spacing = mr_brain()
    limits = (0.0, float(np.percentile(image, 99.5)))
    return _volume("MR brain (synthetic)", image, labels, spacing, MR_LABELS, "mr", limits)
