"""Fault injection: broken files, writes killed midway, failing predictors, late results, huge inputs.

Each test plants one fault where it enters and checks the promise of docs/RELIABILITY.md: the fault is
refused with its reason (an InputError, never a silent half-read), and nothing the user had is lost.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from napari_scribbleseg import io
from napari_scribbleseg.errors import InputError

FILE_FORMATS = [".nii.gz", ".nii", ".mha", ".mhd", ".nrrd", ".nhdr"]


def _labels(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 5, (20, 30, 40)).astype(np.uint8)


def _damaged(data: bytes, header_at: int = 0) -> dict[str, bytes]:
    garbage = np.random.default_rng(1).integers(0, 256, 64, dtype=np.uint8).tobytes()
    return {
        "cut in half": data[: len(data) // 2],
        "header overwritten": data[:header_at] + garbage + data[header_at + 64 :],
        "empty": b"",
    }


@pytest.mark.parametrize("suffix", FILE_FORMATS)
def test_damaged_files_of_every_format_are_refused(tmp_path, suffix):
    whole = io.write_labels(tmp_path / f"whole{suffix}", _labels())
    for what, data in _damaged(whole.read_bytes()).items():
        broken = tmp_path / f"broken{suffix}"
        broken.write_bytes(data)
        with pytest.raises(InputError, match="broken"):  # the message names the file
            io.read_volume(broken)
        broken.unlink()


def test_a_metaimage_whose_data_file_is_cut_is_refused(tmp_path):
    header = io.write_labels(tmp_path / "labels.mhd", _labels())
    (data_file,) = [p for p in tmp_path.iterdir() if p != header]
    data_file.write_bytes(data_file.read_bytes()[:100])
    with pytest.raises(InputError):
        io.read_volume(header)


def test_damaged_dicom_files_are_named(tmp_path):
    folder = io.write_labels(tmp_path / "series", _labels()[:6])
    victim = sorted(folder.iterdir())[2]
    for what, data in _damaged(victim.read_bytes(), header_at=128).items():  # after the free preamble
        victim.write_bytes(data)
        with pytest.raises(InputError, match=victim.name):
            io.read_volume(folder)


_KILL_MIDWAY = """
import os, signal, sys
import numpy as np
import SimpleITK as sitk
from napari_scribbleseg import io
from napari_scribbleseg.io import dicom

real_write = sitk.WriteImage

