import numpy as np
import pytest

from napari_scribbleseg import metrics
from napari_scribbleseg.errors import InputError


def test_iou_and_dice_known_values():
    gt = np.zeros((10, 10), bool)
    gt[:, :5] = True
    pred = np.zeros((10, 10), bool)
    pred[:, :4] = True
    assert metrics.iou(pred, gt) == pytest.approx(40 / 50)
    assert metrics.dice(pred, gt) == pytest.approx(80 / 90)
    assert metrics.iou(np.zeros_like(gt), np.zeros_like(gt)) == 1.0


def test_ignore_band_is_left_out():
    gt = np.zeros((10, 10), bool)
    gt[:, :5] = True
    pred = gt.copy()
    pred[:, 5] = True  # a wrong column ...
    ignore = np.zeros_like(gt)
    ignore[:, 5] = True  # ... inside the ignore band
    assert metrics.iou(pred, gt, ignore) == 1.0
    assert metrics.iou(pred, gt) < 1.0


def test_noi_nof_and_miou():
    curves = [[0.5, 0.86, 0.91], [0.95], [0.2] * 20]
    assert metrics.number_of_interactions(curves[0], 0.85) == 2
    assert metrics.number_of_interactions(curves[0], 0.90) == 3
    assert metrics.noi(curves, 0.90) == pytest.approx((3 + 1 + 20) / 3)
    assert metrics.nof(curves, 0.90) == 1
    # stopped curves carry their last value forward
    assert metrics.miou_at(curves, 5) == pytest.approx((0.91 + 0.95 + 0.2) / 3)


def test_per_class_iou():
    gt = np.array([[1, 1, 2, 2]])
    pred = np.array([[1, 2, 2, 2]])
    out = metrics.per_class_iou(pred, gt)
    assert out == {1: pytest.approx(0.5), 2: pytest.approx(2 / 3)}


def test_shape_mismatch_is_named():
    with pytest.raises(InputError, match="shape"):
        metrics.iou(np.zeros((3, 3)), np.zeros((4, 4)))


def test_paired_difference_separates_a_real_shift_from_noise():
    rng = np.random.default_rng(1)
    a = rng.normal(5.0, 2.0, 200)
    shifted = a + 0.5 + rng.normal(0.0, 0.2, 200)  # every sample 0.5 worse, a little noise
    mean, low, high = metrics.paired_difference(a, shifted)
    assert mean == pytest.approx(0.5, abs=0.05) and 0 < low < mean < high
    noise = a + rng.normal(0.0, 1.0, 200)  # no shift, only noise
    mean, low, high = metrics.paired_difference(a, noise)
    assert low < 0 < high
    assert metrics.paired_difference(a, shifted) == metrics.paired_difference(a, shifted)  # seeded
    with pytest.raises(InputError, match="same samples"):
        metrics.paired_difference(a, a[:-1])
