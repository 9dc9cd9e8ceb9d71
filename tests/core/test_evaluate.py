"""evaluate(): the simulated-user loop, its numbers, its files, parallel runs and the CLI."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from napari_scribbleseg import evaluate
from napari_scribbleseg.errors import InputError
from napari_scribbleseg.evaluate import EvaluationResult

SRC = Path(__file__).resolve().parents[2] / "src"


def synthetic_samples(n: int = 3, shape=(48, 64)) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(image, gt, ignore) with one ellipse per image; the image shows the object exactly (bright on dark)."""
    samples = []
    rows, cols = np.mgrid[: shape[0], : shape[1]]
    for i in range(n):
        obj = ((rows - 20 - 2 * i) / (10 + i)) ** 2 + ((cols - 30 - 3 * i) / (14 + 2 * i)) ** 2 < 1
        image = np.where(obj, 210, 30).astype(np.uint8)
        image = np.stack([image, image // 2 + 20 * i, 255 - image], axis=-1)
        ignore = np.zeros(shape, bool)
        ignore[:, :2] = True
        samples.append((image, obj.astype(np.int32), ignore))
    return samples


class Oracle:
    """Reads the object off the synthetic image (red channel bright): a perfect answer at once."""

    name = "oracle"

    def set_image(self, image):
        self.image = np.asarray(image)

    def predict(self, scribbles, prev=None):
        return np.where(self.image[..., 0] > 128, 1, 2).astype(np.int32)


class Useless:
    """Calls everything background, whatever the strokes say (breaks the keep-your-class contract on purpose)."""

    name = "useless"

    def set_image(self, image):
        self.shape = np.asarray(image).shape[:2]

    def predict(self, scribbles, prev=None):
        return np.full(self.shape, 2, np.int32)


class Recorder:
    """Answers with the strokes' nearest class and records what it was called with."""

    name = "recorder"

    def __init__(self):
        self.calls = []

    def set_image(self, image):
        self.calls.append(("set_image", np.asarray(image).shape))

    def predict(self, scribbles, prev=None):
        from scipy import ndimage

        self.calls.append(("predict", scribbles.copy(), None if prev is None else prev.copy()))
        _, (r, c) = ndimage.distance_transform_edt(scribbles == 0, return_indices=True)
        out = scribbles[r, c].astype(np.int32)
        self.calls[-1] += (out.copy(),)
        return out


def test_perfect_predictor_needs_one_interaction_and_a_useless_one_fails_everywhere():
    samples = synthetic_samples(4)
    result = evaluate([Oracle(), Useless()], samples, max_interactions=3)
    assert isinstance(result, EvaluationResult)
    summary = {row["predictor"]: row for row in result.summary()}
    assert summary["oracle"]["NoI@85"] == summary["oracle"]["NoI@90"] == 1.0
    assert summary["oracle"]["NoF@90"] == 0 and summary["oracle"]["mIoU@1"] == 1.0
    assert summary["useless"]["NoF@85"] == summary["useless"]["NoF@90"] == 4
    assert summary["useless"]["NoI@90"] == 3.0 and summary["useless"]["mIoU@3"] == 0.0
    for row in result.rows_of("oracle"):
        assert row["iou"] == [1.0] and row["n_predicts"] == 1
    for row in result.rows_of("useless"):
        assert len(row["iou"]) == 3 and len(row["t_interaction"]) == 3 and row["t_image"] >= 0
    assert [r["sample"] for r in result.rows][:2] == ["sample_0000", "sample_0000"]  # samples in order


def test_strokes_accumulate_prev_is_the_last_prediction_and_ignore_is_left_out():
    recorder = Recorder()
    samples = synthetic_samples(1)
    result = evaluate(recorder, samples, max_interactions=4, targets=(0.999,), keep_scribbles=True)
    predicts = [c for c in recorder.calls if c[0] == "predict"]
    assert recorder.calls[0] == ("set_image", (48, 64, 3))
    assert predicts[0][2] is None  # no previous mask at the first interaction
    first = predicts[0][1]
    assert set(np.unique(first)) == {0, 1}  # the first stroke is on the object
    assert np.all(samples[0][1][first == 1] == 1)
    for before, after in zip(predicts, predicts[1:]):
        assert np.array_equal(after[2], before[3])  # prev = what the predictor answered last time
        kept = before[1] > 0
        assert np.array_equal(after[1][kept], before[1][kept])  # strokes accumulate
        assert (after[1] > 0).sum() > kept.sum()
    row = result.rows[0]
    assert np.array_equal(row["scribbles"], predicts[-1][1])
    assert row["stroke_index"].max() == len(predicts)
    assert row["predictions"].shape == (len(row["iou"]), 48, 64)
    gt, ignore = samples[0][1], samples[0][2]
    from napari_scribbleseg.metrics import iou

    assert row["iou"][-1] == pytest.approx(iou(row["predictions"][-1] == 1, gt, ignore))


def test_parallel_workers_give_the_serial_results():
    samples = synthetic_samples(3)
    serial = evaluate(["growcut", "grabcut", Useless()], samples, max_interactions=4, targets=(0.95, 0.99))
    parallel = evaluate(["growcut", "grabcut", Useless()], samples, max_interactions=4, targets=(0.95, 0.99), n_jobs=2)
    strip = lambda rows: [{k: v for k, v in r.items() if not k.startswith("t_")} for r in rows]  # noqa: E731
    assert strip(parallel.rows) == strip(serial.rows)
    assert [r["n_predicts"] for r in parallel.rows] == [len(r["t_interaction"]) for r in parallel.rows]


def test_results_are_written_as_csv_json_and_png(tmp_path):
    result = evaluate({"A": Oracle(), "B": Useless()}, synthetic_samples(3), max_interactions=3)
    result.to_csv(tmp_path / "samples.csv")
    result.to_csv(tmp_path / "summary.csv", table="summary")
    result.to_json(tmp_path / "results.json")
    result.plot(tmp_path / "iou_curve.png")
    with open(tmp_path / "summary.csv") as handle:
        summary = list(csv.DictReader(handle))
    assert [r["predictor"] for r in summary] == ["A", "B"] and summary[1]["NoF@90"] == "3"
    with open(tmp_path / "samples.csv") as handle:
        samples = list(csv.DictReader(handle))
    assert len(samples) == 6 and samples[0]["iou@3"] == "1.0"  # carried forward after stopping
    document = json.loads((tmp_path / "results.json").read_text())
    assert document["summary"][0]["NoI@85"] == 1.0 and len(document["rows"]) == 6
    assert (tmp_path / "iou_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = result.format_summary()
    assert "NoI@85" in text and "| A " in text


def test_multi_region_mode_scores_every_region_and_counts_scribbles_per_region():
    shape = (40, 60)
    gt = np.zeros(shape, np.int32)
    gt[5:20, 5:25] = 1
    gt[22:35, 30:55] = 2
    gt[5:18, 35:55] = 3
    image = np.stack([gt * 60 + 20, 200 - gt * 50, (gt % 2) * 100 + 50], axis=-1).astype(np.uint8)
    recorder = Recorder()
    result = evaluate(recorder, [(image, gt)], multi_region=True, max_interactions=3, targets=(1.0,))
    row = result.rows[0]
    predicts = [c for c in recorder.calls if c[0] == "predict"]
    # interaction 1 = one stroke per region, background (class 4) included, then one predict
    assert set(np.unique(predicts[0][1])) == {0, 1, 2, 3, 4}
    assert len(row["iou"]) == 3 and len(predicts) == 1 + 4 + 4  # later rounds: 4 strokes, 4 predicts
    assert len(row["region_iou"][0]) == 3  # the three labelled regions are scored, background is not
    assert row["iou"][0] == pytest.approx(np.mean(row["region_iou"][0]))
    solved = evaluate("growcut", [(image, gt)], multi_region=True, max_interactions=3)
    assert solved.rows[0]["iou"][-1] > 0.95


def test_click_simulator_and_a_custom_simulator(tmp_path):
    samples = synthetic_samples(2)
    clicks = evaluate("growcut", samples, simulator="click", max_interactions=3, keep_scribbles=True)
    assert clicks.settings["simulator"] == "click"
    first = clicks.rows[0]["stroke_index"] == 1
    assert 20 < first.sum() <= 81  # a disk of radius 5, clipped to the object

    from napari_scribbleseg.simulate.protocol import next_scribble

    calls = []

    def spy(gt, pred, ignore=None, width=3.0):
        calls.append(width)
        return next_scribble(gt, pred, ignore, width=width)

    evaluate("growcut", samples[:1], simulator=spy, width=5, max_interactions=2)
    assert calls and set(calls) == {5.0}


def test_bad_input_is_named():
    samples = synthetic_samples(1)
    with pytest.raises(KeyError, match="simulator"):
        evaluate("growcut", samples, simulator="lasso")
    with pytest.raises(InputError, match="targets"):
        evaluate("growcut", samples, targets=(85, 90))
    empty = [(samples[0][0], np.zeros((48, 64), np.int32))]
    with pytest.raises(InputError, match="no object"):
        evaluate("growcut", empty)
    with pytest.raises(InputError, match="set_image"):
        evaluate(object(), samples)
    with pytest.raises(InputError, match="worker processes"):
        evaluate("growcut", samples, simulator=lambda gt, pred, ignore=None: None, n_jobs=2)


def test_growcut_on_two_real_grabcut_images(grabcut_dir):
    import cv2

    samples = []
    for stem in ("banana1", "music"):
        image = cv2.imread(str(next((grabcut_dir / "images").glob(f"{stem}.*"))))[..., ::-1]
        mask = cv2.imread(str(grabcut_dir / "masks" / f"{stem}.bmp"), cv2.IMREAD_GRAYSCALE)
        samples.append((image, (mask > 128).astype(np.int32), mask == 128))
    result = evaluate("growcut", samples, max_interactions=5)
    curves = result.curves("growcut")
    assert curves.shape == (2, 5)
    assert curves[:, -1].mean() > curves[:, 0].mean()  # corrections help
    assert result.summary()[0]["mIoU@5"] > 0.8


def test_package_import_stays_light_and_evaluate_is_the_function():
    code = (
        "import sys, napari_scribbleseg, napari_scribbleseg.evaluate\n"
        "from napari_scribbleseg import evaluate\n"
        "assert callable(evaluate) and evaluate.__name__ == 'evaluate', evaluate\n"
        "heavy = [m for m in ('torch', 'matplotlib', 'PyQt6', 'napari') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env={"PYTHONPATH": str(SRC), "PATH": ""})


def test_cli_writes_its_files_and_prints_the_summary(tmp_path):
    import cv2

    folder = tmp_path / "tiny"
    (folder / "images").mkdir(parents=True)
    (folder / "masks").mkdir()
    for i, (image, gt, _) in enumerate(synthetic_samples(2)):
        cv2.imwrite(str(folder / "images" / f"im{i}.png"), image[..., ::-1])
        cv2.imwrite(str(folder / "masks" / f"im{i}.png"), (gt * 255).astype(np.uint8))
    out = tmp_path / "out"
    run = subprocess.run(
        [sys.executable, "-m", "napari_scribbleseg.evaluate", str(folder), "--predictors", "growcut",
         "--max-interactions", "3", "--out", str(out)],
        capture_output=True, text=True, env={"PYTHONPATH": str(SRC), "PATH": ""}, timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert "NoI@90" in run.stdout and "growcut" in run.stdout
    for name in ("summary.csv", "samples.csv", "results.json", "iou_curve.png"):
        assert (out / name).stat().st_size > 0
    bad = subprocess.run(
        [sys.executable, "-m", "napari_scribbleseg.evaluate", str(folder), "--predictors", "nonesuch", "--out", str(out)],
        capture_output=True, text=True, env={"PYTHONPATH": str(SRC), "PATH": ""}, timeout=120,
    )
    assert bad.returncode == 2 and "nonesuch" in bad.stderr


def test_a_predictor_returning_the_wrong_shape_is_named():
    class Broken:
        def set_image(self, image):
            pass

        def predict(self, scribbles, prev=None):
            return np.zeros((5, 5), np.int32)

    image = np.zeros((32, 32), np.uint8)
    gt = np.zeros((32, 32), np.uint8)
    gt[8:24, 8:24] = 1
    with pytest.raises(InputError, match=r"returned shape \(5, 5\).*\(32, 32\)"):
        evaluate({"broken": Broken()}, [(image, gt)], max_interactions=2)


class _BreaksOnThirdCall:
    """A predictor that fails on its third predict."""

    def set_image(self, image):
        self.shape = image.shape[:2]

    def predict(self, scribbles, prev=None):
        self.calls = getattr(self, "calls", 0) + 1
        if self.calls == 3:
            raise RuntimeError("the GPU fell off the bus")
        return (np.asarray(scribbles) == 1).astype(np.int32)


def _disks(n=5):
    yy, xx = np.mgrid[:32, :32]
    disk = ((yy - 16) ** 2 + (xx - 16) ** 2 < 64).astype(np.int32)
    return [(disk.astype(np.float32) * 200, disk) for _ in range(n)]


def test_a_failing_predictor_is_named_and_the_rows_done_are_kept():
    from napari_scribbleseg.evaluate.runner import EvaluationFailed

    with pytest.raises(EvaluationFailed, match=r"'broken' failed on sample \d of 5.*GPU fell off") as caught:
        evaluate({"broken": _BreaksOnThirdCall()}, _disks(), max_interactions=1)
    assert len(caught.value.result.rows) == 2  # the two samples run before the failure


def test_a_mismatched_mask_is_refused_before_anything_runs():
    from napari_scribbleseg.datasets import Sample

    samples = [Sample(f"disk{i}", image, gt) for i, (image, gt) in enumerate(_disks())]
    samples[3] = Sample("disk3", samples[3].image, samples[3].gt[:30])
    calls = []

    class Counting(_BreaksOnThirdCall):
        def predict(self, scribbles, prev=None):
            calls.append(1)
            return (np.asarray(scribbles) == 1).astype(np.int32)

    with pytest.raises(InputError, match="sample 4 of 5.*does not match"):
        evaluate({"c": Counting()}, samples, max_interactions=1)
    assert not calls


def test_the_cli_writes_partial_results_and_fails(tmp_path, monkeypatch):
    from napari_scribbleseg.evaluate.cli import main
    from napari_scribbleseg.predictor import _REGISTRY

    monkeypatch.setitem(_REGISTRY, "broken", _BreaksOnThirdCall)
    from PIL import Image

    folder = tmp_path / "data"
    (folder / "images").mkdir(parents=True)
    (folder / "masks").mkdir()
    for i, (image, gt) in enumerate(_disks()):
        Image.fromarray(image.astype(np.uint8)).save(folder / "images" / f"im{i}.png")
        Image.fromarray((gt * 255).astype(np.uint8)).save(folder / "masks" / f"im{i}.png")
    code = main([str(folder), "--predictors", "broken", "--max-interactions", "1", "--out", str(tmp_path / "out")])
    assert code == 1
    assert len((tmp_path / "out" / "samples.csv").read_text().strip().splitlines()) == 3  # header + 2 rows


class _BrightBlobAtTheStroke:
    """Object = the bright connected blob under the class-1 strokes (a perfect nucleus finder)."""

    def set_image(self, image):
        from scipy import ndimage

        self.parts, _ = ndimage.label(np.asarray(image) > 100)

    def predict(self, scribbles, prev=None):
        ids = np.unique(self.parts[(np.asarray(scribbles) == 1) & (self.parts > 0)])
        return np.where(np.isin(self.parts, ids) & (self.parts > 0), 1, 2).astype(np.int32)


def test_the_instance_protocol_takes_objects_largest_first_with_earlier_ones_committed():
    from napari_scribbleseg.evaluate import evaluate_instances

    yy, xx = np.mgrid[:64, :64]
    labels = np.zeros((64, 64), np.int32)
    for k, (cy, cx, r) in enumerate([(15, 15, 5), (15, 45, 9), (45, 30, 7)], 1):
        labels[(yy - cy) ** 2 + (xx - cx) ** 2 < r * r] = k
    image = np.where(labels > 0, 200.0, 10.0).astype(np.float32)
    result = evaluate_instances({"blob": _BrightBlobAtTheStroke()}, [("cells", image, labels)], max_interactions=3)
    assert [row["sample"] for row in result.rows] == ["cells #2", "cells #3", "cells #1"]  # largest first
    assert all(row["NoI@90"] == 1 for row in result.rows)
    summary = result.summary()[0]
    assert summary["n"] == 3 and summary["predictor"] == "blob"
    per_object = sorted((row["t_image"] + sum(row["t_interaction"])) * 1e3 for row in result.rows)
    assert summary["t_sample_p50_ms"] == pytest.approx(per_object[1])  # the time per object, median of 3


def test_a_bad_number_of_jobs_is_refused():
    with pytest.raises(InputError, match="n_jobs is -3"):
        evaluate({"b": _BreaksOnThirdCall()}, _disks(1), n_jobs=-3)


def test_the_cli_instance_protocol_reads_an_instance_folder_with_ids_beyond_255(tmp_path, capsys):
    from PIL import Image

    from napari_scribbleseg.evaluate import main

    folder = tmp_path / "nuclei"
    (folder / "images").mkdir(parents=True)
    (folder / "labels").mkdir()
    yy, xx = np.mgrid[:64, :64]
    labels = np.zeros((64, 64), np.uint16)
    for k, (cy, cx, r) in zip((300, 7, 1000), [(15, 15, 5), (15, 45, 9), (45, 30, 7)]):
        labels[(yy - cy) ** 2 + (xx - cx) ** 2 < r * r] = k
    Image.fromarray(np.where(labels > 0, 200, 10).astype(np.uint8)).save(folder / "images" / "a.png")
    Image.fromarray(labels).save(folder / "labels" / "a.png")  # 16-bit PNG: ids past 255
    out = tmp_path / "out"
    code = main([str(folder), "--instances", "--max-objects", "2", "--predictors", "growcut", "--max-interactions", "2",
                 "--out", str(out), "--no-progress"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "growcut" in printed and "NoI@90" in printed
    import json

    rows = json.loads((out / "results.json").read_text())["rows"]
    assert [row["sample"] for row in rows] == ["a #7", "a #1000"]  # the two largest, largest first
    assert main([str(folder), "--instances", "--simulator", "click", "--out", str(out)]) == 2
    assert "--instances runs the scribble simulator" in capsys.readouterr().err
