"""Given (real) scribbles: the ACDC reader and the one-round protocol that scores every predictor on them."""

from __future__ import annotations

import numpy as np
import pytest

from napari_scribbleseg.datasets import Sample
from napari_scribbleseg.errors import InputError
from napari_scribbleseg.evaluate.given import evaluate_given_scribbles


def _samples():
    gt = np.zeros((40, 40), np.int32)
    gt[5:20, 5:20], gt[22:35, 22:35] = 1, 2
    scribbles = np.zeros_like(gt)
    scribbles[12, 8:17], scribbles[28, 25:32], scribbles[2, :] = 1, 2, 3  # 3: the background strokes
    meta = {"scribbles": scribbles, "background_class": 3, "classes": {1: "A", 2: "B"}}
    return [Sample(f"s{i}", np.where(gt > 0, 200, 20).astype(np.uint8), gt, kind="gray", meta=meta) for i in range(3)]


class Oracle:
    """Returns the truth with the background as class 3 (what a perfect predictor would)."""

    def __init__(self, gt):
        self.gt = gt

    def set_image(self, image):
        pass

    def predict(self, scribbles, prev=None):
        return np.where(self.gt > 0, self.gt, 3)


class OnlyClassA(Oracle):
    def predict(self, scribbles, prev=None):
        return np.where(self.gt == 1, 1, 3)


def test_given_scribbles_score_dice_per_class_with_background_strokes_as_background():
    samples = _samples()
    result = evaluate_given_scribbles({"oracle": Oracle(samples[0].gt), "half": OnlyClassA(samples[0].gt)}, samples)
    summary = {row["predictor"]: row for row in result.summary()}
    assert summary["oracle"]["Dice A"] == summary["oracle"]["Dice B"] == summary["oracle"]["mean Dice"] == 1.0
    assert summary["half"]["Dice A"] == 1.0 and summary["half"]["Dice B"] == 0.0 and summary["half"]["mean Dice"] == 0.5
    assert summary["half"]["n"] == 3
    assert "| oracle | 3 | 1.000 | 1.000 | 1.000 |" in result.table()


def test_a_real_predictor_segments_from_the_given_strokes():
    result = evaluate_given_scribbles(["growcut"], _samples())
    assert result.summary()[0]["mean Dice"] > 0.9


def test_samples_without_given_scribbles_are_refused():
    plain = [Sample("x", np.zeros((8, 8), np.uint8), np.ones((8, 8), np.int32))]
    with pytest.raises(InputError, match="no given scribbles.*acdc_scribbles"):
        evaluate_given_scribbles(["growcut"], plain)


def test_acdc_validation_slices_come_with_real_scribbles_of_every_class(acdc_dir):
    from napari_scribbleseg.datasets import load_dataset
    from napari_scribbleseg.datasets.scribbled import ACDC_TRAIN_PATIENTS, ACDC_VAL_PATIENTS, AcdcScribbles

    root = acdc_dir
    val = load_dataset(root)  # the layout is recognised; validation patients by default
    assert set(ACDC_TRAIN_PATIENTS).isdisjoint(ACDC_VAL_PATIENTS)
    sample = val[0]
    assert sample.meta["patient"] in ACDC_VAL_PATIENTS and sample.kind == "gray"
    assert set(np.unique(sample.meta["scribbles"])) <= {0, 1, 2, 3, 4} and sample.meta["background_class"] == 4
    assert set(np.unique(sample.gt)) <= {0, 1, 2, 3} and sample.gt.shape == sample.image.shape
    train = AcdcScribbles(root, patients=[1])
    assert all(train[i].meta["patient"] == 1 for i in range(len(train)))
