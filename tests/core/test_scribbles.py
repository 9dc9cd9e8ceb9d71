import numpy as np
import pytest

from napari_scribbleseg.errors import InputError
from napari_scribbleseg.model.guidance import other_masks, own_masks
from napari_scribbleseg.scribbles import Scribbles, as_label_map, rasterize_path


def test_positive_and_negative_maps_follow_the_classes():
    labels = np.zeros((20, 20), np.int32)
    labels[2, 2:8] = 1
    labels[10, 2:8] = 2
    labels[15, 2:8] = 3
    classes = [1, 2, 3]
    pos, neg = own_masks(labels, classes), other_masks(labels, classes)  # what the model's guidance uses
    assert pos.shape == neg.shape == (3, 20, 20)
    # one class's strokes are every other class's negatives
    assert np.array_equal(neg[0], (labels == 2) | (labels == 3))
    assert not np.any(pos & neg)
    assert np.array_equal(pos.sum(0) + neg.sum(0), 3 * (labels > 0))


def test_rasterized_path_has_the_requested_width_and_reach():
    mask = rasterize_path(np.array([[10, 5], [10, 45]]), (21, 51), width=5)
    assert mask[10, 5] and mask[10, 45]
    column = mask[:, 25]
    assert column.sum() == 5
    assert not mask[0].any()


def test_filled_polygon_covers_its_inside():
    square = np.array([[5, 5], [5, 15], [15, 15], [15, 5]])
    mask = rasterize_path(square, (20, 20), width=1, closed=True, fill=True)
    assert mask[10, 10] and not mask[2, 2]


def test_undo_redo_restore_exactly_several_levels():
    s = Scribbles((30, 30))
    a = s.add_path(1, [[5, 5], [5, 25]], width=3)
    b = s.add_path(2, [[5, 15], [25, 15]], width=3)  # crosses stroke a
    after_two = s.labels.copy()
    assert s.undo() is b
    assert s.labels[5, 15] == 1  # what b overwrote is back
    assert s.undo() is a
    assert s.is_empty()
    assert s.undo() is None
    s.redo()
    s.redo()
    assert np.array_equal(s.labels, after_two)
    assert s.redo() is None


def test_a_new_stroke_clears_the_redo_stack():
    s = Scribbles((10, 10))
    s.add_stroke(1, np.eye(10, dtype=bool))
    s.undo()
    s.add_stroke(2, np.eye(10, dtype=bool)[::-1])
    assert s.redo() is None
    assert s.classes == [2]


def test_record_change_logs_a_painted_layer_edit():
    s = Scribbles((10, 10))
    before = s.labels.copy()
    after = before.copy()
    after[3:5, 3:5] = 4
    stroke = s.record_change(before, after)
    assert stroke.label == 4 and stroke.pixels.size == 4
    assert s.record_change(after, after) is None
    s.undo()
    assert s.is_empty()


def test_clear_is_undoable():
    s = Scribbles((10, 10))
    s.add_stroke(1, np.eye(10, dtype=bool))
    s.clear()
    assert s.is_empty()
    s.undo()
    assert s.classes == [1]


@pytest.mark.parametrize(
    "bad, words",
    [
        (np.zeros((4, 4, 4), np.int32), "2-D"),
        (np.full((4, 4), 0.5), "dtype"),
        (-np.ones((4, 4), np.int32), "negative"),
        (np.full((4, 4), 300, np.int32), "255"),
    ],
)
def test_bad_scribble_maps_are_named(bad, words):
    with pytest.raises(InputError, match=words):
        as_label_map(bad)


def test_shape_mismatch_names_both_shapes():
    with pytest.raises(InputError, match=r"\(4, 4\).*\(5, 5\)"):
        as_label_map(np.zeros((4, 4), np.int32), shape=(5, 5))


@pytest.mark.parametrize(
    "make, words",
    [
        (lambda s: s.record_change(s.labels.copy(), np.ones((4, 4), np.int32)), "shape"),
        (lambda s: s.record_change(s.labels.copy(), np.full((8, 8), 1000)), "at most"),
        (lambda s: s.record_change(s.labels.copy(), np.full((8, 8), -1)), "negative"),
        (lambda s: s.add_stroke(2.7, np.ones((8, 8), bool)), "not an integer"),
        (lambda s: Scribbles((64, 64, 3)), "2-D"),
    ],
)
def test_scribbles_refuse_what_predict_refuses(make, words):
    s = Scribbles((8, 8))
    with pytest.raises(InputError, match=words):
        make(s)
    assert not s.labels.any() and not s.log  # nothing half-painted
