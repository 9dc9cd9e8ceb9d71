"""Datasets that come with real human scribbles: ACDC cardiac cine-MR (RV, myocardium, LV).

Each sample is one 2-D slice; ``meta["scribbles"]`` holds the annotator's strokes in this package's
convention (0 none, k >= 1 class k), with the dataset's background strokes as one more class
(``meta["background_class"]``) so that every class, background included, competes for each pixel.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from napari_scribbleseg.datasets.base import Dataset, Sample
from napari_scribbleseg.errors import InputError

#: ACDC's label values: 1 right ventricle, 2 myocardium, 3 left ventricle (0 background).
ACDC_CLASSES = {1: "RV", 2: "MYO", 3: "LV"}
#: The scribble value ACDC's annotators used for background.
ACDC_BACKGROUND = 4
#: The split by patient: training reads these, never the validation patients (a dev set of real use).
ACDC_TRAIN_PATIENTS = range(1, 76)
ACDC_VAL_PATIENTS = range(76, 101)

_CASE = re.compile(r"patient(\d{3})_frame(\d{2})$")


class AcdcScribbles(Dataset):
    """Slices of ACDC volumes with labels and real scribbles (``patientNNN_frameMM/{image,label,scribble}.nii.gz``).

    Parameters
    ----------
    root : path
        The ``acdc_scribbles`` folder.
    patients : iterable of int
        Patient numbers to read (default :data:`ACDC_VAL_PATIENTS`).
    min_scribbled : int
        Slices with fewer scribbled pixels than this are left out (nothing to segment from).

    Samples are named ``patientNNN_frameMM z<slice>``; ``gt`` is 0..3, ``kind`` "gray" (the source
    stores uint8 0-255), ``meta`` has ``scribbles`` (1..3 the classes, 4 the background strokes),
    ``background_class`` 4, ``patient``, ``volume`` and ``slice``.
    """

    def __init__(self, root: str | Path, patients=ACDC_VAL_PATIENTS, min_scribbled: int = 1) -> None:
        super().__init__("acdc_scribbles")
        self.root = Path(root)
        self.patients = {int(p) for p in patients}
        self.min_scribbled = int(min_scribbled)
        if not self.root.is_dir():
            raise InputError(f"{self.root} is not a folder; pass the acdc_scribbles folder of patientNNN_frameMM cases")

    def _index(self) -> list[tuple[Path, int]]:
        from napari_scribbleseg.io import read_volume

        items = []
        for case in sorted(self.root.iterdir()):
            match = _CASE.match(case.name)
            if not match or int(match.group(1)) not in self.patients:
                continue
            scribbles = read_volume(case / "scribble.nii.gz").array
            for z in range(scribbles.shape[0]):
                if np.count_nonzero(scribbles[z]) >= self.min_scribbled:
                    items.append((case, z))
        if not items:
            raise InputError(
                f"no scribbled slices of patients {min(self.patients)}-{max(self.patients)} in {self.root}; "
                "check the folder and the patient numbers"
            )
        return items

    def _load(self, item: tuple[Path, int]) -> Sample:
        from napari_scribbleseg.io import read_volume

        case, z = item
        image, label, scribbles = (read_volume(case / f"{part}.nii.gz").array[z] for part in ("image", "label", "scribble"))
        if not (image.shape == label.shape == scribbles.shape):
            raise InputError(f"{case}: image {image.shape}, label {label.shape} and scribbles {scribbles.shape} differ")
        return Sample(
            f"{case.name} z{z}",
            image,
            label.astype(np.int32),
            kind="gray",
            meta={
                "scribbles": scribbles.astype(np.int32),
                "background_class": ACDC_BACKGROUND,
                "patient": int(_CASE.match(case.name).group(1)),
                "volume": case.name,
                "slice": z,
                "classes": dict(ACDC_CLASSES),
            },
        )
