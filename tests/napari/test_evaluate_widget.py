"""The evaluation widget runs evaluate on layers, plots in the dock, steps through interactions, exports."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.gui


@pytest.fixture
def evaluation(make_napari_viewer, image):
    from napari_scribbleseg._napari._evaluate_widget import EvaluateWidget

    viewer = make_napari_viewer()
    viewer.add_image(image, name="photo")
    viewer.add_labels((image > 100).astype(np.int32), name="truth")
    widget = EvaluateWidget(viewer)
    widget.image_combo.setCurrentText("photo")
    widget.gt_combo.setCurrentText("truth")
    widget.set_predictors(["nearest", "threshold"])
    widget.max_spin.setValue(5)
    return viewer, widget


def test_runs_plots_and_steps(evaluation, tmp_path):
    viewer, widget = evaluation
    widget.run()
    result = widget.result
    assert [row["predictor"] for row in result.rows] == ["nearest", "threshold"]
    assert widget.table.rowCount() == 2 and widget.progress.value() == widget.progress.maximum() == 2
    assert widget.figure.axes and len(widget.figure.axes[0].lines) >= 2  # one curve per predictor
    scribbles = viewer.layers["simulated scribbles"]
    widget.row_combo.setCurrentIndex(0)
    n = result.rows[0]["n_interactions"]
    widget.step_slider.setValue(1)
    first = np.count_nonzero(scribbles.data)
    widget.step_slider.setValue(n)
    assert first > 0 and (n == 1 or np.count_nonzero(scribbles.data) > first)
    csv = widget.export_csv(str(tmp_path / "eval.csv"))
    png = widget.export_png(str(tmp_path / "eval.png"))
    assert "NoI@90" in open(csv).readline() and (tmp_path / "eval_summary.csv").exists()
    assert open(png, "rb").read(4) == b"\x89PNG"


def test_volume_slices(make_napari_viewer):
    from napari_scribbleseg._napari._evaluate_widget import SCOPES, EvaluateWidget
    from napari_scribbleseg._napari._sample_data import mr_brain_sample

    viewer = make_napari_viewer()
    for data, kwargs, kind in mr_brain_sample():
        getattr(viewer, f"add_{kind}")(data, **kwargs)
    widget = EvaluateWidget(viewer)
    widget.image_combo.setCurrentText("MR brain (synthetic)")
    widget.gt_combo.setCurrentText("MR brain (synthetic) ground truth")
    widget.scope_combo.setCurrentText(SCOPES[2])
    widget.samples_spin.setValue(3)
    widget.multi_region.setChecked(True)
    widget.set_predictors(["nearest"])
    widget.max_spin.setValue(3)
    widget.run()
    assert len(widget.result.rows) == 3 and all(row["sample"].startswith("MR brain") for row in widget.result.rows)
    assert viewer.layers["simulated scribbles"].data.shape == viewer.layers["MR brain (synthetic)"].data.shape
