"""The evaluation protocol's simulators: error regions, the deterministic scribble (000 Alg. 1), the click."""

from __future__ import annotations

import hashlib
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

from napari_scribbleseg.errors import InputError
from napari_scribbleseg.simulate import (
    SIMULATORS,
    Interaction,
    error_regions,
    first_interaction,
    get_simulator,
    next_click,
    next_scribble,
    scribble_in_region,
)
from napari_scribbleseg.simulate.geometry import protected_region

SRC = Path(__file__).resolve().parents[2] / "src"


def grabcut_gt(grabcut_dir: Path, name: str) -> tuple[np.ndarray, np.ndarray]:
    """GrabCut mask -> (gt with 1 object / 2 background, ignore = the 128 band)."""
    from PIL import Image

    mask = np.array(Image.open(grabcut_dir / "masks" / f"{name}.bmp"))
    return np.where(mask == 255, 1, 2), mask == 128


def binary(mask: np.ndarray) -> np.ndarray:
    return np.where(mask, 1, 2)


def disk(shape, center, radius):
    rr, cc = np.ogrid[: shape[0], : shape[1]]
    return (rr - center[0]) ** 2 + (cc - center[1]) ** 2 <= radius**2


def fingerprint(it: Interaction) -> str:
    return hashlib.sha256(pickle.dumps((it.label, it.kind, it.mask.tobytes(), it.path.tobytes()))).hexdigest()


# ---- error regions ---------------------------------------------------------------------------------


def test_error_regions_largest_first_with_their_class():
    gt = np.full((40, 60), 2)
    gt[5:25, 5:25] = 1  # object A: 400 px, fully missed
    gt[30:35, 40:45] = 1  # object B: 25 px, missed
    pred = np.full_like(gt, 2)
    pred[0:3, 50:60] = 1  # a 30 px false positive
    regions = error_regions(gt, pred)
    assert [(k, int(m.sum())) for k, m in regions] == [(1, 400), (2, 30), (1, 25)]
    assert all(np.all(gt[m] == k) for k, m in regions)
    assert len(error_regions(gt, pred, limit=1)) == 1


def test_error_regions_split_touching_fn_and_fp_by_class():
    gt = binary(np.pad(np.ones((10, 10), bool), 10))
    pred = np.roll(gt, 3, axis=1)  # shifted: FN and FP strips touch along the object
    regions = error_regions(gt, pred)
    assert {k for k, _ in regions} == {1, 2}
    for k, m in regions:
        assert np.all(gt[m] == k) and np.all(pred[m] != k)


def test_error_regions_ties_broken_by_class_then_raster_order():
    gt = np.full((20, 20), 2)
    gt[12:15, 2:5] = 1  # 9 px FN, later in raster order
    gt[2:5, 12:15] = 1  # 9 px FN, earlier
    pred = np.full_like(gt, 2)
    pred[2:5, 2:5] = 1  # 9 px FP (class 2)
    order = [(k, tuple(np.argwhere(m)[0])) for k, m in error_regions(gt, pred)]
    assert order == [(1, (2, 12)), (1, (12, 2)), (2, (2, 2))]


def test_error_regions_leave_out_ignore_and_read_pred_zero_as_background():
    gt = np.full((30, 30), 2)
    gt[10:20, 10:20] = 1
    ignore = np.zeros_like(gt, bool)
    ignore[8:22, 8:22] = True
    ignore[12:18, 12:18] = False  # only a 6x6 core of the object counts
    assert error_regions(gt, np.zeros_like(gt), ignore)[0][1].sum() == 36
    assert error_regions(gt, np.where(gt == 1, 1, 0)) == []


def test_bool_ground_truth_is_a_binary_task():
    mask = disk((50, 80), (25, 40), 15)
    assert next_scribble(mask, None) == next_scribble(binary(mask), None)
    (label, region), = error_regions(mask, mask & (np.arange(80)[None, :] < 40))
    assert label == 1 and region.sum() == np.sum(mask[:, 40:])


def test_error_regions_multi_class_pred_zero_is_wrong():
    gt = np.ones((10, 30), int)
    gt[:, 10:20] = 2
    gt[:, 20:] = 3
    pred = gt.copy()
    pred[:, 25:] = 0  # "no class" is an error when there are more than two classes
    (label, mask), = error_regions(gt, pred)
    assert label == 3 and mask.sum() == 50


# ---- the deterministic scribble -------------------------------------------------------------------


@pytest.mark.parametrize("width", [3, 5, 7])
def test_scribble_has_the_requested_width_and_follows_the_axis(width):
    region = np.zeros((60, 240), bool)
    region[10:51, 20:220] = True  # a 41 px high bar: the medial axis is its middle row
    mask, path = scribble_in_region(region, width=width)
    counts = mask[:, 80:160].sum(axis=0)
    assert np.all(counts == width)
    rows = np.flatnonzero(mask[:, 120])
    assert rows.min() + rows.max() == 2 * 30  # centred on row 30
    assert path.shape[1] == 2 and len(path) > 50


