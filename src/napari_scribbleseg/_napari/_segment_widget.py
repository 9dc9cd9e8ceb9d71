"""The segmentation dock widget: paint strokes per class, see the segmentation follow, accept it.

The widget owns an :class:`~napari_scribbleseg.interactive.InteractiveSegmenter` and only moves arrays
between it and three layers: the image, the scribbles (a Labels layer painted by the user, or a Shapes
layer) and the prediction (a Labels layer it writes); "Accept" copies the prediction into a committed
Labels layer without touching labels it did not write.

Keys on the scribble layer: Ctrl+Z / Ctrl+Shift+Z undo / redo a stroke (the prediction follows),
Alt+1..Alt+9 pick the class, Alt+A accepts, Alt+Left / Alt+Right propagate to the previous / next slice,
Alt+Up propagates through the object.

``SCRIBBLESEG_SYNC=1`` runs every prediction on the GUI thread (deterministic tests, debugging).
"""

from __future__ import annotations

import os
import uuid
from typing import Any

import numpy as np
from napari.layers import Image, Labels, Shapes
from napari.utils.colormaps import DirectLabelColormap
from qtpy.QtCore import Qt
from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QLabel,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from napari_scribbleseg.errors import InputError
from napari_scribbleseg.instances import InstanceAnnotator
from napari_scribbleseg.interactive import CommitLedger, InteractiveSegmenter, Result, make_predictor_or_peer
from napari_scribbleseg.slicing import slice_key
from napari_scribbleseg.predictor import Predictor, available_predictors, get_predictor
from napari_scribbleseg._napari import _layers
from napari_scribbleseg._napari._class_table import ClassTable
from napari_scribbleseg._napari import _notify
from napari_scribbleseg._napari._layer_combo import LayerCombo
from napari_scribbleseg._napari._notify import notify_errors, report
from napari_scribbleseg._napari._signals import on, start_worker

NEW = "<new>"
DEVICES = ["auto", "cpu", "cuda", "mps"]
#: key of the committed layer's metadata naming it in the accept ledger (interactive.CommitLedger)
COMMIT_TOKEN = "scribbleseg_commit_token"


def synchronous() -> bool:
    """Whether work runs on the GUI thread (``SCRIBBLESEG_SYNC=1``) instead of napari worker threads."""
    return os.environ.get("SCRIBBLESEG_SYNC", "") not in ("", "0")


