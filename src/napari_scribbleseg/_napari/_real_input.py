"""Drive a viewer and its dock widgets through Qt input events, as a mouse and a keyboard do.

Used by the GUI tests, ``benchmarks/widget_latency.py`` and ``docs/make_screenshots.py``: buttons are
found by their text and clicked, keys are pressed on the canvas (napari routes them to the active
layer's key bindings), and strokes are dragged on the canvas from data coordinates mapped through the
layer's and the camera's transforms to widget pixels.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from qtpy.QtCore import QEvent, QPoint, QPointF, Qt
from qtpy.QtGui import QMouseEvent
from qtpy.QtTest import QTest
from qtpy.QtWidgets import QApplication, QPushButton, QWidget


class User:
    """A person at ``viewer``: :meth:`click`, :meth:`tick`, :meth:`key` and :meth:`drag`."""

    def __init__(self, viewer: Any) -> None:
        self.viewer = viewer

    @property
    def canvas(self) -> Any:
        return self.viewer.window._qt_viewer.canvas

    def button(self, widget: QWidget, text: str) -> QPushButton:
        """The one push button of ``widget`` labelled ``text``."""
        found = [b for b in widget.findChildren(QPushButton) if b.text() == text]
        if len(found) != 1:
            raise LookupError(f"expected one button {text!r}, found {[b.text() for b in widget.findChildren(QPushButton)]}")
        return found[0]

    def click(self, widget: QWidget, text: str) -> None:
        """Click the button labelled ``text`` (it must be enabled, as for a person)."""
        button = self.button(widget, text)
        if not button.isEnabled():
            raise RuntimeError(f"the button {text!r} is disabled")
        QTest.mouseClick(button, Qt.MouseButton.LeftButton)

    def tick(self, checkbox: QWidget) -> None:
        """Click a check box on its box (its left end)."""
        QTest.mouseClick(checkbox, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(8, checkbox.height() // 2))

    def key(self, key: str, *modifiers: str) -> None:
        """Press ``key`` (a Qt key name: "Z", "Right", "3") with modifiers ("Control", "Alt", "Shift") on the canvas."""
        mods = Qt.KeyboardModifier.NoModifier
        for m in modifiers:
            mods |= getattr(Qt.KeyboardModifier, f"{m}Modifier")
        QTest.keyClick(self.canvas.native, getattr(Qt.Key, f"Key_{key}"), mods)

    def canvas_position(self, layer: Any, point: Sequence[float]) -> QPointF:
        """Widget position on the canvas of ``point``, data coordinates of ``layer`` in the displayed dims."""
        displayed = list(self.viewer.dims.displayed)[-2:]
        full = np.asarray(layer.world_to_data(self.viewer.dims.point), float)
        full[displayed[-2:]] = point
        world = np.asarray(layer.data_to_world(full))[displayed]
        view = self.canvas.view
        x, y = (view.transform * view.scene.transform).map(list(world[::-1]))[:2]
        return QPointF(float(x), float(y))

    def press(self, layer: Any, point: Sequence[float]) -> None:
        self._send(QEvent.Type.MouseButtonPress, self.canvas_position(layer, point), Qt.MouseButton.LeftButton, Qt.MouseButton.LeftButton)

    def move(self, layer: Any, point: Sequence[float]) -> None:
        self._send(QEvent.Type.MouseMove, self.canvas_position(layer, point), Qt.MouseButton.NoButton, Qt.MouseButton.LeftButton)

    def release(self, layer: Any, point: Sequence[float]) -> None:
        self._send(QEvent.Type.MouseButtonRelease, self.canvas_position(layer, point), Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton)

    def drag(self, layer: Any, points: Sequence[Sequence[float]]) -> None:
        """Press the left button at the first data point, move through the others, release at the last."""
        self.press(layer, points[0])
        for p in points[1:]:
            self.move(layer, p)
            QApplication.processEvents()  # as between a person's moves: napari handles each in turn
        self.release(layer, points[-1])
        QApplication.processEvents()

    def _send(self, kind: QEvent.Type, pos: QPointF, button: Qt.MouseButton, buttons: Qt.MouseButton) -> None:
        native = self.canvas.native
        event = QMouseEvent(kind, pos, native.mapToGlobal(pos), button, buttons, Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(native, event)