def test_scribble_lies_in_the_eroded_region():
    region = disk((200, 200), (100, 100), 70) & ~disk((200, 200), (100, 130), 35)  # a crescent
    eroded = protected_region(region, 3)
    assert eroded.sum() < region.sum()
    mask, _ = scribble_in_region(region, width=3)
    assert mask.any() and not np.any(mask & ~eroded)
    loose, _ = scribble_in_region(region, width=3, protect_boundary=False)
    assert not np.any(loose & ~region)


@pytest.mark.parametrize("band", [2, 3, 5])
def test_thin_band_gets_a_stroke_along_most_of_it(band):
    """A typical correction: a narrow band along an object's edge, larger than the skeleton's 256 px."""
    rr, cc = np.ogrid[:500, :500]
    d = np.hypot(rr - 250, cc - 250)
    region = (d >= 200) & (d < 200 + band) & (cc < 400)
    mask, path = scribble_in_region(region, width=3)
    assert not np.any(mask & ~region)
    axis_length = 200 * (2 * np.pi - 2 * np.arccos(150 / 200))  # the arc left of column 400
    assert np.hypot(*np.diff(path, axis=0).T).sum() > 0.8 * axis_length


def test_scribble_on_a_ring_is_one_open_stroke():
    ring = disk((120, 120), (60, 60), 50) & ~disk((120, 120), (60, 60), 30)
    mask, path = scribble_in_region(ring, width=3)
    assert not np.any(mask & ~ring)
    # the cycle is cut: the stroke runs most of the way round but not all of it
    angles = np.unwrap(np.arctan2(path[:, 0] - 60, path[:, 1] - 60))
    assert np.pi < abs(angles[-1] - angles[0]) < 2 * np.pi
    assert ndimage.label(mask, np.ones((3, 3)))[1] == 1


def test_scribble_goes_to_the_larger_blob():
    gt = binary(disk((100, 200), (50, 50), 30) | disk((100, 200), (50, 150), 20))
    it = next_scribble(gt, np.full_like(gt, 2))
    assert it.label == 1 and it.mask[:, :100].any() and not it.mask[:, 100:].any()


@pytest.mark.parametrize(
    "region_slice",
    [(slice(10, 11), slice(5, 60)), (slice(20, 21), slice(30, 31)), (slice(18, 23), slice(28, 33))],
    ids=["thin_line", "one_pixel", "small_square"],
)
def test_thin_and_tiny_regions_still_get_a_stroke(region_slice):
    region = np.zeros((40, 70), bool)
    region[region_slice] = True
    mask, path = scribble_in_region(region, width=3)
    assert mask.any() and not np.any(mask & ~protected_region(region, 3))
    assert np.all(region[tuple(np.rint(path).astype(int).T)])


def test_scribble_is_bit_for_bit_deterministic_and_survives_pickling():
    gt = binary(disk((150, 200), (70, 90), 55) & ~disk((150, 200), (60, 120), 25))
    pred = np.full_like(gt, 2)
    pred[40:80, 60:100] = 1
    first = next_scribble(gt, pred)
    again = next_scribble(gt.copy(), pred.copy())
    assert first == again and fingerprint(first) == fingerprint(again)
    gt2, pred2 = pickle.loads(pickle.dumps((gt, pred)))
    assert fingerprint(next_scribble(gt2, pred2)) == fingerprint(first)
    assert pickle.loads(pickle.dumps(first)) == first


def test_scribble_is_identical_in_a_fresh_process_with_another_hash_seed():
    gt = binary(disk((150, 200), (70, 90), 55) & ~disk((150, 200), (60, 120), 25))
    code = (
        "import hashlib, pickle, numpy as np\n"
        "from napari_scribbleseg.simulate import next_scribble\n"
        "rr, cc = np.ogrid[:150, :200]\n"
        "m = ((rr - 70) ** 2 + (cc - 90) ** 2 <= 55 ** 2) & ~((rr - 60) ** 2 + (cc - 120) ** 2 <= 25 ** 2)\n"
        "it = next_scribble(np.where(m, 1, 2), None)\n"
        "print(hashlib.sha256(pickle.dumps((it.label, it.kind, it.mask.tobytes(), it.path.tobytes()))).hexdigest())\n"
    )
    env = dict(os.environ, PYTHONHASHSEED="12345", PYTHONPATH=str(SRC))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == fingerprint(next_scribble(gt, None))


