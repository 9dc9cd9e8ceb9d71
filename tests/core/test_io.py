from pathlib import Path

import numpy as np
import pytest

from napari_scribbleseg import io
from napari_scribbleseg.errors import InputError

# an oblique, anisotropic geometry: a round trip that drops any of it is caught
DIRECTION = np.array([[0.0, 1.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
SPACING = (2.5, 0.8, 0.6)  # (z, y, x) mm
ORIGIN = (-120.5, 33.25, 7.0)  # (x, y, z) mm


def _labels(shape=(6, 20, 30)) -> np.ndarray:
    labels = np.zeros(shape, np.int32)
    labels[1:4, 5:12, 3:9] = 1
    labels[2:5, 10:18, 15:25] = 3
    return labels


def _assert_geometry(volume: io.Volume, spacing, origin, direction) -> None:
    np.testing.assert_allclose(volume.spacing, spacing, atol=1e-5)
    np.testing.assert_allclose(volume.origin, origin, atol=1e-4)
    np.testing.assert_allclose(volume.direction, direction, atol=1e-6)


@pytest.mark.parametrize("suffix", [".nii.gz", ".nii", ".mha", ".mhd", ".nrrd"])
def test_labels_round_trip_keeps_geometry(tmp_path, suffix):
    labels = _labels()
    path = io.write_labels(tmp_path / f"labels{suffix}", labels, spacing=SPACING, origin=ORIGIN, direction=DIRECTION)
    volume = io.read_volume(path)
    np.testing.assert_array_equal(volume.array, labels)
    assert volume.array.dtype == np.uint8
    _assert_geometry(volume, SPACING, ORIGIN, DIRECTION)


def test_labels_take_the_geometry_of_the_image_they_belong_to(tmp_path):
    image = io.Volume(np.zeros((6, 20, 30), np.int16), SPACING, ORIGIN, DIRECTION)
    path = io.write_labels(tmp_path / "seg.nii.gz", _labels(), like=image)
    _assert_geometry(io.read_volume(path), SPACING, ORIGIN, DIRECTION)
    many = _labels()
    many[0, 0, 0] = 300
    assert io.read_volume(io.write_labels(tmp_path / "many.nrrd", many, like=image)).array.dtype == np.uint16


def test_dicom_series_reads_in_hu_with_geometry(totalseg_dir):
    volume = io.read_volume(totalseg_dir / "example_ct_dicom")
    assert volume.shape == (20, 512, 512)
    np.testing.assert_allclose(volume.spacing, (2.0, 0.9765625, 0.9765625))
    np.testing.assert_allclose(volume.origin, (-249.51171875, -437.51171875, -804.5))
    assert volume.meta["modality"] == "CT"
    assert volume.array.min() == -1024  # rescale intercept applied: air in HU


def test_dicom_labels_round_trip_beside_the_series(totalseg_dir, tmp_path):
    image = io.read_volume(totalseg_dir / "example_ct_dicom")
    # the NIfTI labels store the same grid with the rows flipped; resampling puts them on the image grid
    seg = io.read_volume(totalseg_dir / "example_seg_dicom.nii.gz")
    labels = io.resample_like(seg, image)
    np.testing.assert_array_equal(labels, seg.array[:, ::-1, :])
    folder = io.write_labels(tmp_path / "labels_dicom", labels, like=image)
    back = io.read_volume(folder)
    np.testing.assert_array_equal(back.array, labels)
    _assert_geometry(back, image.spacing, image.origin, image.direction)
    assert back.meta["frame_of_reference_uid"] == image.meta["frame_of_reference_uid"]
    nifti = io.read_volume(io.write_labels(tmp_path / "labels.nii.gz", labels, like=image))
    _assert_geometry(nifti, image.spacing, image.origin, image.direction)


def test_oblique_dicom_series_round_trip(tmp_path):
    folder = io.write_labels(tmp_path / "series", _labels(), spacing=SPACING, origin=ORIGIN, direction=DIRECTION)
    assert len(list(Path(folder).glob("*.dcm"))) == 6
    back = io.read_volume(folder)
    np.testing.assert_array_equal(back.array, _labels())
    _assert_geometry(back, SPACING, ORIGIN, DIRECTION)
    single = io.read_volume(sorted(Path(folder).glob("*.dcm"))[2])
    assert single.shape == (1, 20, 30)
    np.testing.assert_array_equal(single.array[0], _labels()[2])


def test_four_d_nifti_gives_channels_last(tmp_path):
    import nibabel as nib

    data = np.random.default_rng(0).normal(size=(30, 20, 6, 4)).astype(np.float32)  # (X, Y, Z, C)
    nib.save(nib.Nifti1Image(data, np.diag([0.6, 0.8, 2.5, 1.0])), str(tmp_path / "modalities.nii.gz"))
    volume = io.read_volume(tmp_path / "modalities.nii.gz")
    assert volume.array.shape == (6, 20, 30, 4)
    np.testing.assert_allclose(volume.array[2, 5, 7], data[7, 5, 2])
    np.testing.assert_allclose(volume.spacing, SPACING)


def test_missing_and_unreadable_files_name_the_path_and_formats(tmp_path):
    with pytest.raises(InputError) as info:
        io.read_volume(tmp_path / "nothing.nii.gz")
    assert "nothing.nii.gz" in str(info.value) and ".nrrd" in str(info.value)
    broken = tmp_path / "broken.nii.gz"
    broken.write_bytes(b"not a nifti file at all")
    with pytest.raises(InputError) as info:
        io.read_volume(broken)
    assert "broken.nii.gz" in str(info.value) and "DICOM series" in str(info.value)
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(InputError, match="unsupported suffix '.txt'"):
        io.read_volume(text)
    with pytest.raises(InputError, match="holds no DICOM series"):
        io.read_volume(tmp_path)


def test_write_labels_rejects_bad_labels_and_suffixes(tmp_path):
    image = io.Volume(np.zeros((6, 20, 30), np.int16))
    with pytest.raises(InputError, match=r"labels have shape \(6, 20, 31\) but the image"):
        io.write_labels(tmp_path / "a.nii.gz", np.zeros((6, 20, 31), np.uint8), like=image)
    with pytest.raises(InputError, match="non-integer"):
        io.write_labels(tmp_path / "a.nii.gz", np.full((2, 3, 3), 0.5))
    with pytest.raises(InputError, match="negative"):
        io.write_labels(tmp_path / "a.nii.gz", -np.ones((2, 3, 3), int))
    with pytest.raises(InputError, match="cannot write labels to .*png"):
        io.write_labels(tmp_path / "a.png", np.ones((2, 3, 3), int))


def test_slices_along_every_axis_with_their_spacing():
    volume = np.arange(4 * 5 * 6).reshape(4, 5, 6)
    assert io.slice_volume(volume, 0, 2).shape == (5, 6)
    np.testing.assert_array_equal(io.slice_volume(volume, 1, 3), volume[:, 3, :])
    np.testing.assert_array_equal(io.slice_volume(volume, 2, -1), volume[:, :, 5])
    assert io.slice_spacing(SPACING, 0) == (0.8, 0.6)
    assert io.slice_spacing(SPACING, 1) == (2.5, 0.6)
    assert io.slice_spacing(SPACING, 2) == (2.5, 0.8)
    with pytest.raises(InputError, match="outside axis 1"):
        io.slice_volume(volume, 1, 5)
    with pytest.raises(InputError, match="not a volume axis"):
        io.slice_volume(volume, 3, 0)


@pytest.mark.parametrize("suffix", [".nii.gz", ".nii", ".mha"])
def test_a_truncated_volume_file_is_refused_not_zero_filled(tmp_path, suffix):
    rng = np.random.default_rng(0)
    whole = io.write_labels(tmp_path / f"whole{suffix}", rng.integers(0, 5, (20, 30, 40)))
    assert io.read_volume(whole).shape == (20, 30, 40)  # the whole file reads
    data = whole.read_bytes()
    for cut in (len(data) // 2, 1000):
        broken = tmp_path / f"cut{cut}{suffix}"
        broken.write_bytes(data[:cut])
        with pytest.raises(InputError, match="(ends after .* bytes|ends before its MetaImage header).*copy"):
            io.read_volume(broken)


def test_a_dicom_series_is_never_written_over_another(tmp_path):
    folder = tmp_path / "labels"
    io.write_labels(folder, np.ones((5, 4, 4), np.int32))
    with pytest.raises(InputError, match="not empty.*overwrite=True"):
        io.write_labels(folder, np.full((2, 4, 4), 3, np.int32))
    assert io.read_volume(folder).shape == (5, 4, 4)  # the first series is untouched
    io.write_labels(folder, np.full((2, 4, 4), 3, np.int32), overwrite=True)
    again = io.read_volume(folder)
    assert again.shape == (2, 4, 4) and np.all(again.array == 3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["labels"]  # no staging folder left behind


def test_the_napari_writer_replaces_its_own_series_but_not_foreign_files(tmp_path):
    from napari_scribbleseg._napari._writer import write_dicom_series

    folder = tmp_path / "seg"
    write_dicom_series(str(folder), np.ones((3, 4, 4), np.uint8), {})
    write_dicom_series(str(folder), np.full((2, 4, 4), 2, np.uint8), {})  # saved again over its own
    assert io.read_volume(folder).shape == (2, 4, 4)
    (folder / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="not empty"):
        write_dicom_series(str(folder), np.ones((3, 4, 4), np.uint8), {})
    assert (folder / "notes.txt").read_text() == "mine"


def _series(folder, n=6):
    io.write_labels(folder, np.arange(n * 8 * 8).reshape(n, 8, 8) % 5, spacing=(2.0, 1.0, 1.0))
    return sorted(folder.glob("*.dcm"))


def test_a_dicom_series_with_a_missing_slice_is_refused(tmp_path):
    files = _series(tmp_path / "ct")
    files[2].unlink()
    with pytest.raises(InputError, match="not evenly spaced.*missing"):
        io.read_volume(tmp_path / "ct")


def test_a_truncated_dicom_slice_is_named(tmp_path):
    files = _series(tmp_path / "ct")
    data = files[3].read_bytes()
    files[3].write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=f"{files[3].name} cannot be read.*truncated"):
        io.read_volume(tmp_path / "ct")


def test_a_folder_of_several_series_names_them_and_the_one_taken(tmp_path):
    big, small = _series(tmp_path / "a", 6), _series(tmp_path / "b", 3)
    both = tmp_path / "both"
    both.mkdir()
    for i, f in enumerate(big + small):
        f.rename(both / f"{i:02d}.dcm")
    with pytest.warns(UserWarning, match="holds 2 DICOM series.*6 slices.*3 slices.*Read the largest"):
        volume = io.read_volume(both)
    assert volume.shape == (6, 8, 8) and "3 slices" in volume.meta["series_found"]


def test_instance_ids_beyond_65535_are_saved_where_the_format_holds_them(tmp_path):
    labels = np.zeros((2, 4, 4), np.int64)
    labels[0, 0, 0], labels[1, 3, 3] = 70000, 300
    back = io.read_volume(io.write_labels(tmp_path / "ids.nii.gz", labels))
    assert back.array[0, 0, 0] == 70000 and back.array[1, 3, 3] == 300
    with pytest.raises(InputError, match="DICOM series holds at most 65535"):
        io.write_labels(tmp_path / "series", labels)
    assert not (tmp_path / "series").exists()


SHEARED = np.array([[1.0, 0.3, 0.0, 5.0], [0.0, 1.2, 0.0, -3.0], [0.0, 0.1, 2.5, 7.0], [0.0, 0.0, 0.0, 1.0]])


@pytest.mark.parametrize("suffix", [".nii.gz", ".nii", ".mha", ".nrrd"])
def test_a_sheared_frame_is_written_back_exactly(tmp_path, suffix):
    nib = pytest.importorskip("nibabel")
    source = tmp_path / "sheared.nii.gz"
    nib.save(nib.Nifti1Image(np.arange(6 * 7 * 8, dtype=np.int16).reshape(6, 7, 8) % 4, SHEARED), str(source))
    image = io.read_volume(source)
    labels = (image.array > 1).astype(np.uint8)
    back = io.read_volume(io.write_labels(tmp_path / f"labels{suffix}", labels, like=image))
    np.testing.assert_array_equal(back.array, labels)
    _assert_geometry(back, image.spacing, image.origin, image.direction)
    if suffix.startswith(".nii"):
        np.testing.assert_allclose(nib.load(str(tmp_path / f"labels{suffix}")).affine, SHEARED, atol=1e-5)


def test_a_sheared_frame_is_refused_for_dicom(tmp_path):
    sheared = np.array([[1.0, 0.3, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    with pytest.raises(InputError, match="sheared.*DICOM series cannot store.*nii.gz"):
        io.write_labels(tmp_path / "series", np.ones((2, 4, 4), np.uint8), direction=sheared)
    assert not (tmp_path / "series").exists()
