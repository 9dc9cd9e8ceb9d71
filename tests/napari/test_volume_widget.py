"""Volumes in the widget: the slice in view is segmented along the displayed axis, scale is honoured,
propagation fills neighbouring slices and stops where the object ends."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.gui


@pytest.fixture
def ball():
    """(20, 40, 40) volume: a bright ball of radius 9 voxels in slices 5..14 (isotropic in mm at scale 2,1,1)."""
    z, y, x = np.mgrid[:20, :40, :40]
    inside = ((z - 10) * 2.0) ** 2 + (y - 20) ** 2 + (x - 20) ** 2 < 81
    return (inside * 150 + 30).astype(np.float32), inside


@pytest.fixture
def volume_widget(make_napari_viewer, ball):
    from napari_scribbleseg._napari._segment_widget import SegmentWidget

    viewer = make_napari_viewer()
    viewer.add_image(ball[0], name="ball", scale=(2.0, 1.0, 1.0))
    widget = SegmentWidget(viewer)
    widget.model_combo.setCurrentText("threshold")
    viewer.dims.set_point(0, 20.0)  # world z = 20 mm -> slice 10
    widget.start("ball")
    return viewer, widget


def _stroke(layer, z, points, label):
    rows, cols = np.array(points).T
    layer.data_setitem((np.full(len(rows), z), rows, cols), label)


def test_slice_in_view_follows_scale_and_axis(volume_widget):
    viewer, widget = volume_widget
    assert widget._key == (0, 10)
    assert tuple(widget.scribble_layer.scale) == (2.0, 1.0, 1.0) == tuple(widget.output_layer.scale)
    _stroke(widget.scribble_layer, 10, [(20, 20), (20, 21)], 1)
    _stroke(widget.scribble_layer, 10, [(2, 2), (2, 3)], 2)
    out = widget.output_layer.data
    assert out[10, 20, 20] == 1 and out[10, 2, 2] == 2
    assert not np.any(out[9])  # only the slice in view is segmented
    viewer.dims.order = (2, 0, 1)  # now slices across x are displayed
    assert widget._current_key()[0] == 2


def test_propagate_through_object_stops_at_its_end(volume_widget, ball):
    viewer, widget = volume_widget
    _stroke(widget.scribble_layer, 10, [(20, 18), (20, 19), (20, 20), (20, 21)], 1)
    _stroke(widget.scribble_layer, 10, [(2, 2), (2, 3), (37, 37)], 2)
    widget.propagate(0)
    committed = widget.committed_layer.data == 1
    gt = ball[1]
    dice = 2 * np.count_nonzero(committed & gt) / (committed.sum() + gt.sum())
    assert dice > 0.8
    assert not np.any(committed[:4]) and not np.any(committed[16:])  # stopped where the ball ends


def test_propagate_next_moves_one_slice_and_keeps_accepted(volume_widget):
    viewer, widget = volume_widget
    _stroke(widget.scribble_layer, 10, [(20, 20), (20, 21)], 1)
    _stroke(widget.scribble_layer, 10, [(2, 2)], 2)
    widget.accept()
    before = widget.committed_layer.data[10].copy()
    widget.propagate(+1)
    assert widget._key == (0, 11)  # the view moved to the propagated slice
    assert np.any(widget.committed_layer.data[11] == 1) and not np.any(widget.committed_layer.data[12])
    assert np.array_equal(widget.committed_layer.data[10], before)
    assert np.any(widget.output_layer.data[11] == 1)  # shown, not wiped by the move


def test_threaded_propagation_shows_progress_and_can_be_cancelled(volume_widget, monkeypatch, qtbot):
    viewer, widget = volume_widget
    _stroke(widget.scribble_layer, 10, [(20, 18), (20, 19), (20, 20), (20, 21)], 1)
    _stroke(widget.scribble_layer, 10, [(2, 2), (2, 3), (37, 37)], 2)
    monkeypatch.delenv("SCRIBBLESEG_SYNC")
    widget.propagate(0)
    assert widget._propagating is not None  # running in a worker; the GUI thread is free
    qtbot.waitUntil(lambda: widget._propagating is None, timeout=20000)
    assert np.any(widget.committed_layer.data[7] == 1) and np.any(widget.committed_layer.data[13] == 1)
    assert "least certain: slice" in widget.status.text()
    accepted = widget.committed_layer.data.copy()
    widget.propagate(0)
    widget.cancel_propagation()  # stops before the next slice; what is committed stays
    qtbot.waitUntil(lambda: widget._propagating is None, timeout=20000)
    assert np.all(widget.committed_layer.data[accepted > 0] > 0)


def test_shapes_undo_and_clear_touch_only_the_slice_in_view(make_napari_viewer, ball):
    from napari_scribbleseg._napari._segment_widget import SegmentWidget

    viewer = make_napari_viewer()
    viewer.add_image(ball[0], name="ball", scale=(2.0, 1.0, 1.0))
    shapes = viewer.add_shapes(
        [np.array([[10, 20, 16], [10, 20, 24]]), np.array([[10, 2, 2], [10, 2, 37]]), np.array([[4, 5, 5], [4, 5, 30]])],
        shape_type=["path"] * 3, features={"label": [1, 2, 1]}, scale=(2.0, 1.0, 1.0), name="strokes",
    )
    widget = SegmentWidget(viewer)
    widget.model_combo.setCurrentText("threshold")
    widget.scribble_combo.setCurrentText("strokes")
    viewer.dims.set_point(0, 20.0)  # slice 10
    widget.start("ball")
    assert widget._key == (0, 10)
    widget.undo()  # the last shape on slice 10 (class 2), not the newer one on slice 4
    assert len(shapes.data) == 2 and list(shapes.features["label"]) == [1, 1]
    assert np.asarray(shapes.data[1])[0, 0] == 4
    widget.redo()
    widget.clear()
    assert len(shapes.data) == 1 and np.asarray(shapes.data[0])[0, 0] == 4  # slice 4's stroke is kept
    assert not np.any(widget.output_layer.data[10])


def test_shapes_in_world_units_land_on_the_right_slice(volume_widget):
    viewer, widget = volume_widget  # the ball has scale (2, 1, 1): world z 20 mm is slice 10
    shapes = viewer.add_shapes(
        [np.array([[20, 20, 16], [20, 20, 24]]), np.array([[20, 2, 2], [20, 2, 37]])],
        shape_type=["path", "path"], features={"label": [1, 2]}, name="strokes",
    )
    widget.scribble_combo.setCurrentText("strokes")
    widget.start("ball")
    assert widget.scribble_layer is shapes and widget._key == (0, 10)
    scribbles = widget.segmenter.scribbles_of((0, 10)).labels
    assert scribbles[20, 20] == 1 and scribbles[2, 20] == 2
    widget.undo()  # the class-2 stroke lies on slice 10 in the image's coordinates
    assert len(shapes.data) == 1 and list(shapes.features["label"]) == [1]
