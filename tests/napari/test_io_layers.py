"""Readers, writers and sample data: geometry survives a round trip through napari layers."""

from __future__ import annotations

import numpy as np
import pytest

from napari_scribbleseg.io import read_volume, to_sitk, write_labels
from napari_scribbleseg._napari import _reader, _sample_data, _writer

pytestmark = pytest.mark.gui

DIRECTION = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])  # rotated in-plane


def _ct(tmp_path, suffix):
    import SimpleITK as sitk

    image = (np.arange(6 * 20 * 24).reshape(6, 20, 24) % 400 - 1000).astype(np.int16)
    path = tmp_path / f"scan{suffix}"
    sitk.WriteImage(to_sitk(image, (3.0, 0.8, 0.7), (-10.0, 20.0, 30.5), DIRECTION), str(path))
    return image, path


@pytest.mark.parametrize("suffix", [".nii.gz", ".mha", ".nrrd"])
def test_file_round_trip_keeps_geometry(tmp_path, suffix):
    image, path = _ct(tmp_path, suffix)
    reader = _reader.get_reader(str(path))
    [(data, meta, kind)] = reader(str(path))
    assert kind == "image" and data.shape == image.shape
    assert tuple(meta["scale"]) == pytest.approx((3.0, 0.8, 0.7))
    labels = (data > -700).astype(np.uint8)
    [out] = _writer.write_labels_layer(str(tmp_path / f"seg{suffix}"), labels, meta)
    back = read_volume(out)
    assert np.array_equal(back.array, labels)
    assert back.spacing == pytest.approx((3.0, 0.8, 0.7))
    assert back.origin == pytest.approx((-10.0, 20.0, 30.5))
    assert np.allclose(back.direction, DIRECTION)
    [(again, meta2, kind2)] = _reader.read_layers(out)
    assert kind2 == "labels"  # "seg" in the name and integers: opens as Labels


def test_dicom_series_round_trip_keeps_geometry(tmp_path):
    labels0 = np.zeros((5, 16, 18), np.uint8)
    labels0[1:4, 4:10, 5:12] = 1
    source_tags = {"patient_id": "P42", "study_instance_uid": "1.2.826.0.1.3680043.2.1125.42",
                   "frame_of_reference_uid": "1.2.826.0.1.3680043.2.1125.43"}
    series = write_labels(
        tmp_path / "ct_series", labels0 * 40, spacing=(2.5, 0.9, 0.9), origin=(5.0, -3.0, 100.0), direction=np.eye(3),
        dicom_meta=source_tags,
    )
    assert _reader.get_reader(str(series)) is not None
    [(data, meta, kind)] = _reader.read_layers(str(series))
    assert data.shape == (5, 16, 18) and tuple(meta["scale"]) == pytest.approx((2.5, 0.9, 0.9))
    [out] = _writer.write_dicom_series(str(tmp_path / "seg.dcm"), (data > 0).astype(np.uint8), meta)
    back = read_volume(out)
    assert np.array_equal(back.array, labels0)
    assert back.spacing == pytest.approx((2.5, 0.9, 0.9)) and back.origin == pytest.approx((5.0, -3.0, 100.0))
    # the saved labels stay in the source series' patient, study and frame of reference
    for key, value in source_tags.items():
        assert back.meta.get(key) == value


def test_reader_declines_other_files(tmp_path):
    (tmp_path / "notes.txt").write_text("hi")
    assert _reader.get_reader(str(tmp_path / "notes.txt")) is None


def test_viewer_opens_and_saves_through_the_plugin(make_napari_viewer, tmp_path):
    image, path = _ct(tmp_path, ".nii.gz")
    viewer = make_napari_viewer()
    [layer] = viewer.open(str(path), plugin="napari-scribbleseg")
    assert layer.data.shape == image.shape and layer.scale[0] == pytest.approx(3.0)
    seg = viewer.add_labels((np.asarray(layer.data) > -700).astype(np.uint8), scale=layer.scale,
                            translate=layer.translate, metadata=layer.metadata, name="seg")
    saved = seg.save(str(tmp_path / "seg.mha"), plugin="napari-scribbleseg")
    back = read_volume(saved[0])
    assert np.allclose(back.direction, DIRECTION) and back.spacing == pytest.approx((3.0, 0.8, 0.7))


@pytest.mark.parametrize("name", ["astronaut", "coins", "chelsea", "ct_abdomen_sample", "mr_brain_sample"])
def test_sample_data_loads(name):
    layers = getattr(_sample_data, name)()
    data, meta, kind = layers[0]
    assert kind == "image" and data.ndim in (2, 3) and data.size > 1000
    if name.endswith("_sample"):
        labels = layers[1][0]
        assert labels.shape == data.shape and len(np.unique(labels)) >= 4
        assert len(meta["scale"]) == 3 and meta["scale"][0] > meta["scale"][1]  # anisotropic, like scans


def test_sample_menu_opens_the_ct(make_napari_viewer):
    viewer = make_napari_viewer()
    viewer.open_sample("napari-scribbleseg", "ct_abdomen")
    assert [l.name for l in viewer.layers] == ["CT abdomen (synthetic)", "CT abdomen (synthetic) ground truth"]
