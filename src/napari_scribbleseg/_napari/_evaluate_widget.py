"""The evaluation dock widget: simulate a user on an image with ground truth, for several predictors.

It turns the chosen layers into samples (the 2-D image, the slice in view, or the volume's slices that
hold an object), runs :func:`napari_scribbleseg.evaluate` in a worker with a progress bar, and shows the
IoU-vs-interactions plot, the summary table, and the simulated scribbles as a layer that steps through
the interactions of one sample. The results export to CSV and PNG.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from napari.layers import Image, Labels
from qtpy.QtCore import Qt, Signal
from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSlider,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from napari_scribbleseg.datasets import Sample, SampleList
from napari_scribbleseg.errors import InputError
from napari_scribbleseg.predictor import available_predictors
from napari_scribbleseg.labelmaps import check_label_map
from napari_scribbleseg.slicing import slice_key, slice_spacing
from napari_scribbleseg._napari import _layers
from napari_scribbleseg._napari import _notify
from napari_scribbleseg._napari._layer_combo import LayerCombo
from napari_scribbleseg._napari._notify import notify_errors
from napari_scribbleseg._napari._signals import on, start_worker
from napari_scribbleseg._napari._segment_widget import synchronous

SCOPES = ("image (2-D)", "slice in view", "whole volume (slices with objects)")


def ground_truth_array(layer: Labels | Image, shape: tuple[int, ...]) -> np.ndarray:
    """The (spatial shape) int ground truth of a Labels or Image layer; :class:`InputError` if unusable."""
    data = np.asarray(layer.data)
    if isinstance(layer, Image) and layer.rgb:
        raise InputError(f"the ground-truth layer {layer.name!r} is RGB; use a Labels layer or a grey mask")
    if tuple(data.shape) != tuple(shape):
        raise InputError(
            f"the ground truth {layer.name!r} has shape {data.shape} but the image is {tuple(shape)}; "
            "pick the labels made for this image"
        )
    return check_label_map(data, f"the ground truth {layer.name!r}", ndim=None).astype(np.int32)


def layer_samples(
    image: Image, gt: Labels | Image, scope: str, key: tuple, max_samples: int = 10
) -> list[Sample]:
    """Samples for :func:`evaluate` from an image layer and its ground truth.

    Each sample's ``meta["key"]`` is ``()`` for a 2-D image or the ``(axis, index)`` of its slice.

    Parameters
    ----------
    scope : one of :data:`SCOPES`
    key : the slice in view (``()`` for 2-D, ``(axis, index)`` for a volume)
    max_samples : at most this many slices, evenly spread, for the whole-volume scope
    """
    data = _layers.image_array(image)
    shape = _layers.spatial_shape(image)
    labels = ground_truth_array(gt, shape)
    kind = image.metadata.get("kind") or ("rgb" if image.rgb else "gray")
    if len(shape) == 2:
        if not np.any(labels):
            raise InputError(f"the ground truth {gt.name!r} is empty; label at least one object")
        return [_sample(image.name, data, labels, (), kind, image)]
    if scope == SCOPES[0]:
        raise InputError("the image is a volume; pick 'slice in view' or 'whole volume'")
    if scope == SCOPES[1]:
        axis, index = key
        cut = slice_key(key)
        if not np.any(labels[cut]):
            raise InputError(f"slice {index} has no labelled object; move to a slice with ground truth")
        return [_sample(f"{image.name} axis{axis} slice{index}", data[cut], labels[cut], key, kind, image)]
    axis = key[0] if key else 0
    holding = [i for i in range(shape[axis]) if np.any(np.take(labels, i, axis=axis))]
    if not holding:
        raise InputError(f"the ground truth {gt.name!r} is empty; label at least one object")
    chosen = [holding[int(round(j))] for j in np.linspace(0, len(holding) - 1, min(max_samples, len(holding)))]
    return [
        _sample(f"{image.name} axis{axis} slice{i}", data[slice_key((axis, i))], labels[slice_key((axis, i))], (axis, i), kind, image)
        for i in dict.fromkeys(chosen)
    ]


def _sample(name: str, image: np.ndarray, gt: np.ndarray, key: tuple, kind: str, layer: Image) -> Sample:
    scale = [float(s) for s in layer.scale[-3:]]
    spacing = slice_spacing(tuple(scale), key[0]) if key else None
    return Sample(name, image, gt, None, kind, spacing, {"key": key, "layer": layer.name})



class EvaluateWidget(QWidget):
    """Dock widget: evaluate predictors with the scribble (or click) simulator on layers with ground truth."""

    progressed = Signal(int, int)

    def __init__(self, napari_viewer: Any):
        super().__init__()
        self.viewer = napari_viewer
        self.result: Any = None
        self.samples: list[Sample] = []
        self._worker: Any = None
        self._build_ui()
        self.viewer.layers.events.inserted.connect(self._refresh_layers)
        self.viewer.layers.events.removed.connect(self._refresh_layers)
        self._refresh_layers()

    def _build_ui(self) -> None:
        self.image_combo, self.gt_combo, self.scope_combo = LayerCombo(), LayerCombo(), QComboBox()
        self.scope_combo.addItems(SCOPES)
        on(self.image_combo.currentTextChanged, self._default_scope)
        self.predictor_list = QListWidget()
        for name in available_predictors():
            item = QListWidgetItem(name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)  # the shipped model beside every classical peer
            self.predictor_list.addItem(item)
        self.predictor_list.setMaximumHeight(110)
        self.simulator_combo = QComboBox()
        self.simulator_combo.addItems(["scribble", "click"])
        self.targets_edit = QLineEdit("0.85, 0.90")
        self.max_spin = QSpinBox()
        self.max_spin.setRange(1, 50)
        self.max_spin.setValue(20)
        self.samples_spin = QSpinBox()
        self.samples_spin.setRange(1, 500)
        self.samples_spin.setValue(10)
        self.multi_region = QCheckBox("all regions jointly (multi-region)")
        self.instances = QCheckBox("instances: each object in turn, earlier ones committed")
        self.instances.setToolTip(
            "The ground truth is an instance map (each object its own id): objects are annotated one after "
            "another, largest first, as in the segmentation widget's instance mode"
        )
        form = QFormLayout()
        form.addRow("image", self.image_combo)
        form.addRow("ground truth", self.gt_combo)
        form.addRow("on", self.scope_combo)
        form.addRow("predictors", self.predictor_list)
        form.addRow("simulator", self.simulator_combo)
        form.addRow("IoU targets", self.targets_edit)
        form.addRow("max interactions", self.max_spin)
        form.addRow("max slices", self.samples_spin)
        form.addRow(self.multi_region)
        form.addRow(self.instances)

        self.run_button = QPushButton("Run evaluation")
        on(self.run_button.clicked, self.run)
        self.progress = QProgressBar()
        self.progressed.connect(self._progress)

        from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
        from matplotlib.figure import Figure

        self.figure = Figure(figsize=(4, 3), dpi=90, tight_layout=True)
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.canvas.setMinimumHeight(220)
        self.table = QTableWidget(0, 0)
        self.table.setMinimumHeight(90)

        self.row_combo = QComboBox()
        self.row_combo.currentIndexChanged.connect(lambda _i: self._row_changed())
        self.step_slider = QSlider(Qt.Orientation.Horizontal)
        self.step_slider.setMinimum(1)
        self.step_slider.valueChanged.connect(self.show_interaction)
        self.step_label = QLabel("")
        steps = QHBoxLayout()
        steps.addWidget(self.step_slider)
        steps.addWidget(self.step_label)

        csv, png = QPushButton("Export CSV..."), QPushButton("Export PNG...")
        on(csv.clicked, self._ask_path, "CSV (*.csv)", self.export_csv)
        on(png.clicked, self._ask_path, "PNG (*.png)", self.export_png)
        exports = QHBoxLayout()
        exports.addWidget(csv)
        exports.addWidget(png)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.run_button)
        layout.addWidget(self.progress)
        layout.addWidget(self.canvas)
        layout.addWidget(self.table)
        layout.addWidget(QLabel("simulated interactions of"))
        layout.addWidget(self.row_combo)
        layout.addLayout(steps)
        layout.addLayout(exports)

    def _refresh_layers(self, event: Any = None) -> None:
        own = {"simulated scribbles", "simulated prediction"}
        for combo, kinds in ((self.image_combo, (Image,)), (self.gt_combo, (Labels, Image))):
            current = combo.currentText()
            combo.clear()
            combo.addItems([l.name for l in self.viewer.layers if isinstance(l, kinds) and l.name not in own])
            if current:
                combo.setCurrentText(current)
        if not self.gt_combo.currentText() or self.gt_combo.currentText() == self.image_combo.currentText():
            labels = [l.name for l in self.viewer.layers if isinstance(l, Labels) and l.name not in own]
            if labels:
                self.gt_combo.setCurrentText(labels[0])
        self._default_scope()

    def _default_scope(self) -> None:
        """A volume is evaluated on the slice in view unless the user picked otherwise; a 2-D image whole."""
        name = self.image_combo.currentText()
        if name not in self.viewer.layers or not isinstance(self.viewer.layers[name], Image):
            return
        volume = len(_layers.spatial_shape(self.viewer.layers[name])) == 3
        if volume and self.scope_combo.currentText() == SCOPES[0]:
            self.scope_combo.setCurrentText(SCOPES[1])
        elif not volume:
            self.scope_combo.setCurrentText(SCOPES[0])

    # running ------------------------------------------------------------------------------------
    def checked_predictors(self) -> list[str]:
        items = [self.predictor_list.item(i) for i in range(self.predictor_list.count())]
        return [i.text() for i in items if i.checkState() == Qt.CheckState.Checked]

    def set_predictors(self, names: list[str]) -> None:
        """Check exactly ``names`` (adding names registered after the widget was made)."""
        known = {self.predictor_list.item(i).text() for i in range(self.predictor_list.count())}
        for name in names:
            if name not in known:
                item = QListWidgetItem(name)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                self.predictor_list.addItem(item)
        for i in range(self.predictor_list.count()):
            item = self.predictor_list.item(i)
            item.setCheckState(Qt.CheckState.Checked if item.text() in names else Qt.CheckState.Unchecked)

    def targets(self) -> tuple[float, ...]:
        try:
            values = tuple(float(t) for t in self.targets_edit.text().replace(";", ",").split(",") if t.strip())
        except ValueError:
            values = ()
        if not values or not all(0 < t <= 1 for t in values):
            raise InputError(f"IoU targets {self.targets_edit.text()!r} are not values in (0, 1]; write e.g. 0.85, 0.90")
        return values

    @notify_errors
    def run(self) -> None:
        """Evaluate the checked predictors on the chosen layers (in a worker unless SCRIBBLESEG_SYNC=1)."""
        if self._worker is not None:
            raise InputError("an evaluation is running; wait for it to finish")
        names = [self.image_combo.currentText(), self.gt_combo.currentText()]
        if not all(n in self.viewer.layers for n in names):
            raise InputError("pick an image layer and its ground-truth layer (open a sample with labels)")
        image, gt = (self.viewer.layers[n] for n in names)
        key = ()
        if len(_layers.spatial_shape(image)) == 3:
            key = _layers.slice_in_view(image, np.asarray(self.viewer.dims.point), tuple(self.viewer.dims.displayed))
        self.samples = layer_samples(image, gt, self.scope_combo.currentText(), key, self.samples_spin.value())
        predictors = self.checked_predictors()
        if not predictors:
            raise InputError("check at least one predictor")
        options = dict(
            simulator=self.simulator_combo.currentText(),
            targets=self.targets(),
            max_interactions=self.max_spin.value(),
            keep_scribbles=True,
        )
        if self.instances.isChecked():
            if self.multi_region.isChecked():
                raise InputError("instances and multi-region are two protocols; uncheck one of them")
            self.samples, job = instance_samples(self.samples), _evaluate_instances
            dataset: Any = self.samples
        else:
            options["multi_region"] = self.multi_region.isChecked()
            dataset, job = SampleList(self.samples, name=image.name), _evaluate  # the plot's title names the image
        self._image_layer = image
        self.progress.setRange(0, len(self.samples) * len(predictors))
        self.progress.setValue(0)
        if synchronous():
            self._finished(job(predictors, dataset, options, self.progressed.emit))
            return

        def done() -> None:
            self._worker = None
            self.run_button.setEnabled(True)

        self.run_button.setEnabled(False)
        self._worker = start_worker(
            job, predictors, dataset, options, self.progressed.emit, returned=self._finished, finished=done
        )

    def _progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(done)

    def _finished(self, result: Any) -> None:
        self.result = result
        self.figure.clear()
        result.plot(ax=self.figure.add_subplot(1, 1, 1))
        self.canvas.draw()
        summary = result.summary()
        columns = list(summary[0]) if summary else []
        self.table.setColumnCount(len(columns))
        self.table.setRowCount(len(summary))
        self.table.setHorizontalHeaderLabels(columns)
        for r, entry in enumerate(summary):
            for c, column in enumerate(columns):
                value = entry[column]
                text = f"{value:.3g}" if isinstance(value, float) else str(value)
                self.table.setItem(r, c, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
        self.row_combo.blockSignals(True)
        self.row_combo.clear()
        self.row_combo.addItems([f"{row['sample']} | {row['predictor']}" for row in result.rows])
        self.row_combo.blockSignals(False)
        self._row_changed()
        _notify.show_info(f"evaluated {len(result.predictors)} predictor(s) on {len(self.samples)} sample(s)")

    # stepping through interactions --------------------------------------------------------------
    def _row_changed(self) -> None:
        if self.result is None or self.row_combo.currentIndex() < 0:
            return
        row = self.result.rows[self.row_combo.currentIndex()]
        self.step_slider.blockSignals(True)
        self.step_slider.setMaximum(max(1, row["n_interactions"]))
        self.step_slider.setValue(row["n_interactions"])
        self.step_slider.blockSignals(False)
        self.show_interaction(row["n_interactions"])

    def show_interaction(self, step: int) -> None:
        """Show the simulated scribbles and prediction of the selected row after interaction ``step``."""
        if self.result is None or self.row_combo.currentIndex() < 0:
            return
        row = self.result.rows[self.row_combo.currentIndex()]
        step = int(np.clip(step, 1, row["n_interactions"]))
        sample = next(s for s in self.samples if s.name == row["sample"])
        strokes_by = _strokes_at(row, step)
        scribbles = np.where((row["stroke_index"] > 0) & (row["stroke_index"] <= strokes_by), row["scribbles"], 0)
        prediction = np.asarray(row["predictions"][step - 1], np.int32)
        self._put("simulated scribbles", scribbles, sample, opacity=1.0)
        self._put("simulated prediction", prediction, sample, opacity=0.4)
        self.step_label.setText(f"{step}/{row['n_interactions']}  IoU {row['iou'][step - 1]:.3f}")

    def _put(self, name: str, values: np.ndarray, sample: Sample, opacity: float) -> None:
        image = self._image_layer
        shape = _layers.spatial_shape(image)
        if name in self.viewer.layers and tuple(self.viewer.layers[name].data.shape) == tuple(shape):
            layer = self.viewer.layers[name]
        else:
            if name in self.viewer.layers:
                self.viewer.layers.remove(name)
            layer = self.viewer.add_labels(
                np.zeros(shape, np.int32), name=name, scale=image.scale[-len(shape):],
                translate=image.translate[-len(shape):], opacity=opacity,
            )
        data = layer.data
        key = sample.meta["key"]
        if key:
            data[...] = 0
            data[slice_key(key)] = values
        else:
            data[...] = values
        layer.refresh()

    # export -------------------------------------------------------------------------------------
    def _ask_path(self, pattern: str, save: Any) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export", "", pattern)
        if path:
            save(path)

    @notify_errors
    def export_csv(self, path: str) -> str:
        """Write the per-sample table to ``path`` and the summary beside it (``*_summary.csv``)."""
        if self.result is None:
            raise InputError("run an evaluation first")
        written = self.result.to_csv(path)
        self.result.to_csv(str(path).removesuffix(".csv") + "_summary.csv", table="summary")
        return str(written)

    @notify_errors
    def export_png(self, path: str) -> str:
        """Write the IoU-vs-interactions plot to ``path``."""
        if self.result is None:
            raise InputError("run an evaluation first")
        self.result.plot(path)
        return str(path)


def _strokes_at(row: dict, step: int) -> int:
    """How many strokes the simulator had drawn after interaction ``step`` of ``row``.

    The first interaction places one stroke per scored class; each later one adds a stroke per class
    until nothing is left to correct. Counting from the end is exact: every predict after the first
    came after exactly one new stroke.
    """
    total = int(row["stroke_index"].max())
    first = total - (row["n_predicts"] - 1)
    if step == 1:
        return first
    per_step = max(1, first)
    return min(total, first + (step - 1) * per_step)


def instance_samples(samples: list[Sample]) -> list[Sample]:
    """One sample per object of each image (or slice) whose ground truth is an instance map, named as
    :func:`~napari_scribbleseg.evaluate.evaluate_instances` names its rows (``"<image> #<id>"``), largest first."""
    from napari_scribbleseg.evaluate.instances import instance_order

    out = []
    for sample in samples:
        for label in instance_order(sample.gt).tolist():
            gt = (sample.gt == label).astype(np.int32)
            meta = {**sample.meta, "instances": sample.gt, "instances_of": sample.name}
            out.append(Sample(f"{sample.name} #{label}", sample.image, gt, None, sample.kind, sample.spacing, meta))
    return out


def _evaluate_instances(predictors: list[str], samples: list[Sample], options: dict, progress: Any) -> Any:
    from napari_scribbleseg.evaluate import evaluate_instances

    images = {}
    for sample in samples:  # the images the objects came from, in order
        images.setdefault(sample.meta["instances_of"], (sample.image, sample.meta["instances"], sample.kind))
    return evaluate_instances(
        {name: name for name in predictors}, [(name, image, gt) for name, (image, gt, _) in images.items()],
        kind=next(iter(images.values()))[2], progress=progress, **options,
    )


def _evaluate(predictors: list[str], samples: SampleList, options: dict, progress: Any) -> Any:
    from napari_scribbleseg.evaluate import evaluate

    return evaluate({name: name for name in predictors}, samples, progress=progress, **options)