def test_multi_class_scribble_goes_to_the_largest_error_anywhere():
    gt = np.ones((60, 90), int)
    gt[:, 30:60] = 2
    gt[:, 60:] = 3
    pred = gt.copy()
    pred[5:25, 35:55] = 3  # 400 px of class 2 wrong
    pred[40:50, 65:75] = 1  # 100 px of class 3 wrong
    it = next_scribble(gt, pred)
    assert it.label == 2 and it.mask.any()
    assert not np.any(it.mask & ~((gt == 2) & (pred != 2)))


# ---- clicks -------------------------------------------------------------------------------------


def test_click_sits_at_the_distance_transform_maximum():
    region = disk((100, 160), (50, 60), 30) | (np.arange(160)[None, :] > 140) & (np.arange(100)[:, None] < 20)
    gt = binary(region)
    it = next_click(gt, np.full_like(gt, 2), radius=5)
    (center,) = it.path.astype(int)
    dist = ndimage.distance_transform_edt(np.pad(region, 1))[1:-1, 1:-1]
    assert dist[tuple(center)] == pytest.approx(dist.max(), abs=1e-3)
    assert it.kind == "click" and it.label == 1
    assert it.mask.sum() == np.sum(disk(region.shape, center, 5))


def test_click_is_clipped_to_a_thin_region():
    region = np.zeros((30, 60), bool)
    region[10:13, 5:55] = True
    it = next_click(binary(region), None, radius=5)
    assert it.mask.any() and not np.any(it.mask & ~region)


# ---- GrabCut, as the evaluation loop uses it ---------------------------------------------------------


@pytest.mark.parametrize("name, protected", [("124080", True), ("153077", False)], ids=["flowers", "thin_limbs"])
def test_grabcut_session_of_scribbles(grabcut_dir, name, protected):
    """Compact objects keep their strokes in the eroded region; a figure with thin limbs, which erosion
    shatters, may use the whole region (see SHATTERED); either way strokes stay in the error region."""
    gt, ignore = grabcut_gt(grabcut_dir, name)
    assert ignore.any()
    it = first_interaction(gt, ignore=ignore)
    assert it.label == 1 and np.all(gt[it.mask] == 1) and not np.any(it.mask & ignore)
    pred = np.full_like(gt, 2)
    pred[it.mask] = 1
    for _ in range(3):
        step = next_scribble(gt, pred, ignore)
        (label, region), = error_regions(gt, pred, ignore, limit=1)
        inside = protected_region(region, 3) if protected else region
        assert step.label == label and step.mask.any() and not np.any(step.mask & ~inside)
        pred[step.mask] = step.label  # a crude "prediction": the new stroke is fixed, so the region shrinks
    click = first_interaction(gt, kind="click", ignore=ignore)
    assert click.kind == "click" and np.all(gt[click.mask] == 1)


def test_perfect_prediction_needs_no_interaction(grabcut_dir):
    gt, ignore = grabcut_gt(grabcut_dir, "124080")
    pred = np.where(ignore, 1, gt)  # the ignore band may be anything
    assert next_scribble(gt, pred, ignore) is None and next_click(gt, pred, ignore) is None


# ---- registry and bad input ------------------------------------------------------------------------


def test_registry_names_and_clear_key_error():
    assert set(SIMULATORS) == {"scribble", "click"} and get_simulator("click") is next_click
    with pytest.raises(KeyError, match="scribble"):
        get_simulator("lasso")


def test_bad_input_is_named():
    gt = binary(disk((20, 20), (10, 10), 5))
    with pytest.raises(InputError, match="shape"):
        next_scribble(gt, np.ones((20, 21), int))
    with pytest.raises(InputError, match="integer"):
        next_scribble(gt, gt.astype(float))
    with pytest.raises(InputError, match="2-D"):
        next_click(gt[None], None)
    with pytest.raises(InputError, match="ignore"):
        error_regions(np.where(gt == 1, 1, 0), None)
    with pytest.raises(InputError, match="empty"):
        scribble_in_region(np.zeros((10, 10), bool))
    with pytest.raises(InputError, match="class 1"):
        first_interaction(np.full((10, 10), 2))
    with pytest.raises(InputError, match="kind"):
        first_interaction(gt, kind="lasso")
    with pytest.raises(InputError, match="width"):
        scribble_in_region(gt == 1, width=0)


def test_large_region_is_skeletonised_downsampled_but_drawn_in_full():
    region = np.zeros((600, 600), bool)
    region[50:550, 50:550] = True  # bigger than max_side: the skeleton is found at half resolution
    mask, path = scribble_in_region(region)
    assert not np.any(mask & ~protected_region(region, 3))
    length = np.hypot(*np.diff(path, axis=0).T).sum()
    assert length > 400  # the square's longest medial path: a diagonal through the centre
    assert np.all(np.abs(np.diff(path, axis=0)) < 1.5)  # densely sampled at full resolution
