import numpy as np
import pytest

from napari_scribbleseg import imaging
from napari_scribbleseg.errors import InputError


@pytest.mark.parametrize(
    ("image", "fix"),
    [
        (np.zeros((2, 5, 8, 8)), "pick a time point / channel first"),
        (np.zeros((7, 16, 16)), "pass one slice, e.g. vol[z]"),
        (np.zeros((16, 16, 4), np.uint8), "drop alpha: image[..., :3]"),
        (np.zeros((16, 16, 2)), "pick one channel"),
        (np.zeros((3, 32, 32)), "np.moveaxis(image, 0, -1)"),
        (np.zeros((0, 16)), "empty"),
        (np.zeros(16), "1-D"),
        (np.array([["a", "b"], ["c", "d"]]), "non-numeric dtype"),
        (np.zeros((4, 4), np.complex64), "complex dtype"),
    ],
)
def test_bad_images_are_named_with_the_fix(image, fix):
    with pytest.raises(InputError) as info:
        imaging.check_image(image)
    assert fix in str(info.value)
    assert str(tuple(image.shape)) in str(info.value) or "dtype" in str(info.value)


def test_nan_in_ct_names_the_replacement():
    ct = np.full((8, 8), 40.0, np.float32)
    ct[2, 3] = np.nan
    ct[4, 4] = np.inf
    with pytest.raises(InputError) as info:
        imaging.to_rgb_float(ct, kind="ct")
    assert "2 NaN/inf" in str(info.value)
    assert "np.nan_to_num(img, nan=-1024)" in str(info.value)


def test_good_images_pass_unchanged():
    gray = np.arange(12, dtype=np.int16).reshape(3, 4)
    rgb = np.zeros((3, 4, 3), np.uint8)
    assert imaging.check_image(gray) is gray
    assert imaging.check_image(rgb) is rgb
    assert imaging.check_image(gray > 5).dtype == bool


def test_ct_window_maps_level_and_width():
    hu = np.array([[-1000, -160, 40, 240, 3000]], np.int16)
    out = imaging.ct_window(hu, 40, 400)
    np.testing.assert_allclose(out, [[0.0, 0.0, 0.5, 1.0, 1.0]], atol=1e-6)
    assert out.dtype == np.float32
    with pytest.raises(InputError, match="positive width"):
        imaging.ct_window(hu, 40, 0)


def test_to_rgb_float_ct_uses_named_and_default_windows():
    hu = np.linspace(-1200, 1500, 64 * 64).reshape(64, 64).astype(np.int16)
    lung = imaging.to_rgb_float(hu, kind="ct", window="lung")
    assert lung.shape == (64, 64, 3) and lung.dtype == np.float32
    level, width = imaging.CT_WINDOWS["lung"]
    np.testing.assert_allclose(lung[..., 0], imaging.ct_window(hu, level, width))
    default = imaging.to_rgb_float(hu, kind="ct")
    np.testing.assert_allclose(default[..., 1], imaging.ct_window(hu, 40, 400))
    custom = imaging.to_rgb_float(hu, kind="ct", window=(40, 400))
    np.testing.assert_array_equal(custom, default)
    with pytest.raises(InputError, match="unknown CT window 'spleen'"):
        imaging.to_rgb_float(hu, kind="ct", window="spleen")


def test_mr_normalize_clips_outliers_and_respects_mask():
    rng = np.random.default_rng(0)
    x = rng.normal(100, 10, (50, 50)).astype(np.float32)
    x[0, 0] = 1e6  # a bright artefact must not squash the tissue contrast
    out = imaging.mr_normalize(x)
    assert out.min() == 0.0 and out.max() == 1.0
    assert 0.35 < float(np.median(out)) < 0.65
    background = np.zeros((50, 50), np.float32)
    background[10:40, 10:40] = x[10:40, 10:40]
    masked = imaging.mr_normalize(background, mask=background > 0)
    unmasked = imaging.mr_normalize(background)
    # with the zero background counted, tissue is squashed to the top; with the mask it spreads out
    assert np.median(masked[10:40, 10:40]) < np.median(unmasked[10:40, 10:40])
    assert not imaging.mr_normalize(np.full((4, 4), 3.0)).any()


