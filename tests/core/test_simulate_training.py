"""Training simulators (000 meta-simulators, 001 skeleton+MST, 002 corrective, linked points), the
multi-class helper and the perturbed previous masks."""

from __future__ import annotations

import pickle
from pathlib import Path

import cv2
import numpy as np
import pytest

from napari_scribbleseg.errors import InputError
from napari_scribbleseg.simulate import (
    TRAINING_SIMULATORS,
    corrective_scribble,
    get_training_simulator,
    perturb_label_map,
    perturb_mask,
    simulate_scribbles,
    stroke_count,
)
from napari_scribbleseg.simulate.prev_mask import (
    dilate_mask,
    erase_locally,
    erode_mask,
    translate_mask,
)

NAMES = sorted(TRAINING_SIMULATORS)


def disk(shape, center, radius):
    rr, cc = np.ogrid[: shape[0], : shape[1]]
    return (rr - center[0]) ** 2 + (cc - center[1]) ** 2 <= radius**2


def shapes() -> dict[str, np.ndarray]:
    ring = disk((160, 160), (80, 80), 70) & ~disk((160, 160), (80, 80), 40)
    blobs = disk((120, 220), (60, 50), 40) | disk((120, 220), (60, 170), 30)
    line = np.zeros((60, 200), bool)
    line[28:33, 10:190] = True
    return {"ring": ring, "two_blobs": blobs, "thin_line": line}


def stroke_width(stroke: np.ndarray) -> int:
    """Width of a stroke: the largest elliptic kernel whose erosion keeps >= 10 % of it (exact for
    straight, diagonal and curved lines drawn with an odd width; crossings barely count)."""
    width = 0
    for k in range(1, 14):
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
        if cv2.erode(stroke.astype(np.uint8), kernel).sum() >= 0.1 * stroke.sum():
            width = k
    return width


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("shape", ["ring", "two_blobs", "thin_line"])
def test_strokes_lie_inside_the_mask(name, shape):
    mask = shapes()[shape]
    for seed in range(3):
        stroke = get_training_simulator(name)(mask, np.random.default_rng(seed))
        assert stroke.shape == mask.shape and stroke.dtype == bool
        assert stroke.any() and not np.any(stroke & ~mask), (name, shape, seed)


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_strokes_other_seed_other_strokes(name):
    mask = shapes()["ring"]
    simulate = get_training_simulator(name)
    a = simulate(mask, np.random.default_rng(7))
    b = simulate(pickle.loads(pickle.dumps(mask)), 7)  # an int seed is the same generator
    assert np.array_equal(a, b)
    others = [simulate(mask, np.random.default_rng(s)) for s in (8, 9, 10)]
    assert any(not np.array_equal(a, o) for o in others)


@pytest.mark.parametrize("name", ["bezier", "axial", "boundary", "linked_points", "corrective", "skeleton_mst"])
@pytest.mark.parametrize("width", [3, 7])
def test_requested_width(name, width):
    rr, cc = np.ogrid[:120, :220]
    mask = ((rr - 60) / 50) ** 2 + ((cc - 110) / 100) ** 2 <= 1  # elongated: every stroke kind runs long
    stroke = get_training_simulator(name)(mask, np.random.default_rng(1), width=width)
    assert abs(stroke_width(stroke) - width) <= 1


def test_random_widths_stay_in_3_to_7():
    mask = disk((200, 200), (100, 100), 90)
    widths = [stroke_width(get_training_simulator("bezier")(mask, np.random.default_rng(s))) for s in range(12)]
    assert min(widths) >= 2 and max(widths) <= 8 and max(widths) - min(widths) >= 2


def test_stroke_count_decays_by_0_8_up_to_16():
    rng = np.random.default_rng(0)
    counts = np.bincount([stroke_count(rng) for _ in range(4000)], minlength=18)
    assert counts[0] == 0 and counts[17] == 0 and counts[16] > 0
    assert counts[2] / counts[1] == pytest.approx(0.8, abs=0.08)


def test_scribbleseg_strokes_avoid_the_boundary():
    mask = disk((200, 200), (100, 100), 80)
    stroke = get_training_simulator("scribbleseg")(mask, np.random.default_rng(3))
    dist = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    assert dist[stroke].min() > 2  # protect boundary: strokes keep off the mask's edge


