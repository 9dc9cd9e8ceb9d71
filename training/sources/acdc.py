"""ACDC cine-MR slices with the annotators' real scribbles, read through :mod:`napari_scribbleseg.datasets`.

The evaluation's own reader (:class:`napari_scribbleseg.datasets.scribbled.AcdcScribbles`) gives the
slices; this source only turns each into a training sample: the image as the Session sees it
(``imaging.to_rgb_float``), the labels as regions and the strokes in region numbers. By default it reads
the training patients 001-075 only, never the validation patients of the dev benchmark.
"""

from __future__ import annotations

import numpy as np

from training.sources.base import BACKGROUND_STROKE, Sample


class AcdcSource:
    """Scribbled ACDC slices of ``patients`` (default :data:`~napari_scribbleseg.datasets.scribbled.ACDC_TRAIN_PATIENTS`)."""

    def __init__(self, root: str, patients=None, name: str = "acdc_scribbles") -> None:
        from napari_scribbleseg.datasets.scribbled import ACDC_TRAIN_PATIENTS, ACDC_VAL_PATIENTS, AcdcScribbles

        chosen = ACDC_TRAIN_PATIENTS if patients is None else [int(p) for p in patients]
        if set(chosen) & set(ACDC_VAL_PATIENTS):
            from napari_scribbleseg.errors import InputError

            raise InputError(
                f"patients {sorted(set(chosen) & set(ACDC_VAL_PATIENTS))} are the ACDC validation patients of the dev "
                "benchmark; train on 1-75 only"
            )
        self.dataset = AcdcScribbles(root, patients=chosen)
        self.name = name

    def __len__(self) -> int:
        return len(self.dataset)

    def sample(self, index: int, rng: np.random.Generator) -> Sample:
        from napari_scribbleseg.imaging import to_rgb_float

        item = self.dataset[index]
        image = np.round(to_rgb_float(item.image, kind=item.kind) * 255).astype(np.uint8)
        given = item.meta["scribbles"]
        strokes = np.where(given == item.meta["background_class"], BACKGROUND_STROKE, given).astype(np.int32)
        return Sample(image, item.gt.astype(np.int32), None, item.name, scribbles=strokes)
