"""The shipped weights do their job: the deterministic simulated user gets good masks from them on real photos."""

from __future__ import annotations

import numpy as np
import pytest


def test_the_shipped_model_segments_three_grabcut_photos_well(grabcut_dir):
    pytest.importorskip("torch")
    from napari_scribbleseg import evaluate
    from napari_scribbleseg.datasets import load_dataset
    from napari_scribbleseg.datasets.base import Subset

    photos = Subset(load_dataset(grabcut_dir), [0, 1, 2])
    result = evaluate(["default"], photos, max_interactions=3)
    ious = np.array([row["iou"] for row in result.rows])  # (3 photos, 3 interactions)
    # measured 2026-12-02: stage 2 0.68 after the first stroke, 0.85 after three; stage 3 (colour) 0.74 and 0.82,
    # its third photo 0.66, 0.80, 0.65 (a correction can overshoot); untrained weights stay under 0.5
    assert ious[:, 0].mean() > 0.6 and ious[:, -1].mean() > 0.8
    assert ious.max(axis=1).min() > 0.75  # every photo gets a good mask within three interactions
    assert ious[:, -1].mean() > ious[:, 0].mean()  # corrections help