def test_corrective_starts_at_the_border_with_the_correct_part():
    gt_region = np.zeros((100, 160), bool)
    gt_region[20:80, 20:140] = True
    error = gt_region.copy()
    error[:, :80] = False  # the right half was predicted as another class
    stroke = corrective_scribble(error, np.random.default_rng(0), gt_region=gt_region, width=3)
    assert not np.any(stroke & ~gt_region)
    assert stroke[:, 78:83].any()  # it crosses from the correct part into the error
    assert stroke[:, 90:].any()


@pytest.mark.parametrize("recipe", NAMES)
def test_simulate_scribbles_multi_class(recipe):
    gt = np.zeros((120, 180), int)
    gt[:, :60] = 1
    gt[:, 60:120] = 2
    gt[:, 120:] = 3
    gt[:10] = 0  # unlabelled rows get no strokes
    out = simulate_scribbles(gt, rng=np.random.default_rng(0), recipe=recipe)
    assert out.dtype == np.int32 and set(np.unique(out)) == {0, 1, 2, 3}
    assert np.all(out[out > 0] == gt[out > 0])
    assert np.array_equal(out, simulate_scribbles(gt, rng=0, recipe=recipe))


def test_simulate_scribbles_corrects_a_previous_mask():
    gt = np.where(disk((120, 120), (60, 60), 40), 1, 2)
    prev = np.where(disk((120, 120), (60, 80), 40), 1, 0)  # shifted right; 0 = background in binary
    out = simulate_scribbles(gt, prev, rng=0)
    fn, fp = (gt == 1) & (prev != 1), (gt == 2) & (prev == 1)
    assert np.any(out == 1) and np.all(fn[out == 1])
    assert np.any(out == 2) and np.all(fp[out == 2])
    assert not np.any(simulate_scribbles(gt, gt, rng=0))  # nothing to correct


def test_simulate_scribbles_on_grabcut(grabcut_dir: Path):
    from PIL import Image

    mask = np.array(Image.open(grabcut_dir / "masks" / "124080.bmp"))
    gt = np.where(mask == 255, 1, 2)
    out = simulate_scribbles(gt, rng=0, ignore=mask == 128)
    assert np.any(out == 1) and np.any(out == 2) and not np.any(out[mask == 128])
    assert np.all(out[out > 0] == gt[out > 0])
    prev = perturb_label_map(gt, 0)
    again = simulate_scribbles(gt, prev, rng=0, ignore=mask == 128)
    assert np.all(again[again > 0] == gt[again > 0]) and np.all(prev[again > 0] != again[again > 0])


def test_bad_recipe_and_missing_rng():
    gt = np.where(disk((40, 40), (20, 20), 10), 1, 2)
    with pytest.raises(KeyError, match="scribbleseg"):
        simulate_scribbles(gt, rng=0, recipe="lasso")
    with pytest.raises(InputError, match="rng"):
        simulate_scribbles(gt)
    with pytest.raises(InputError, match="empty"):
        get_training_simulator("bezier")(np.zeros((10, 10), bool), 0)
    with pytest.raises(InputError, match="shape"):
        simulate_scribbles(gt, prev=gt[:-1], rng=0)
    with pytest.raises(InputError, match="width"):
        get_training_simulator("axial")(gt == 1, 0, width=(7, 3))


# ---- perturbed previous masks ------------------------------------------------------------------------


def test_each_perturbation_does_what_its_name_says():
    mask = disk((200, 200), (100, 100), 50)
    rng = np.random.default_rng(0)
    grown, shrunk = dilate_mask(mask, rng), erode_mask(mask, rng)
    assert grown.sum() > mask.sum() and np.all(grown[mask])
    assert shrunk.sum() < mask.sum() and not np.any(shrunk & ~mask)
    moved = translate_mask(mask, rng)
    assert moved.sum() == mask.sum() and not np.array_equal(moved, mask)
    holed = erase_locally(mask, rng)
    assert holed.sum() < mask.sum() and not np.any(holed & ~mask)


def test_perturbations_are_seeded():
    mask = disk((100, 100), (50, 50), 30)
    a = [perturb_mask(mask, s) for s in range(6)]
    assert all(np.array_equal(x, perturb_mask(mask, s)) for s, x in enumerate(a))
    assert len({x.tobytes() for x in a}) > 1


def test_perturbed_label_map_keeps_one_label_per_pixel_and_changes_something():
    gt = np.full((100, 100), 2)
    gt[20:70, 20:70] = 1
    gt[75:95, 10:90] = 3
    for seed in range(5):
        prev = perturb_label_map(gt, seed)
        assert prev.shape == gt.shape and prev.dtype == np.int32
        assert set(np.unique(prev)) <= {1, 2, 3} and not np.array_equal(prev, gt)
