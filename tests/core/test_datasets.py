import json
import pickle
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from napari_scribbleseg import imaging, io
from napari_scribbleseg.datasets import Sample, detect_layout, load_dataset
from napari_scribbleseg.errors import InputError


def _save(path: Path, array: np.ndarray, palette: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.fromarray(array)
    if palette:
        image = image.convert("P")
    image.save(path)
    return path


def _disk_mask(shape=(40, 50), center=(20, 25), radius=10) -> np.ndarray:
    rows, cols = np.ogrid[: shape[0], : shape[1]]
    return ((rows - center[0]) ** 2 + (cols - center[1]) ** 2 <= radius**2).astype(np.uint8) * 255


# --- real benchmark folders ---------------------------------------------------------------------------


def test_grabcut_keeps_its_ignore_band(grabcut_dir):
    ds = load_dataset(grabcut_dir)
    assert ds.layout == "grabcut" and ds.name == "grabcut" and len(ds) == 50
    with_band = [s for s in ds[:10] if s.ignore is not None and s.ignore.any()]
    assert with_band, "GrabCut masks carry a 128 band around the object"
    sample = with_band[0]
    mask = np.asarray(Image.open(sample.meta["mask_path"]))
    np.testing.assert_array_equal(sample.ignore, mask == 128)
    np.testing.assert_array_equal(sample.gt, (mask == 255).astype(np.int32))
    assert sample.gt.dtype == np.int32 and sample.gt.shape == sample.image.shape[:2]
    assert sample.kind == "rgb" and sample.image.dtype == np.uint8


def test_coco_mval_is_lazy_binary_and_picklable(coco_mval_dir):
    root = coco_mval_dir
    ds = load_dataset(root)
    assert detect_layout(root) == "coco_mval" and len(ds) == 800
    first = ds[0]
    assert set(np.unique(first.gt)) == {0, 1}
    assert first.name == "airplane00_000000281693"
    part = ds[10:13]
    assert len(part) == 3 and part[0].name == ds[10].name
    again = pickle.loads(pickle.dumps(ds))
    np.testing.assert_array_equal(again[5].gt, ds[5].gt)
    with pytest.raises(IndexError):
        ds[800]


def test_ct_slices_2d_multi_class_from_organ_masks(ct_slices_2d_dir):
    root = ct_slices_2d_dir
    ds = load_dataset(root)
    assert ds.layout == "ct_slices_2d"
    by_name = {s.name: s for s in ds}
    assert set(by_name) == {"amos_0004_75", "amos_0006_90", "s0114_111", "s0619_32"}  # amos_0507_31 has no masks
    thorax = by_name["s0114_111"]
    assert len(thorax.meta["classes"]) == 15 and "aorta" in thorax.meta["classes"]
    aorta = thorax.meta["classes"].index("aorta") + 1
    mask = np.asarray(Image.open(root / "masks" / "s0114_111_aorta_000.png")) > 127
    assert thorax.meta["overlap_pixels"] == 0
    np.testing.assert_array_equal(thorax.gt == aorta, mask)
    assert thorax.image.ndim == 2 and thorax.kind == "gray"  # windowed 8-bit PNGs, not HU
    per_organ = load_dataset(root, multi_region=False)
    assert len(per_organ) == 30 and per_organ[0].gt.max() == 1


def test_brats_case_whole_tumour_and_oedema(brats_dir):
    ds = load_dataset(brats_dir, cases=1, classes=["whole_tumour", "oedema"])
    assert ds.layout == "brats" and detect_layout(brats_dir) == "brats"
    names = {s.meta["class"] for s in ds[:: max(1, len(ds) // 8)]}
    assert names <= {"whole_tumour", "oedema"}
    by_key = {(item[2], item[3]): i for i, item in enumerate(ds.items)}
    seg = io.read_volume(Path(ds[0].meta["path"]).parent / "OTMultiClass.nii.gz").array
    index = int(np.argmax((seg > 0).sum(axis=(1, 2))))  # the slice with the most tumour
    whole, oedema = ds[by_key[(index, 0)]], ds[by_key[(index, 1)]]
    assert whole.kind == "mr" and whole.spacing == (1.0, 1.0) and whole.image.shape == (240, 240)
    np.testing.assert_array_equal(whole.gt, seg[index] > 0)
    np.testing.assert_array_equal(oedema.gt, seg[index] == 2)
    assert 0 < oedema.gt.sum() < whole.gt.sum()


# --- labelled volumes -------------------------------------------------------------------------------


def test_totalseg_volume_sliced_along_every_axis(totalseg_dir):
    image, labels = totalseg_dir / "example_ct_sm.nii.gz", totalseg_dir / "example_seg.nii.gz"
    seg = io.read_volume(labels).array
    label = int(np.bincount(seg.ravel())[1:].argmax()) + 1  # the largest organ
    for axis, shape in [(0, seg.shape[1:]), (1, (seg.shape[0], seg.shape[2])), (2, seg.shape[:2])]:
        ds = load_dataset((image, labels), axis=axis, classes=[label], min_pixels=20)
        other = tuple(a for a in range(3) if a != axis)
        expected = np.flatnonzero((seg == label).sum(axis=other) >= 20)
        assert [item[2] for item in ds.items] == expected.tolist()
        sample = ds[len(ds) // 2]
        assert sample.image.shape == shape and sample.kind == "ct" and sample.spacing == (3.0, 3.0)
        np.testing.assert_array_equal(sample.gt, io.slice_volume(seg, axis, sample.meta["index"]) == label)
    regions = load_dataset((image, labels), axis=0, multi_region=True)
    sample = regions[len(regions) // 2]
    assert sample.gt.max() > 1 and len(sample.meta["classes"]) == len(np.unique(seg)) - 1


def test_dicom_series_with_flipped_nifti_labels_is_aligned(totalseg_dir):
    series, labels = totalseg_dir / "example_ct_dicom", totalseg_dir / "example_seg_dicom.nii.gz"
    seg = io.read_volume(labels).array[:, ::-1, :]  # the NIfTI stores the rows bottom-up
    label = int(np.bincount(seg.ravel())[1:].argmax()) + 1
    ds = load_dataset((series, labels), axis=0, classes=[label])
    sample = ds[len(ds) // 2]
    np.testing.assert_array_equal(sample.gt, seg[sample.meta["index"]] == label)
    assert sample.kind == "ct" and sample.image.min() < -500  # HU, ready for a CT window
    assert imaging.to_rgb_float(sample.image, sample.kind).shape == (512, 512, 3)


def test_volume_arrays_keep_only_foreground_slices():
    labels = np.zeros((8, 16, 16), np.uint8)
    labels[2:5, 4:10, 4:10] = 1
    labels[4, 12:14, 12:14] = 2
    volume = np.random.default_rng(0).normal(size=labels.shape).astype(np.float32)
    ds = load_dataset((volume, labels), axis=0)
    assert [(item[2], item[3]) for item in ds.items] == [(2, 0), (3, 0), (4, 0), (4, 1)]
    assert ds[3].meta["class"] == "2" and ds[3].gt.sum() == 4
    big = load_dataset((volume, labels), axis=0, min_pixels=10)
    assert [item[2] for item in big.items] == [2, 3, 4]
    multi = load_dataset((volume, labels), axis=0, multi_region=True, classes={"organ": 1, "lesion": [2]})
    assert len(multi) == 3 and multi[2].meta["classes"] == ["organ", "lesion"] and multi[2].gt.max() == 2
    with pytest.raises(InputError, match="not a volume axis"):
        load_dataset((volume, labels), axis=3)


def test_missing_volume_files_are_named_at_once(tmp_path):
    io.write_labels(tmp_path / "image.nii.gz", np.zeros((4, 10, 12), np.uint8))
    with pytest.raises(InputError, match="no such file or folder: .*seg.nii.gz"):
        load_dataset((tmp_path / "image.nii.gz", tmp_path / "seg.nii.gz"))
    with pytest.raises(InputError, match="a volume without labels"):
        load_dataset(tmp_path / "image.nii.gz")


def test_volume_labels_of_another_shape_name_both_shapes(tmp_path):
    io.write_labels(tmp_path / "image.nii.gz", np.zeros((4, 10, 12), np.uint8))
    io.write_labels(tmp_path / "labels.nii.gz", np.ones((4, 10, 11), np.uint8))
    with pytest.raises(InputError) as info:
        len(load_dataset((tmp_path / "image.nii.gz", tmp_path / "labels.nii.gz")))
    message = str(info.value)
    assert "(4, 10, 11)" in message and "(4, 10, 12)" in message and "labels.nii.gz" in message


# --- arrays -------------------------------------------------------------------------------------------


def test_arrays_given_directly():
    image = np.zeros((40, 50, 3), np.uint8)
    ds = load_dataset([(image, _disk_mask()), (image[..., 0], _disk_mask() > 0, _disk_mask() == 0)])
    assert len(ds) == 2 and ds.name == "arrays"
    assert set(np.unique(ds[0].gt)) == {0, 1} and ds[0].kind == "rgb"
    assert ds[1].kind == "gray" and ds[1].ignore.sum() == (_disk_mask() == 0).sum()
    with pytest.raises(InputError) as info:
        load_dataset([(image, _disk_mask()), (image, np.zeros((40, 49), np.uint8))])
    assert "(40, 49)" in str(info.value) and "(40, 50)" in str(info.value) and "item 1" in str(info.value)
    single = load_dataset((image, _disk_mask()))
    assert len(single) == 1 and single[0].gt.sum() == (_disk_mask() > 0).sum()
    with pytest.raises(InputError, match="drop alpha"):
        load_dataset([(np.zeros((40, 50, 4), np.uint8), _disk_mask())])
    with pytest.raises(InputError, match="non-integer"):
        load_dataset([(image, np.full((40, 50), 0.5))])


# --- generated folders in each layout -----------------------------------------------------------------


def test_plain_folder_and_masks_that_do_not_match(tmp_path):
    rng = np.random.default_rng(0)
    for stem in ("a", "b"):
        _save(tmp_path / "images" / f"{stem}.png", rng.integers(0, 255, (40, 50, 3), dtype=np.uint8))
    _save(tmp_path / "images" / "c.png", rng.integers(0, 255, (40, 50, 3), dtype=np.uint8))  # no mask
    _save(tmp_path / "masks" / "a.png", _disk_mask())
    _save(tmp_path / "masks" / "b.png", _disk_mask((40, 60)))
    assert detect_layout(tmp_path) == "folder"
    ds = load_dataset(tmp_path)
    with pytest.warns(UserWarning, match="1 images .* have no mask"):
        assert len(ds) == 2  # the index is built, and the folder checked, on first use and ds[0].gt.sum() == (_disk_mask() > 0).sum()
    with pytest.raises(InputError) as info:
        ds[1]
    message = str(info.value)
    assert "(40, 60)" in message and "(40, 50)" in message and "b.png" in message


@pytest.mark.parametrize(("folder", "images", "masks", "layout"), [("Berkeley", "images", "masks", "berkeley"), ("DAVIS", "img", "gt", "davis")])
def test_berkeley_and_ritm_davis_copies(tmp_path, folder, images, masks, layout):
    root = tmp_path / folder
    _save(root / images / "frame.jpg", np.full((40, 50, 3), 200, np.uint8))
    rgb_mask = np.repeat(_disk_mask()[..., None], 3, axis=2)  # some copies save masks as RGB
    _save(root / masks / "frame.png", rgb_mask)
    ds = load_dataset(root)
    assert ds.layout == layout and len(ds) == 1
    np.testing.assert_array_equal(ds[0].gt, _disk_mask() > 0)


def test_multi_region_folder(tmp_path):
    mask = np.zeros((20, 20), np.uint8)
    mask[2:6, 2:6], mask[10:15, 10:15] = 3, 7
    _save(tmp_path / "images" / "x.png", np.zeros((20, 20, 3), np.uint8))
    _save(tmp_path / "masks" / "x.png", mask)
    sample = load_dataset(tmp_path, layout="folder", multi_region=True)[0]
    assert sample.meta["region_values"] == [3, 7]
    assert (sample.gt == 1).sum() == 16 and (sample.gt == 2).sum() == 25


def test_unknown_folder_lists_the_layouts(tmp_path):
    (tmp_path / "stuff").mkdir()
    with pytest.raises(InputError) as info:
        load_dataset(tmp_path)
    for layout in ("grabcut", "coco_mval", "sbd", "brats", "msd", "chaos", "ct_slices_2d"):
        assert layout in str(info.value)
    with pytest.raises(InputError, match="does not exist"):
        load_dataset(tmp_path / "nowhere")
    with pytest.raises(InputError, match="no option 'axis'"):
        _save(tmp_path / "images" / "x.png", np.zeros((4, 4), np.uint8))
        _save(tmp_path / "masks" / "x.png", np.zeros((4, 4), np.uint8))
        load_dataset(tmp_path, axis=1)
    with pytest.raises(InputError, match="unknown layout 'kitti'"):
        load_dataset(tmp_path, layout="kitti")


def test_unreadable_image_names_the_file(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "broken.jpg").write_bytes(b"this is not a jpeg")
    _save(tmp_path / "masks" / "broken.png", _disk_mask())
    with pytest.raises(InputError, match="could not read image .*broken.jpg"):
        load_dataset(tmp_path)[0]


def test_sbd_mat_and_pascal_png_instances(tmp_path):
    from scipy.io import savemat

    instances = np.zeros((30, 40), np.uint8)
    instances[2:10, 2:10], instances[15:25, 20:35] = 1, 2
    sbd = tmp_path / "sbd"
    _save(sbd / "img" / "2008_000001.jpg", np.full((30, 40, 3), 128, np.uint8))
    (sbd / "inst").mkdir()
    savemat(str(sbd / "inst" / "2008_000001.mat"), {"GTinst": {"Segmentation": instances, "Categories": np.array([[15], [7]])}})
    (sbd / "val.txt").write_text("2008_000001\n")
    ds = load_dataset(sbd, split="val")
    assert ds.layout == "sbd" and [s.name for s in ds] == ["2008_000001_1", "2008_000001_2"]
    assert ds[1].gt.sum() == 150
    assert load_dataset(sbd, multi_region=True)[0].gt.max() == 2

    voc = tmp_path / "voc"
    boundary = instances.copy()
    boundary[1, 2:10] = 255
    _save(voc / "JPEGImages" / "2007_000032.jpg", np.full((30, 40, 3), 90, np.uint8))
    _save(voc / "SegmentationObject" / "2007_000032.png", boundary)
    ds = load_dataset(voc)
    assert ds.layout == "pascal" and len(ds) == 2
    assert ds[0].ignore.sum() == 8 and ds[0].gt.sum() == 64


def test_davis_native_per_object(tmp_path):
    annotation = np.zeros((24, 32), np.uint8)
    annotation[2:8, 2:8], annotation[12:20, 12:30] = 1, 2
    for frame in ("00000", "00001"):
        _save(tmp_path / "JPEGImages" / "480p" / "bear" / f"{frame}.jpg", np.full((24, 32, 3), 50, np.uint8))
        _save(tmp_path / "Annotations" / "480p" / "bear" / f"{frame}.png", annotation)
    ds = load_dataset(tmp_path)
    assert ds.layout == "davis" and len(ds) == 4 and ds[1].name == "bear_00000_2" and ds[1].gt.sum() == 144


def test_msd_task_with_four_d_images(tmp_path):
    import nibabel as nib

    labels = np.zeros((16, 12, 5), np.uint8)  # (X, Y, Z) as nibabel stores it
    labels[4:10, 3:8, 1:4] = 1
    labels[5:7, 4:6, 2] = 2
    image = np.random.default_rng(0).normal(size=(16, 12, 5, 2)).astype(np.float32)
    (tmp_path / "imagesTr").mkdir()
    (tmp_path / "labelsTr").mkdir()
    affine = np.diag([0.8, 0.8, 4.0, 1.0])
    nib.save(nib.Nifti1Image(image, affine), str(tmp_path / "imagesTr" / "BRATS_001.nii.gz"))
    nib.save(nib.Nifti1Image(labels, affine), str(tmp_path / "labelsTr" / "BRATS_001.nii.gz"))
    description = {
        "name": "BrainTumour",
        "modality": {"0": "FLAIR", "1": "T1w"},
        "labels": {"0": "background", "1": "edema", "2": "enhancing tumor"},
        "training": [{"image": "./imagesTr/BRATS_001.nii.gz", "label": "./labelsTr/BRATS_001.nii.gz"}],
    }
    (tmp_path / "dataset.json").write_text(json.dumps(description))
    ds = load_dataset(tmp_path, classes=["enhancing_tumor"], channel=1)
    assert ds.layout == "msd" and ds.name == "BrainTumour" and len(ds) == 1
    sample = ds[0]
    assert sample.kind == "mr" and sample.image.shape == (12, 16) and sample.spacing == pytest.approx((0.8, 0.8))
    np.testing.assert_allclose(sample.image, image[:, :, 2, 1].T)
    assert sample.gt.sum() == 4
    with pytest.raises(InputError, match="unknown class 'tumour'"):
        len(load_dataset(tmp_path, classes=["tumour"]))


def _write_dicom_slice(path: Path, array: np.ndarray, modality: str) -> None:
    import SimpleITK as sitk

    image = sitk.GetImageFromArray(array.astype(np.int16))
    image.SetSpacing((0.7, 0.7))
    image.SetMetaData("0008|0060", modality)
    path.parent.mkdir(parents=True, exist_ok=True)
    sitk.WriteImage(image, str(path))


def test_chaos_fake_ct_and_mr(tmp_path):
    root = tmp_path / "CHAOS_Train_Sets" / "Train_Sets"
    liver = _disk_mask((32, 32), (16, 16), 6)
    for k in range(3):
        _write_dicom_slice(root / "CT" / "1" / "DICOM_anon" / f"i{k:04d},0000b.dcm", np.full((32, 32), -1000 + k), "CT")
        _save(root / "CT" / "1" / "Ground" / f"liver_GT_{k:03d}.png", liver if k == 1 else np.zeros_like(liver))
    mr_mask = np.zeros((32, 32), np.uint8)
    mr_mask[2:8, 2:8], mr_mask[20:26, 20:26] = 63, 252  # liver, spleen
    _write_dicom_slice(root / "MR" / "2" / "T2SPIR" / "DICOM_anon" / "IMG-0002-00001.dcm", np.full((32, 32), 300), "MR")
    _save(root / "MR" / "2" / "T2SPIR" / "Ground" / "IMG-0002-00001.png", mr_mask)
    ds = load_dataset(tmp_path)
    assert ds.layout == "chaos"
    assert [s.name for s in ds] == ["CT_1_001_liver", "MR_2_T2SPIR_000_liver", "MR_2_T2SPIR_000_spleen"]
    ct = ds[0]
    assert ct.kind == "ct" and ct.image.shape == (32, 32) and ct.image.min() == -999 and ct.spacing == pytest.approx((0.7, 0.7))
    assert ct.gt.sum() == (liver > 0).sum()
    multi = load_dataset(tmp_path, multi_region=True, modalities=["MR"])
    assert len(multi) == 1 and multi[0].meta["classes"][multi[0].gt[22, 22] - 1] == "spleen"
    (root / "CT" / "1" / "Ground" / "liver_GT_002.png").unlink()
    with pytest.raises(InputError, match="3 DICOM slices but .* 2 masks"):
        load_dataset(tmp_path)


def test_ct_slices_json_naming_a_missing_or_broken_mask(tmp_path):
    _save(tmp_path / "images" / "case_7.png", np.full((20, 24, 3), 40, np.uint8))
    _save(tmp_path / "masks" / "case_7_liver_000.png", np.pad(np.full((6, 6), 255, np.uint8), ((7, 7), (9, 9))))
    listing = {"data_demo/images/case_7.png": ["data_demo/masks/case_7_liver_000.png", "data_demo/masks/case_7_kidney_000.png"]}
    (tmp_path / "image2label_train.json").write_text(json.dumps(listing))
    with pytest.raises(InputError, match="case_7_kidney_000.png .* is not under"):
        len(load_dataset(tmp_path))
    (tmp_path / "masks" / "case_7_kidney_000.png").write_bytes(b"\x89PNG broken")
    ds = load_dataset(tmp_path)
    assert len(ds) == 1
    with pytest.raises(InputError, match="could not read mask .*case_7_kidney_000.png"):
        ds[0]


def test_samples_are_samples(grabcut_dir):
    sample = load_dataset(grabcut_dir)[0]
    assert isinstance(sample, Sample) and sample.num_regions == 1