def write_then_die(image, path, *args, **kwargs):
    real_write(image, path, *args, **kwargs)
    with open(path, "r+b") as f:  # the kill lands with half the bytes on disk
        f.truncate(os.path.getsize(path) // 2)
    os.kill(os.getpid(), signal.SIGKILL)

def series_then_die(folder, array, *args):
    real_series(folder, array[:2], *args)  # two of the slices written
    os.kill(os.getpid(), signal.SIGKILL)

sitk.WriteImage = write_then_die
real_series = dicom._write_dicom_series
dicom._write_dicom_series = series_then_die
io.write_labels(sys.argv[1], np.full((20, 30, 40), 4, np.uint8), overwrite=True)
"""


@pytest.mark.parametrize("target", ["labels.nii.gz", "labels.mha", "labels.nrrd", "series"])
def test_a_write_killed_midway_leaves_the_old_labels_intact(tmp_path, target):
    old = _labels()
    path = io.write_labels(tmp_path / target, old)
    run = subprocess.run([sys.executable, "-c", textwrap.dedent(_KILL_MIDWAY), str(path)], capture_output=True)
    assert run.returncode == -9, run.stderr.decode()[-2000:]  # it really died midway
    np.testing.assert_array_equal(io.read_volume(path).array, old)


def test_a_write_that_fails_midway_leaves_no_partial_file(tmp_path, monkeypatch):
    import SimpleITK as sitk

    def fail(image, path, *args, **kwargs):
        with open(path, "wb") as f:
            f.write(b"\x00" * 100)
        raise OSError("No space left on device")

    path = io.write_labels(tmp_path / "labels.nii.gz", _labels())
    monkeypatch.setattr(sitk, "WriteImage", fail)
    with pytest.raises(OSError, match="No space left"):
        io.write_labels(path, _labels(1))
    np.testing.assert_array_equal(io.read_volume(path).array, _labels())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["labels.nii.gz"]  # no staging files left


def test_a_predictor_that_raises_midway_keeps_the_rows_done():
    from napari_scribbleseg.datasets import Sample
    from napari_scribbleseg.evaluate import evaluate
    from napari_scribbleseg.evaluate.runner import EvaluationFailed

    class FailsOnThird:
        calls = 0

        def set_image(self, image):
            self.shape = image.shape[:2]

        def predict(self, scribbles, prev=None):
            FailsOnThird.calls += 1
            if FailsOnThird.calls == 3:
                raise RuntimeError("out of memory")
            return (scribbles == 1).astype(np.int32)

    samples = []
    for i in range(4):
        mask = np.zeros((40, 40), bool)
        mask[10:30, 5 + i : 25 + i] = True
        samples.append(Sample(f"s{i}", np.where(mask, 200, 30).astype(np.uint8), mask))
    with pytest.raises(EvaluationFailed, match="FailsOnThird.*s2.*out of memory") as failure:
        evaluate({"FailsOnThird": FailsOnThird()}, samples, max_interactions=1)
    assert [row["sample"] for row in failure.value.result.rows] == ["s0", "s1"]


def test_results_delivered_out_of_order_never_replace_newer_ones():
    from napari_scribbleseg.interactive import InteractiveSegmenter

    class Echo:
        def set_image(self, image):
            pass

        def predict(self, scribbles, prev=None):
            return scribbles.astype(np.int32)

    seg = InteractiveSegmenter(Echo(), np.zeros((10, 10)))
    painted = np.zeros((10, 10), np.int32)
    painted[2, 2] = 1
    old = seg.request((), painted)  # a live preview mid-stroke
    seg.record((), painted)
    new = seg.request(())  # the stroke on mouse-up
    newer, older = seg.run(new), seg.run(old)
    assert seg.deliver(newer) and not seg.deliver(older)
    np.testing.assert_array_equal(seg.predictions[()], newer.labels)


@pytest.mark.parametrize("name", ["growcut", "random_walker", "grabcut"])
def test_a_20000_square_image_is_refused_by_every_predictor(name):
    from napari_scribbleseg.predictor import get_predictor

    huge = np.lib.stride_tricks.as_strided(np.zeros(1, np.uint8), shape=(20000, 20000), strides=(0, 0))
    with pytest.raises(InputError, match="20000x20000.*crop the region of interest or downsample"):
        get_predictor(name).set_image(huge)


def test_a_20000_square_image_is_refused_by_the_default_model_and_the_controller():
    from napari_scribbleseg.interactive import InteractiveSegmenter
    from napari_scribbleseg.predictor import get_predictor

    huge = np.lib.stride_tricks.as_strided(np.zeros(1, np.uint8), shape=(20000, 20000), strides=(0, 0))
    with pytest.raises(InputError, match="20000x20000"):
        get_predictor("default").set_image(huge)
    with pytest.raises(InputError, match="20000x20000"):
        InteractiveSegmenter(get_predictor("growcut"), huge)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the peak memory from /proc")
def test_the_largest_image_taken_stays_within_the_memory_bound():
    """At the pixel limit, set_image + two predicts of the shipped model stay within 1.5 GB above the input."""
    script = os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks", "memory.py")
    run = subprocess.run(
        [sys.executable, script, "--one", "default", "4096"], capture_output=True, text=True, check=True
    )
    row = json.loads(run.stdout.strip().splitlines()[-1])
    assert row["peak_above_input_mb"] <= 1536, row