class SegmentWidget(QWidget):
    """Dock widget for live scribble segmentation of the selected image layer."""

    def __init__(self, napari_viewer: Any):
        super().__init__()
        self.viewer = napari_viewer
        self.segmenter: InteractiveSegmenter | None = None
        self.image_layer: Image | None = None
        self.scribble_layer: Labels | Shapes | None = None
        self.output_layer: Labels | None = None
        self.committed_layer: Labels | None = None
        self._predictor: Predictor | None = None
        self._checkpoint: str | None = None
        self._ledger = CommitLedger()  # what accepts wrote into each committed layer (by its metadata token)
        self._key: tuple = ()
        self._worker: Any = None
        self._pending = None
        self._prefetcher: Any = None
        self._connected: set[int] = set()  # ids of scribble layers whose events reach this widget
        self._shapes = _layers.ShapeHistory()  # shapes taken back by undo on a Shapes scribble layer
        self._propagating: Any = None
        self._cancel_propagation: Any = lambda: None
        self._writing = False  # True while the widget itself writes the scribble layer
        self._annotator: InstanceAnnotator | None = None  # instance mode: ids written into the committed layer
        self._accepts: list[tuple[tuple, int]] = []  # instance mode: (slice, stroke-log length) after each accept
        self._editing: int | None = None  # instance mode: id of the committed object being corrected
        self._carrying: int | None = None  # instance mode: id of the object a running propagation carries
        self._carried: int | None = None  # instance mode: id of the object last propagated
        self.last_result: Result | None = None
        self._build_ui()
        self._connect_viewer()
        self._refresh_layer_choices()

    # UI -----------------------------------------------------------------------------------------
    def _build_ui(self) -> None:
        self.image_combo = LayerCombo()
        self.scribble_combo = LayerCombo()
        self.committed_combo = LayerCombo()
        self.start_button = QPushButton("Start on image")
        on(self.start_button.clicked, self.start)
        layers = QFormLayout()
        layers.addRow("image", self.image_combo)
        layers.addRow("scribbles", self.scribble_combo)
        layers.addRow("accept into", self.committed_combo)
        self.instances = QCheckBox("instances: each accept is a new object")
        self.instances.setToolTip(
            "Accept writes the object (every class not marked background) under the next free label id, "
            "clears its strokes and is ready for the next; earlier objects are never overwritten and count "
            "as background. Undo right after an accept takes the object back."
        )
        on(self.instances.toggled, self._instances_toggled)
        layers.addRow(self.instances)
        layers.addRow(self.start_button)

        self.model_combo = QComboBox()
        self.model_combo.addItems(available_predictors())
        if "default" in available_predictors():
            self.model_combo.setCurrentText("default")
        on(self.model_combo.currentTextChanged, self._model_changed)
        self.device_combo = QComboBox()
        self.device_combo.addItems(DEVICES)
        on(self.device_combo.currentTextChanged, self._model_changed)
        load = QPushButton("Load checkpoint...")
        on(load.clicked, self._ask_checkpoint)
        model = QFormLayout()
        model.addRow("model", self.model_combo)
        model.addRow("device", self.device_combo)
        model.addRow(load)
        self.connected = QCheckBox("keep only parts touching their strokes")
        self.connected.setToolTip(
            "A class's patches that touch none of its strokes are dropped, so painting one object never "
            "lights up a look-alike elsewhere. Untick when a class means every such thing (all cells of a type)."
        )
        self.connected.setChecked(True)
        on(self.connected.toggled, self._model_changed)
        model.addRow(self.connected)
        self.propagate_growcut = QCheckBox("model: propagate across slices with GrowCut")
        self.propagate_growcut.setToolTip(
            "With the model as predictor, propagation carries a slice to its neighbours with GrowCut's geodesic "
            "competition; the model still segments every slice you scribble. On the dev volumes this carries "
            "a slice further than the model does (docs/BENCHMARKS.md, Volumes). Untick to propagate with the model."
        )
        self.propagate_growcut.setChecked("growcut" in available_predictors())
        on(self.propagate_growcut.toggled, self._apply_propagator)
        model.addRow(self.propagate_growcut)
        self.walk_3d = QCheckBox("through object: finish in 3-D (random walker)")
        self.walk_3d.setToolTip(
            "After 'Through object' has propagated slice by slice, a 3-D random walker seeded by every slice "
            "you segmented or accepted re-segments the object through all its slices, along the volume's edges in "
            "all three directions, keeping the slice-by-slice result where your slices' intensities favour it; "
            "your slices stay as they are. On the dev volumes this is more accurate "
            "(docs/BENCHMARKS.md, Volumes); untick for slice-by-slice propagation only."
        )
        self.walk_3d.setChecked(True)
        on(self.walk_3d.toggled, self._apply_propagator)
        model.addRow(self.walk_3d)

        self.classes = ClassTable()
        on(self.classes.changed, self._apply_colors)
        self.classes.selected.connect(self.select_class)

        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(50)
        on(self.opacity.valueChanged, self._apply_display)
        self.contour = QCheckBox("contour only")
        on(self.contour.toggled, self._apply_display)
        self.live = QCheckBox("update while painting")
        self.live.setChecked(True)
        display = QFormLayout()
        display.addRow("opacity", self.opacity)
        display.addRow(self.contour)
        display.addRow(self.live)

        grid = QGridLayout()
        self.buttons: dict[str, QPushButton] = {}
        for i, (name, slot, tip) in enumerate(
            [
                ("Accept", self.accept, "copy the prediction into the committed layer (Alt+A)"),
                ("Clear", self.clear, "erase the strokes and prediction of this slice"),
                ("Undo", self.undo, "undo the last stroke (Ctrl+Z)"),
                ("Redo", self.redo, "redo (Ctrl+Shift+Z)"),
                ("< Propagate", self.propagate_previous, "segment the previous slice from this one (Alt+Left)"),
                ("Propagate >", self.propagate_next, "segment the next slice from this one (Alt+Right)"),
                ("Through object", self.propagate_through, "propagate both ways until the object ends (Alt+Up)"),
                ("Cancel", self.cancel_propagation, "stop a running propagation (slices done are kept)"),
                ("Edit object", self.pick_object, "instances: click a committed object to correct it under its id"),
            ]
        ):
            button = QPushButton(name)
            button.setToolTip(tip)
            on(button.clicked, slot)
            self.buttons[name] = button
            grid.addWidget(button, i // 2, i % 2)

        self.status = QLabel("pick an image and press Start")
        self.status.setWordWrap(True)

        layout = QVBoxLayout(self)
        for title, inner in [("layers", layers), ("model", model), ("display", display)]:
            box = QGroupBox(title)
            box.setLayout(inner)
            layout.addWidget(box)
        layout.addWidget(QLabel("classes (Alt+1..9 to pick)"))
        layout.addWidget(self.classes)
        layout.addLayout(grid)
        layout.addWidget(self.status)
        layout.addStretch(1)

    def _connect_viewer(self) -> None:
        self.viewer.layers.events.inserted.connect(self._refresh_layer_choices)
        self.viewer.layers.events.removed.connect(self._layer_removed)
        self.viewer.dims.events.current_step.connect(self._dims_changed)
        self.viewer.dims.events.order.connect(self._dims_changed)

    def _refresh_layer_choices(self, event: Any = None) -> None:
        for combo, kinds, new in [
            (self.image_combo, (Image,), False),
            (self.scribble_combo, (Labels, Shapes), True),
            (self.committed_combo, (Labels,), True),
        ]:
            current = combo.currentText()
            names = [layer.name for layer in self.viewer.layers if isinstance(layer, kinds)]
            names = [n for n in names if n not in self._own_layer_names()]
            combo.blockSignals(True)
            combo.clear()
            combo.addItems(([NEW] if new else []) + names)
            if current in names or (new and current == NEW):
                combo.setCurrentText(current)
            combo.blockSignals(False)
        if self.committed_layer is not None and self.committed_layer.name in self._names():
            self.committed_combo.setCurrentText(self.committed_layer.name)
        if self.scribble_layer is not None and self.scribble_layer.name in self._names():
            self.scribble_combo.setCurrentText(self.scribble_layer.name)

    def _names(self) -> list[str]:
        return [layer.name for layer in self.viewer.layers]

    def _own_layer_names(self) -> set[str]:
        return {self.output_layer.name} if self.output_layer is not None else set()

    def _layer_removed(self, event: Any) -> None:
        removed = event.value
        if removed is self.image_layer:
            self.segmenter = None
            self.image_layer = None
            self.status.setText("the image layer was removed; pick another and press Start")
        if removed is self.scribble_layer:
            self.scribble_layer = None
        if removed is self.output_layer:
            self.output_layer = None
        if removed is self.committed_layer:
            self.committed_layer = None
        # state keyed by id(layer): Python reuses the id of a freed layer for a new one, which would
        # otherwise inherit it (a scribble layer never connected, user labels taken for ours)
        if isinstance(removed, Labels) and COMMIT_TOKEN in removed.metadata:
            self._ledger.forget(removed.metadata[COMMIT_TOKEN])
        if id(removed) in self._connected:
            self._disconnect_scribbles(removed)
            self._shapes.clear()
        self._refresh_layer_choices()

    # set-up -------------------------------------------------------------------------------------
    @notify_errors
    def start(self, image: Image | str | None = None) -> None:
        """Segment ``image`` (a layer or its name; default: the one picked in the combo box)."""
        name = image.name if isinstance(image, Image) else image or self.image_combo.currentText()
        if not name or name not in self._names():
            raise InputError("there is no image layer; open an image (File > Open) or a sample first")
        layer = self.viewer.layers[name]
        data = _layers.image_array(layer)
        shape = _layers.spatial_shape(layer)
        scribbles = self._scribble_layer_for(layer, shape)
        committed = self._committed_layer_for(layer, shape)
        predictor = self._ensure_predictor()
        self.segmenter = self._segmenter_for(predictor, data, layer)
        self._apply_propagator()
        self.image_layer = layer
        self.scribble_layer = scribbles
        self.committed_layer = committed
        self.output_layer = self._output_layer_for(layer, shape)
        self._connect_scribbles(scribbles)
        self._apply_colors()
        self._apply_display()
        self._refresh_layer_choices()
        self.viewer.layers.selection.active = scribbles
        if isinstance(scribbles, Labels):
            scribbles.mode = "paint"
            scribbles.selected_label = 1
        self.viewer.reset_view()  # an image added before the widget was docked may lie partly out of view
        self._key = self._current_key()
        self._load_existing_strokes()
        self.status.setText(f"segmenting {layer.name!r}; paint with the scribble layer's brush")

    @staticmethod
    def _segmenter_for(predictor: Predictor, data: np.ndarray, layer: Image) -> InteractiveSegmenter:
        spacing = tuple(float(s) for s in layer.scale[-3:]) if data.ndim == 3 and not layer.rgb else (1.0, 1.0, 1.0)
        return InteractiveSegmenter(
            predictor, data, rgb=bool(layer.rgb), kind=layer.metadata.get("kind"), spacing=spacing
        )

    def _scribble_layer_for(self, image: Image, shape: tuple[int, ...]) -> Labels | Shapes:
        choice = self.scribble_combo.currentText()
        if self._made_for_another_image(choice, self.scribble_layer, image):
            choice = NEW
        if choice and choice != NEW and choice in self._names():
            layer = self.viewer.layers[choice]
            if isinstance(layer, Labels):
                _layers.check_labels_layer(layer, shape, "scribble")
            return layer
        return self.viewer.add_labels(
            np.zeros(shape, np.uint8 if self.classes.table.rowCount() < 255 else np.int32),
            name=_layers.derived_name("scribbles", image.name),
            scale=image.scale[-len(shape):],
            translate=image.translate[-len(shape):],
            opacity=0.9,
        )

    def _committed_layer_for(self, image: Image, shape: tuple[int, ...]) -> Labels:
        choice = self.committed_combo.currentText()
        if self._made_for_another_image(choice, self.committed_layer, image):
            choice = NEW
        if choice and choice != NEW and choice in self._names():
            layer = self.viewer.layers[choice]
            _layers.check_labels_layer(layer, shape, "committed")
            return layer
        return self.viewer.add_labels(
            np.zeros(shape, np.int32),
            name=_layers.derived_name("segmentation", image.name),
            scale=image.scale[-len(shape):],
            translate=image.translate[-len(shape):],
            metadata=dict(image.metadata),  # geometry (direction) travels to the writer
        )

    def _made_for_another_image(self, choice: str, current: Any, image: Image) -> bool:
        """Whether ``choice`` is the layer this widget used for a different image (so a new one is made)."""
        return current is not None and choice == current.name and image is not self.image_layer

    def _output_layer_for(self, image: Image, shape: tuple[int, ...]) -> Labels:
        if self.output_layer is not None and self.output_layer in self.viewer.layers:
            if tuple(self.output_layer.data.shape) == tuple(shape):
                self.output_layer.data[...] = 0
                self.output_layer.refresh()
                return self.output_layer
            self.viewer.layers.remove(self.output_layer)
        return self.viewer.add_labels(
            np.zeros(shape, np.int32),
            name=_layers.derived_name("prediction", image.name),
            scale=image.scale[-len(shape):],
            translate=image.translate[-len(shape):],
            blending="translucent_no_depth",
        )

    def _connect_scribbles(self, layer: Labels | Shapes) -> None:
        if id(layer) in self._connected:
            return
        if isinstance(layer, Labels):
            layer.events.paint.connect(self._stroke_finished)
            layer.events.labels_update.connect(self._stroke_moving)
            layer.events.selected_label.connect(self._label_picked)
        layer.events.data.connect(self._stroke_finished)
        bindings = {
            "Control-Z": self.undo,
            "Control-Shift-Z": self.redo,
            "Alt-A": self.accept,
            "Alt-Left": self.propagate_previous,
            "Alt-Right": self.propagate_next,
            "Alt-Up": self.propagate_through,
        }
        bindings.update({f"Alt-{k}": (lambda k=k: self.select_class(k)) for k in range(1, 10)})
        for key, action in bindings.items():
            layer.bind_key(key, lambda _layer, action=action: action(), overwrite=True)
        self._connected.add(id(layer))

    def _disconnect_scribbles(self, layer: Labels | Shapes) -> None:
        """Undo :meth:`_connect_scribbles` (the layer left the viewer; it may come back or its id be reused)."""
        if isinstance(layer, Labels):
            layer.events.paint.disconnect(self._stroke_finished)
            layer.events.labels_update.disconnect(self._stroke_moving)
            layer.events.selected_label.disconnect(self._label_picked)
        layer.events.data.disconnect(self._stroke_finished)
        self._connected.discard(id(layer))

    def _label_picked(self, event: Any) -> None:
        """The scribble layer's brush label changed (napari's own controls): show it in the class table."""
        self.classes.select(int(event.source.selected_label))

    # model --------------------------------------------------------------------------------------
    def _apply_propagator(self) -> None:
        """With the model as predictor and the switch on, hand the controller GrowCut for the propagation
        steps (measured for the model only); every other predictor propagates itself. The 3-D switch
        holds for every predictor."""
        if self.segmenter is not None:
            from napari_scribbleseg.session import Session

            growcut = self.propagate_growcut.isChecked() and isinstance(self.segmenter.predictor, Session)
            self.segmenter.set_propagator(get_predictor("growcut") if growcut else None)
            self.segmenter.walk_3d = self.walk_3d.isChecked()

    def set_predictor(self, predictor: Predictor | str) -> None:
        """Use ``predictor`` (a name of :func:`get_predictor` or a predictor object) from now on."""
        if isinstance(predictor, str):
            self.model_combo.setCurrentText(predictor)
            self._predictor = None
            self._ensure_predictor()
        else:
            self._predictor = get_predictor(predictor)
        if self.segmenter is not None:
            self.segmenter.set_predictor(self._predictor)
            self._apply_propagator()
            self.predict()

    def _ensure_predictor(self) -> Predictor:
        if self._predictor is None:
            self._predictor, used, warning = make_predictor_or_peer(
                self.model_combo.currentText(), self.device_combo.currentText(), self.connected.isChecked(),
                self._checkpoint,
            )
            if warning is not None:  # the model is missing: say so and show the peer used instead
                _notify.show_warning(warning)
                self.model_combo.blockSignals(True)
                self.model_combo.setCurrentText(used)
                self.model_combo.blockSignals(False)
        return self._predictor

    @notify_errors
    def _model_changed(self, _text: str = "") -> None:
        self._predictor = None
        if self.segmenter is not None:
            self.set_predictor(self._ensure_predictor())

    def _ask_checkpoint(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load checkpoint", "", "PyTorch checkpoint (*.pt *.pth)")
        if path:
            self.load_checkpoint(path)

    @notify_errors
    def load_checkpoint(self, path: str) -> None:
        """Use the model in checkpoint ``path`` (a self-describing ``.pt`` file)."""
        self._checkpoint = str(path)
        # without blocking, the combo's signal would build (and fail) the model once more on its own
        self.model_combo.blockSignals(True)
        self.model_combo.setCurrentText("default")
        self.model_combo.blockSignals(False)
        self._predictor = None
        try:
            self.set_predictor(self._ensure_predictor())
        except Exception:
            self._checkpoint = None
            raise
        _notify.show_info(f"loaded checkpoint {os.path.basename(path)}")

    # classes and display ------------------------------------------------------------------------
    def select_class(self, value: int) -> None:
        """Make class ``value`` the brush's label (adds classes up to it if needed)."""
        while self.classes.table.rowCount() < value:
            self.classes.add_class()
        self.classes.select(value)
        layer = self.scribble_layer
        if isinstance(layer, Labels) and layer.selected_label != value:
            layer.selected_label = value
        elif isinstance(layer, Shapes):
            _layers.set_shape_class(layer, value)

    def _apply_colors(self) -> None:
        colors = self.classes.colors()
        background = set(self.classes.background())
        transparent = np.zeros(4)
        if isinstance(self.scribble_layer, Labels):
            self.scribble_layer.colormap = DirectLabelColormap(
                color_dict={None: transparent, 0: transparent, **colors}
            )
        if self.committed_layer is not None and self.instances.isChecked():
            from napari.utils.colormaps import label_colormap

            self.committed_layer.colormap = label_colormap()  # one colour per object id, cycling
        for layer in (self.output_layer, self.committed_layer):
            if layer is self.committed_layer and self.instances.isChecked():
                continue
            if layer is not None:
                shown = {k: (transparent if k in background else c) for k, c in colors.items()}
                layer.colormap = DirectLabelColormap(color_dict={None: np.array([0.5, 0.5, 0.5, 1]), 0: transparent, **shown})

    def _apply_display(self) -> None:
        if self.output_layer is not None:
            self.output_layer.opacity = self.opacity.value() / 100
            self.output_layer.contour = 2 if self.contour.isChecked() else 0

    # slices -------------------------------------------------------------------------------------
    def _current_key(self) -> tuple:
        if self.image_layer is None:
            return ()
        if self.image_layer not in self.viewer.layers:  # being removed: keep the last slice
            return self._key
        return _layers.slice_in_view(self.image_layer, np.asarray(self.viewer.dims.point), tuple(self.viewer.dims.displayed))

    @notify_errors
    def _dims_changed(self, event: Any = None) -> None:
        if self.segmenter is None or not self.segmenter.is_volume:
            return
        key = self._current_key()
        if key == self._key:
            return
        self._key = key
        self._load_existing_strokes()
        self._prefetch_neighbours()

    def _prefetch_neighbours(self) -> None:
        keys = self.segmenter.neighbours(self._key, reach=2)
        if synchronous() or not keys:
            return
        if self._prefetcher is None:  # one at a time; the next slice change asks again
            self._prefetcher = start_worker(
                self.segmenter.prefetch, keys, finished=lambda: setattr(self, "_prefetcher", None)
            )

    def _load_existing_strokes(self) -> None:
        """Take what the scribble layer already holds on the slice in view as the slice's strokes."""
        if self.segmenter is None or self.scribble_layer is None:
            return
        painted = self._painted()
        known = self.segmenter.scribbles_of(self._key).labels
        if not np.array_equal(painted, known):
            self.segmenter.record(self._key, painted)
        if not np.any(painted) and self._key in self.segmenter.predictions:
            self._show(self.segmenter.predictions[self._key])  # e.g. a propagated slice: nothing to redo
            return
        self.predict()

    def _painted(self) -> np.ndarray:
        shape = self.segmenter.slice_shape(self._key)
        if isinstance(self.scribble_layer, Shapes):
            return _layers.shapes_slice(self.scribble_layer, self._key, shape, self.image_layer)
        return _layers.labels_slice(self.scribble_layer, self._key)

    # strokes ------------------------------------------------------------------------------------
    @notify_errors
    def _stroke_finished(self, event: Any = None) -> None:
        if self._writing or self.segmenter is None:
            return
        self._key = self._current_key()
        if isinstance(self.scribble_layer, Labels) and getattr(event, "type", None) == "paint":
            painted = _layers.labels_slice_after(self.scribble_layer, self._key, event.value)
        else:
            painted = self._painted()
        if self.segmenter.record(self._key, painted):
            self.predict()

    @notify_errors
    def _stroke_moving(self, event: Any = None) -> None:
        """While a stroke is being dragged: predict from the partial stroke if the worker is idle."""
        if self._writing or self.segmenter is None or not self.live.isChecked() or self._worker is not None:
            return
        if synchronous() or not isinstance(self.scribble_layer, Labels):
            return
        painted = self._painted()
        if np.array_equal(painted, self.segmenter.scribbles_of(self._key).labels):
            return  # nothing beyond the logged strokes: not mid-drag
        self._launch(self.segmenter.request(self._key, painted))

    @notify_errors
    def undo(self) -> None:
        """Take back the last stroke of the slice in view (a Shapes layer: its last shape); right after an
        accept in instance mode, the accepted object (its strokes come back)."""
        if self._undo_accept():
            return
        if isinstance(self.scribble_layer, Shapes):
            self._shape_history(self.scribble_layer, undo=True)
        else:
            self._restore(self.segmenter.undo(self._key) if self.segmenter else None)

    @notify_errors
    def redo(self) -> None:
        """Paint again the last stroke taken back."""
        if isinstance(self.scribble_layer, Shapes):
            self._shape_history(self.scribble_layer, undo=False)
        else:
            self._restore(self.segmenter.redo(self._key) if self.segmenter else None)

    def _shape_history(self, layer: Shapes, undo: bool) -> bool:
        """Undo removes the last shape on the slice in view (kept for redo), redo adds it back; the layer's
        data event re-predicts. Returns whether a shape was removed or added."""
        if undo:
            return self._shapes.undo(layer, _layers.shapes_on_slice(layer, self._key, self.image_layer))
        return self._shapes.redo(layer)

    @notify_errors
    def clear(self) -> None:
        """Erase the strokes of the slice in view (undoable stroke by stroke) and its prediction."""
        if self.segmenter is None:
            return
        if isinstance(self.scribble_layer, Shapes):
            while self._shape_history(self.scribble_layer, undo=True):  # other slices' shapes stay
                pass
        self._restore(self.segmenter.clear(self._key))
        self._show(np.zeros(self.segmenter.slice_shape(self._key), np.int32))

    def _restore(self, labels: np.ndarray | None) -> None:
        if labels is None:
            return
        if isinstance(self.scribble_layer, Labels):
            self._writing = True
            try:
                _layers.write_slice(self.scribble_layer, self._key, labels)
            finally:
                self._writing = False
        self.predict()

    # prediction ---------------------------------------------------------------------------------
    def predict(self) -> None:
        """Predict the slice in view from its strokes (in a worker thread unless SCRIBBLESEG_SYNC=1)."""
        if self.segmenter is None:
            return
        request = self.segmenter.request(self._key)
        if self._worker is not None:
            self._pending = request  # newest wins; the running one will be dropped as stale
            return
        self._launch(request)

    def _launch(self, request: Any) -> None:
        self._pending = None
        if synchronous():
            try:
                self._deliver(self.segmenter.run(request))
            except Exception as exc:  # noqa: BLE001 - a failed prediction must not lose the strokes
                report(exc)
            return
        self._worker = start_worker(self.segmenter.run, request, returned=self._deliver, finished=self._worker_finished)

    def _worker_finished(self) -> None:
        self._worker = None
        if self._pending is not None:
            self._launch(self._pending)

    def _deliver(self, result: Result) -> None:
        if self.segmenter is None or not self.segmenter.deliver(result):
            return
        self.last_result = result
        if result.key == self._key:
            self._show(result.labels)
        if np.any(result.labels):
            text = f"scribbleseg: {result.t_predict_ms:.0f} ms per stroke"
            if result.t_image_ms:
                text += f", {result.t_image_ms:.0f} ms image features"
        else:
            text = f"scribbleseg: image ready ({result.t_image_ms:.0f} ms); paint a stroke"
        self.viewer.status = text
        self.status.setText(text)

    def _show(self, labels: np.ndarray) -> None:
        layer = self.output_layer
        if layer is None or layer not in self.viewer.layers:
            return
        if self.instances.isChecked() and self.committed_layer is not None:
            # accepted objects are background for the next one: the prediction never shows over them
            held = _layers.labels_slice(self.committed_layer, self._key)
            taken = (held != 0) & (held != (self._editing or 0))
            labels = np.where(taken, (self.classes.background() or [0])[0], labels)
        layer.data[slice_key(self._key)] = labels
        layer.refresh()

    # accept and propagate -----------------------------------------------------------------------
    def _instances_toggled(self) -> None:
        self._annotator = None
        self._accepts.clear()
        self._apply_colors()
        if self.segmenter is not None and self._key in self.segmenter.predictions:
            self._show(self.segmenter.predictions[self._key])

    def _instance_annotator(self) -> InstanceAnnotator:
        layer = self.committed_layer
        if self._annotator is None or self._annotator.committed is not layer.data:
            self._annotator = InstanceAnnotator(layer.data)
            self._accepts.clear()
        return self._annotator

    def _accept_instance(self, labels: np.ndarray) -> None:
        """Instance mode: the object (non-background classes) under a new id; its strokes are cleared."""
        background = self.classes.background()
        objects = [k for k in np.unique(labels).tolist() if k > 0 and k not in background]
        if self._editing is not None:  # a correction goes back under the object's own id
            label, self._editing = self._instance_annotator().replace(self._key, self._editing, np.isin(labels, objects)), None
        else:
            label = self._instance_annotator().commit(self._key, np.isin(labels, objects))
        self.committed_layer.refresh()
        self.segmenter.forget_prediction(self._key)  # the next object starts from no previous mask
        self._restore(self.segmenter.erase_classes(self._key, objects))
        self._accepts.append((self._key, len(self.segmenter.scribbles_of(self._key).log)))
        self.status.setText(f"object {label} accepted; paint the next one (Undo takes it back)")

    def pick_object(self) -> None:
        """Instance mode: the next click on the canvas picks the committed object to correct."""
        if not self.instances.isChecked() or self.segmenter is None or self.committed_layer is None:
            _notify.show_warning("tick 'instances' and press Start first; then pick an object to correct")
            return
        if isinstance(self.scribble_layer, Labels):
            self.scribble_layer.mode = "pan_zoom"  # the next click picks, it does not paint
        if self._picked not in self.viewer.mouse_drag_callbacks:
            self.viewer.mouse_drag_callbacks.append(self._picked)
        self.status.setText("click the object to correct")

    def _picked(self, viewer: Any, event: Any):
        """The click of :meth:`pick_object` (a napari drag callback): pick on press, paint again on release."""
        viewer.mouse_drag_callbacks.remove(self._picked)
        self._pick_at(event.position)
        yield
        while event.type == "mouse_move":
            yield
        if isinstance(self.scribble_layer, Labels):
            self.scribble_layer.mode = "paint"  # after the release: this click painted nothing

    @notify_errors
    def _pick_at(self, position: Any) -> None:
        """The committed object at world ``position`` becomes the previous mask to refine."""
        value = self.committed_layer.get_value(position, world=True)
        if not value:
            raise InputError("no committed object there; press Edit object and click inside an object")
        self._editing = int(value)
        taken = _layers.labels_slice(self.committed_layer, self._key) == self._editing
        background = (self.classes.background() or [0])[0]
        self.segmenter.set_prediction(self._key, np.where(taken, 1, background))
        self._show(self.segmenter.predictions[self._key])
        self.status.setText(f"correcting object {self._editing}: paint class 1 to add, the background to remove, then Accept")

    def _undo_accept(self) -> bool:
        """Undo the last instance accept if nothing was painted on its slice since; whether it did."""
        if not self.instances.isChecked() or not self._accepts or self.segmenter is None:
            return False
        key, length = self._accepts[-1]
        if key != self._key or len(self.segmenter.scribbles_of(key).log) != length:
            return False
        self._accepts.pop()
        label = self._instance_annotator().undo()
        self.committed_layer.refresh()
        self._restore(self.segmenter.undo(key))  # the object's strokes come back
        self.status.setText(f"object {label} taken back")
        return True

    @notify_errors
    def accept(self) -> None:
        """Write the prediction of the slice in view into the committed layer, keeping foreign labels.

        In instance mode the object goes in under the next free id instead (:mod:`napari_scribbleseg.instances`).
        """
        if self.segmenter is None:
            raise InputError("nothing to accept yet: press Start and paint a few strokes")
        labels = self.segmenter.predictions.get(self._key)
        if labels is None:
            raise InputError("nothing to accept on this slice yet: paint a stroke and wait for the prediction")
        if not self.segmenter.is_current(self._key):  # never commit a result older than the strokes
            raise InputError("the prediction is still catching up with the latest strokes; wait a moment, then accept")
        if self.committed_layer is None or self.committed_layer not in self.viewer.layers:
            self.committed_layer = self._committed_layer_for(self.image_layer, _layers.spatial_shape(self.image_layer))
            self._apply_colors()
        if self.instances.isChecked():
            self._accept_instance(labels)
            return
        self._commit(self._key, labels)
        self.segmenter.accept(self._key)
        _notify.show_info(f"accepted into {self.committed_layer.name!r}")

    def _commit(self, key: tuple, labels: np.ndarray) -> None:
        layer = self.committed_layer
        if layer is None or layer not in self.viewer.layers:
            layer = self.committed_layer = self._committed_layer_for(self.image_layer, _layers.spatial_shape(self.image_layer))
            self._apply_colors()
        # the ledger keeps the values written, not a mask: a pixel the user has since repainted is theirs
        token = layer.metadata.setdefault(COMMIT_TOKEN, uuid.uuid4().hex)
        committed = self._ledger.merge(
            token, tuple(layer.data.shape), key, _layers.labels_slice(layer, key), labels, self.classes.background()
        )
        _layers.write_slice(layer, key, committed)

    @notify_errors
    def propagate(self, direction: int) -> None:
        """Segment neighbouring slices from the slice in view: -1 previous, +1 next, 0 both ways to the end.

        Runs :meth:`InteractiveSegmenter.propagate` (the volume core) in a worker with a progress bar;
        every slice it writes is shown and committed (never over labels the widget does not own, never
        on an accepted slice).
        """
        if self.segmenter is None or not self.segmenter.is_volume:
            raise InputError("propagation needs a 3-D volume; open a CT or MR volume (e.g. File > Open Sample)")
        if self._propagating is not None:
            raise InputError("a propagation is running; wait for it or press Cancel")
        key = self._key
        background = (self.classes.background() or [None])[0]
        steps = None if direction == 0 else 1
        seed = self._instance_seed(background)
        if synchronous():
            try:
                self._propagated(key, direction, self.segmenter.propagate(key, direction, steps, background, seed=seed))
            except Exception as exc:  # noqa: BLE001 - strokes and accepted labels stay as they were
                report(exc)
            return
        from napari.utils import progress

        bar = progress(total=0, desc="propagating")
        cancel = {"stop": False}
        self._cancel_propagation = lambda: cancel.update(stop=True)

        def tick(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        def done() -> None:
            bar.close()
            self._propagating = None

        self._propagating = start_worker(
            self.segmenter.propagate, key, direction, steps, background, tick, lambda: cancel["stop"], seed,
            returned=lambda written: self._propagated(key, direction, written), finished=done,
        )

    def _instance_seed(self, background: int | None) -> np.ndarray | None:
        """Instance mode: the object to carry through the volume (the one just accepted or corrected on
        this slice, or the one propagated here), as class 1 in ``background``; None outside instance mode."""
        self._carrying = None
        if not self.instances.isChecked() or self.committed_layer is None or self._annotator is None:
            return None
        held = _layers.labels_slice(self.committed_layer, self._key)
        last = self._annotator.last_label(self._key)
        label = self._carried if self._carried is not None and np.any(held == self._carried) else last
        if label is None or not np.any(held == label):
            raise InputError("instance mode: accept an object on this slice first, then propagate it")
        self._carrying = label
        return np.where(held == label, 1, background or 0).astype(np.int32)

    def propagate_previous(self) -> None:
        """Segment the previous slice from the one in view (again and again: slice by slice)."""
        self.propagate(-1)

    def propagate_next(self) -> None:
        """Segment the next slice from the one in view (again and again: slice by slice)."""
        self.propagate(+1)

    def propagate_through(self) -> None:
        """Propagate both ways from the slice in view until the object ends."""
        self.propagate(0)

    def cancel_propagation(self) -> None:
        """Stop a running propagation before its next slice (slices written so far are kept)."""
        self._cancel_propagation()

    def _propagated(self, key: tuple, direction: int, written: dict) -> None:
        for other, labels in written.items():
            if self._carrying is not None:  # instance mode: the object continues under its id
                try:
                    self._annotator.commit(other, labels == 1, label=self._carrying)
                except InputError:
                    continue  # nothing free on that slice: the object stops there
                if self.output_layer is not None:
                    self.output_layer.data[slice_key(other)] = labels
                continue
            self._commit(other, labels)
            if self.output_layer is not None:
                self.output_layer.data[slice_key(other)] = labels
        if self.output_layer is not None:
            self.output_layer.refresh()
        text = f"propagated to {len(written)} slice(s)"
        if self._carrying is not None:
            self.committed_layer.refresh()
            self._carried, self._carrying = self._carrying, None
            text = f"object {self._carried} " + text
        worst = self.segmenter.slices_to_check(key[0]) if written else []
        if worst:
            text += "; least certain: slice " + ", ".join(str(i) for i in worst)
        self.status.setText(text)
        if direction and written and self.image_layer is not None:
            axis, index = key
            target = np.zeros(self.segmenter.image.ndim)
            target[axis] = index + direction
            world = self.image_layer.data_to_world(target)
            offset = self.viewer.dims.ndim - self.segmenter.image.ndim
            self.viewer.dims.set_point(axis + offset, float(world[axis]))

