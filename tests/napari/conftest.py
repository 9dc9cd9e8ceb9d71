"""Fixtures for the GUI tests: a viewer with the segmentation widget on a small image, synchronous work."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from napari_scribbleseg._napari._real_input import User
from napari_scribbleseg.predictor import _REGISTRY


def pytest_configure(config):
    config.addinivalue_line("markers", "shown: the test's viewer window is shown so its canvas renders")


class NearestSeed:
    """Each pixel takes the class of the nearest scribbled pixel: exact, fast, no model needed."""

    def set_image(self, image: np.ndarray) -> None:
        self.shape = image.shape[:2]

    def predict(self, scribbles: np.ndarray, prev: np.ndarray | None = None) -> np.ndarray:
        _, (rows, cols) = ndimage.distance_transform_edt(scribbles == 0, return_indices=True)
        return scribbles[rows, cols].astype(np.int32)


class Threshold(NearestSeed):
    """Object = pixels brighter than the mean of the object's strokes' darkest value: follows the image."""

    def set_image(self, image: np.ndarray) -> None:
        self.image = np.asarray(image, float)

    def predict(self, scribbles, prev=None):
        if not np.any(scribbles == 1):  # background strokes only: no object
            return np.where(scribbles > 0, scribbles, 2).astype(np.int32)
        labels = np.where(self.image > self.image[scribbles == 1].min() - 1e-6, 1, 2).astype(np.int32)
        labels[scribbles > 0] = scribbles[scribbles > 0]
        return labels


@pytest.fixture(autouse=True)
def _sync_and_test_predictors(monkeypatch):
    monkeypatch.setenv("SCRIBBLESEG_SYNC", "1")
    monkeypatch.setitem(_REGISTRY, "nearest", NearestSeed)
    monkeypatch.setitem(_REGISTRY, "threshold", Threshold)
    yield


@pytest.fixture
def image() -> np.ndarray:
    """A (40, 60) grey image: a bright disk on the left half."""
    yy, xx = np.mgrid[:40, :60]
    return (((yy - 20) ** 2 + (xx - 15) ** 2) < 100).astype(np.float32) * 200 + 20


@pytest.fixture
def segment(make_napari_viewer, image, request):
    """(viewer, widget) with the widget docked and started on ``image`` with the nearest-seed predictor.

    Tests marked ``shown`` get a shown window, so the canvas really renders (under Xvfb).
    """
    from napari_scribbleseg._napari._segment_widget import SegmentWidget

    viewer = make_napari_viewer(show=request.node.get_closest_marker("shown") is not None)
    viewer.add_image(image, name="photo")
    widget = SegmentWidget(viewer)
    viewer.window.add_dock_widget(widget)
    widget.model_combo.setCurrentText("nearest")
    widget.start("photo")
    return viewer, widget


def _paint(layer, points, label, size=3):
    """Paint a stroke through ``points`` as a brush drag does: one history item, one paint event at its end."""
    layer.brush_size = size
    layer.selected_label = label
    layer._begin_stroke()
    for p in points:
        layer.paint(p, label, refresh=False)
    layer._partial_labels_refresh()
    layer._commit_stroke()


@pytest.fixture
def paint():
    return _paint


@pytest.fixture(autouse=True)
def no_error_notifications(request):
    """Fail a test during which napari showed an error notification (unless it is marked ``errors_expected``).

    Yields the list of messages seen; a test that provokes an error on purpose checks and clears it.
    """
    from napari.utils.notifications import NotificationSeverity, notification_manager

    from napari_scribbleseg._napari import _notify

    _notify._last.clear()  # a message of the test before is no repeat in this one
    seen: list[str] = []

    def record(notification) -> None:
        if notification.severity == NotificationSeverity.ERROR:
            seen.append(str(notification.message))

    notification_manager.notification_ready.connect(record)
    yield seen
    notification_manager.notification_ready.disconnect(record)
    if seen and request.node.get_closest_marker("errors_expected") is None:
        pytest.fail(f"napari showed error notification(s): {seen}")


@pytest.fixture
def user(segment):
    return User(segment[0])
