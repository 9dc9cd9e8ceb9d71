"""Fixtures for the GUI tests: a viewer with the segmentation widget on a small image, synchronous work."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

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


class User:
    """A person at the viewer: clicks buttons found by their text, presses keys and drags on the canvas.

    Everything goes through Qt input events (qtbot), as a mouse and keyboard would send them.
    """

    def __init__(self, qtbot, viewer):
        self.qtbot, self.viewer = qtbot, viewer

    @property
    def canvas(self):
        return self.viewer.window._qt_viewer.canvas

    def button(self, widget, text: str):
        from qtpy.QtWidgets import QPushButton

        found = [b for b in widget.findChildren(QPushButton) if b.text() == text]
        assert len(found) == 1, f"expected one button {text!r}, found {[b.text() for b in widget.findChildren(QPushButton)]}"
        return found[0]

    def click(self, widget, text: str) -> None:
        from qtpy.QtCore import Qt

        button = self.button(widget, text)
        assert button.isEnabled(), f"the button {text!r} is disabled"
        self.qtbot.mouseClick(button, Qt.MouseButton.LeftButton)

    def tick(self, checkbox) -> None:
        """Click a check box on its box (its left end), as a user does."""
        from qtpy.QtCore import QPoint, Qt

        self.qtbot.mouseClick(checkbox, Qt.MouseButton.LeftButton, pos=QPoint(8, checkbox.height() // 2))

    def key(self, key: str, *modifiers: str) -> None:
        """Press ``key`` (a Qt key name: "Z", "Right", "A", "3") with modifiers ("Control", "Alt", "Shift") on the canvas."""
        from qtpy.QtCore import Qt

        mods = Qt.KeyboardModifier.NoModifier
        for m in modifiers:
            mods |= getattr(Qt.KeyboardModifier, f"{m}Modifier")
        self.qtbot.keyClick(self.canvas.native, getattr(Qt.Key, f"Key_{key}"), mods)

    def canvas_position(self, layer, point):
        """Qt widget position of data coordinate ``point`` (the displayed dims) of ``layer``."""
        from qtpy.QtCore import QPointF

        full = np.zeros(layer.ndim)
        full[list(self.viewer.dims.displayed)[-2:]] = point
        for axis in range(layer.ndim):
            if axis not in self.viewer.dims.displayed:
                full[axis] = layer.world_to_data(self.viewer.dims.point)[axis]
        world = np.asarray(layer.data_to_world(full))[list(self.viewer.dims.displayed)]
        view = self.canvas.view
        x, y = (view.transform * view.scene.transform).map(list(world[::-1]))[:2]
        return QPointF(float(x), float(y))

    def drag(self, layer, points, pause_ms: int = 0) -> None:
        """Press the left button at the first data point, move through the others, release at the last."""
        from qtpy.QtCore import QEvent, Qt
        from qtpy.QtGui import QMouseEvent
        from qtpy.QtWidgets import QApplication

        native = self.canvas.native
        left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton

        def send(kind, pos, button, buttons):
            event = QMouseEvent(kind, pos, native.mapToGlobal(pos), button, buttons, Qt.KeyboardModifier.NoModifier)
            QApplication.sendEvent(native, event)

        positions = [self.canvas_position(layer, p) for p in points]
        send(QEvent.Type.MouseButtonPress, positions[0], left, left)
        for pos in positions[1:]:
            send(QEvent.Type.MouseMove, pos, none, left)
            if pause_ms:
                self.qtbot.wait(pause_ms)
        send(QEvent.Type.MouseButtonRelease, positions[-1], left, none)
        QApplication.processEvents()


@pytest.fixture
def user(qtbot, segment):
    return User(qtbot, segment[0])
