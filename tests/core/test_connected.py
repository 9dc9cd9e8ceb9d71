"""keep_connected: a class keeps only the patches that hold one of its strokes."""

from __future__ import annotations

import numpy as np
import pytest

from napari_scribbleseg.connected import keep_connected


def _two_blobs_per_class() -> np.ndarray:
    pred = np.zeros((40, 60), np.int32)
    pred[5:15, 5:15] = 1
    pred[25:35, 5:15] = 1       # a look-alike of class 1 with no class-1 stroke
    pred[5:15, 40:50] = 2
    pred[25:35, 40:50] = 2
    return pred


def test_patches_without_a_stroke_of_their_class_are_taken_from_it():
    pred = _two_blobs_per_class()
    strokes = np.zeros_like(pred)
    strokes[8:10, 6:14] = 1
    strokes[28:30, 41:49] = 2
    out = keep_connected(pred, strokes)
    assert (out[5:15, 5:15] == 1).all() and (out[25:35, 40:50] == 2).all()
    # the look-alikes touch no rival, only unscribbled pixels (0): nothing can reach them
    assert (out[25:35, 5:15] == 0).all() and (out[5:15, 40:50] == 0).all()
    assert pred[25, 5] == 1  # the input is left alone


def test_a_patch_walled_in_by_taken_patches_is_grown_into():
    pred = np.full((20, 20), 2, np.int32)
    pred[:, 10:] = 1
    pred[0:5, 0:5] = 1    # a class-1 look-alike in the background...
    pred[2, 2] = 2        # ...holding a class-2 speck that touches no class-2 pixel
    strokes = np.zeros_like(pred)
    strokes[6, 16], strokes[19, 0] = 1, 2
    out = keep_connected(pred, strokes)
    assert (out[:, :10] == 2).all() and (out[:, 10:] == 1).all()


def test_one_class_scribbled_drops_patches_to_zero():
    pred = _two_blobs_per_class()
    strokes = np.zeros_like(pred)
    strokes[8:10, 6:14] = 1
    out = keep_connected(pred, strokes)
    assert (out[5:15, 5:15] == 1).all() and (out[25:35, 5:15] == 0).all()


def test_a_detached_patch_goes_to_the_class_that_borders_it_most():
    pred = np.full((30, 30), 2, np.int32)   # background everywhere
    pred[:, 20:] = 3                        # a third class on the right
    pred[3:8, 3:8] = 1                      # the object, stroked
    pred[15:20, 12:20] = 1                  # a look-alike: background on three sides, class 3 on one
    strokes = np.zeros_like(pred)
    strokes[5, 5], strokes[25, 5], strokes[25, 25] = 1, 2, 3
    out = keep_connected(pred, strokes)
    assert (out[15:20, 12:20] == 2).all() and (out[3:8, 3:8] == 1).all()
    assert (out > 0).all()  # every pixel keeps a class


def test_a_stroke_of_another_class_does_not_hold_a_patch():
    pred = _two_blobs_per_class()
    strokes = np.zeros_like(pred)
    strokes[8:10, 6:14] = 1
    strokes[28:30, 6:14] = 2   # class 2 painted inside the second class-1 blob
    out = keep_connected(pred, strokes)
    assert (out[25:28, 5:15] == 0).all()  # class 1 loses it; nothing else claims it
    assert not (out == 2).any()           # class 2's stroke pixels are not class 2 in pred: no patch held


def test_diagonal_contact_connects_and_unstroked_classes_are_untouched():
    pred = np.zeros((10, 10), np.int32)
    pred[2, 2] = pred[3, 3] = pred[4, 4] = 1   # an 8-connected diagonal line
    pred[8, 8] = 3                             # class 3 has no stroke: nothing to be connected to
    strokes = np.zeros_like(pred)
    strokes[2, 2] = 1
    out = keep_connected(pred, strokes)
    assert out[4, 4] == 1 and out[8, 8] == 3


def test_shapes_must_match():
    with pytest.raises(ValueError, match="same"):
        keep_connected(np.zeros((4, 4), np.int32), np.zeros((4, 5), np.int32))


class _TwoBlobs:
    """A predictor that always answers with two class-1 blobs."""

    def set_image(self, image):
        self.shape = image.shape[:2]

    def predict(self, scribbles, prev=None):
        out = np.zeros(self.shape, np.int32)
        out[2:6, 2:6] = 1
        out[10:14, 10:14] = 1
        return out


def test_wrapper_applies_the_rule_to_any_predictor():
    from napari_scribbleseg.connected import ConnectedPredictor

    wrapped = ConnectedPredictor(_TwoBlobs())
    wrapped.set_image(np.zeros((16, 16, 3), np.uint8), kind="rgb")  # an option the inner one lacks is dropped
    strokes = np.zeros((16, 16), np.int32)
    strokes[3, 3] = 1
    out = wrapped.predict(strokes)
    assert out[3, 3] == 1 and out[11, 11] == 0
    with pytest.raises(TypeError, match="not a predictor"):
        ConnectedPredictor(object())


def test_a_single_patch_away_from_the_strokes_is_dropped_too():
    pred = np.zeros((10, 10), np.int32)
    pred[6:9, 6:9] = 1          # the predictor did not keep the stroke's pixel as class 1
    strokes = np.zeros_like(pred)
    strokes[1, 1] = 1
    assert not (keep_connected(pred, strokes) == 1).any()