def test_rgb_and_gray_scaling_by_dtype():
    u8 = np.full((4, 4, 3), 255, np.uint8)
    np.testing.assert_allclose(imaging.to_rgb_float(u8), 1.0)
    u16 = np.full((4, 4), 65535 // 2, np.uint16)
    np.testing.assert_allclose(imaging.to_rgb_float(u16, kind="gray"), 0.5, atol=1e-4)
    unit = np.linspace(0, 1, 16, dtype=np.float32).reshape(4, 4)
    out = imaging.to_rgb_float(unit)
    np.testing.assert_allclose(out[..., 2], unit)
    photo255 = (unit * 255).astype(np.float64)
    np.testing.assert_allclose(imaging.to_rgb_float(photo255, kind="gray")[..., 0], unit, atol=1e-6)


@pytest.mark.parametrize(
    ("image", "kind"),
    [
        (np.zeros((4, 4, 3), np.uint8), "rgb"),
        (np.zeros((4, 4), np.uint8), "gray"),
        (np.array([[-1024, 40], [300, 1000]], np.int16), "ct"),
        (np.array([[-1024.0, 40.0], [300.0, 1000.0]], np.float32), "ct"),
        (np.array([[0, 900], [1200, 4000]], np.uint16), "mr"),
        (np.array([[-1.5, 0.0], [2.0, 3.0]], np.float32), "mr"),
        (np.array([[0.0, 0.25], [0.5, 1.0]]), "gray"),
    ],
)
def test_guess_kind(image, kind):
    assert imaging.guess_kind(image) == kind


def test_ct_or_mr_kind_rejects_rgb_and_unknown_kind():
    with pytest.raises(InputError, match="one channel"):
        imaging.to_rgb_float(np.zeros((4, 4, 3)), kind="ct")
    with pytest.raises(InputError, match="unknown image kind 'xray'"):
        imaging.to_rgb_float(np.zeros((4, 4)), kind="xray")


def test_image_key_is_stable_and_content_sensitive():
    rng = np.random.default_rng(1)
    image = rng.integers(0, 255, (300, 400, 3), dtype=np.uint8)
    key = imaging.image_key(image)
    assert key == imaging.image_key(image.copy())
    edited = image.copy()
    edited[151, 203, 1] ^= 1  # one pixel off the strided sample
    assert imaging.image_key(edited) != key
    assert imaging.image_key(image.astype(np.int16)) != key
    assert imaging.image_key(image.reshape(400, 300, 3)) != key
    # the digest is a fixed function of the content, not of the process (no salted hash())
    small = np.arange(12, dtype=np.uint8).reshape(3, 4)
    assert imaging.image_key(small) == imaging.image_key(np.arange(12, dtype=np.uint8).reshape(3, 4))
    assert len(key) == 32


def test_real_ct_slice_to_rgb_float(totalseg_dir):
    import nibabel as nib

    volume = np.asarray(nib.load(str(totalseg_dir / "example_ct_sm.nii.gz")).dataobj)
    hu = volume[:, :, volume.shape[2] // 2]
    assert imaging.guess_kind(hu) == "ct"
    out = imaging.to_rgb_float(hu)
    assert out.shape == (*hu.shape, 3) and 0.0 <= out.min() and out.max() <= 1.0
    # air outside the body is black, bone inside is white under the abdomen window
    assert out[hu < -500].max() == 0.0 and out[hu > 240].min() == 1.0


def test_image_key_tells_apart_images_with_equal_samples_and_sums():
    a = np.zeros((1024, 1024), np.float32)
    b = a.copy()
    a[5, 3] = a[9, 7] = 1.0  # off every 16th value, and the same row and column sums as b
    b[5, 7] = b[9, 3] = 1.0
    assert imaging.image_key(a) != imaging.image_key(b)
    assert imaging.image_key(np.asfortranarray(a)) == imaging.image_key(a)  # the values count, not the layout


def _dim_object_with_saturation():
    """uint16: an object at 400 on 100, with 3.4 % of the pixels saturated at 65535 (a hot border)."""
    rng = np.random.default_rng(0)
    image = (100 + rng.normal(0, 8, (200, 200))).astype(np.uint16)
    image[60:140, 60:140] = (400 + rng.normal(0, 8, (80, 80))).astype(np.uint16)
    image[:, :7] = 65535  # 1400 of 40000 pixels
    return image


def test_a_saturated_plateau_does_not_squash_the_contrast_and_says_so():
    image = _dim_object_with_saturation()
    with pytest.warns(UserWarning, match=r"3\.5% of the image is saturated at 65535.*intensity=\(low, high\)"):
        rgb = imaging.to_rgb_float(image)
    object_, background = rgb[70:130, 70:130, 0].mean(), rgb[10:50, 150:190, 0].mean()
    assert object_ - background > 0.6  # before: both within 0.005 of 0


def test_a_saturated_image_still_segments_with_a_classical_peer():
    from napari_scribbleseg.metrics import iou
    from napari_scribbleseg.predictor import get_predictor

    image = _dim_object_with_saturation()
    scribbles = np.zeros(image.shape, np.int32)
    scribbles[100, 70:130] = 1
    scribbles[20, 20:180] = 2
    predictor = get_predictor("growcut")
    with pytest.warns(UserWarning, match="saturated"):
        predictor.set_image(image)
    truth = np.zeros(image.shape, bool)
    truth[60:140, 60:140] = True
    assert iou(predictor.predict(scribbles) == 1, truth) > 0.9


def test_an_explicit_intensity_range_replaces_the_automatic_rule():
    image = _dim_object_with_saturation()
    rgb = imaging.to_rgb_float(image, intensity=(100, 400))
    assert rgb.shape == (200, 200, 3) and rgb.dtype == np.float32
    assert rgb[100, 100, 0] == pytest.approx(1.0, abs=0.1) and rgb[20, 100, 0] == pytest.approx(0.0, abs=0.1)
    assert rgb[0, 0, 0] == 1.0  # clipped above
    for bad in ((400, 100), (1,), "wide", (0, float("nan"))):
        with pytest.raises(InputError, match="intensity"):
            imaging.to_rgb_float(image, intensity=bad)


def test_a_grey_float_image_in_0_255_follows_the_documented_rule():
    image = np.linspace(0, 255, 64 * 64, dtype=np.float32).reshape(64, 64)
    assert imaging.guess_kind(image) == "mr"  # the rule to_rgb_float's docstring states
    np.testing.assert_allclose(imaging.to_rgb_float(image, kind="gray")[..., 0], image / 255, atol=1e-6)
