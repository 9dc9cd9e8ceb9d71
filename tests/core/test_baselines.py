"""The classical peers: they segment what a user would expect from a few strokes, under the protocol."""

from __future__ import annotations

import numpy as np
import pytest

from napari_scribbleseg import get_predictor
from napari_scribbleseg.baselines import GrabCut, GrowCut, RandomWalker, implicit_background
from napari_scribbleseg.errors import InputError, NotReadyError
from napari_scribbleseg.metrics import iou

PEERS = ["random_walker", "grabcut", "growcut"]


def two_regions(shape=(60, 80), seed=0) -> tuple[np.ndarray, np.ndarray]:
    """A noisy RGB image with a bright disk (object, class 1) on a dark textured background."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[: shape[0], : shape[1]]
    disk = (rows - 30) ** 2 + (cols - 38) ** 2 < 18**2
    image = np.where(disk[..., None], [200, 60, 40], [40, 90, 160]).astype(np.float64)
    image += rng.normal(0, 12, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8), disk


def strokes(shape=(60, 80)) -> np.ndarray:
    scribbles = np.zeros(shape, np.int32)
    scribbles[30, 28:48] = 1  # a line inside the disk
    scribbles[5, 5:75] = 2  # a line across the background
    return scribbles


@pytest.mark.parametrize("name", PEERS)
def test_two_strokes_segment_two_regions(name):
    image, disk = two_regions()
    predictor = get_predictor(name)
    predictor.set_image(image)
    labels = predictor.predict(strokes())
    assert labels.shape == disk.shape and labels.dtype == np.int32
    assert iou(labels == 1, disk) > 0.95
    assert set(np.unique(labels)) == {1, 2}


@pytest.mark.parametrize("name", PEERS)
def test_scribbled_pixels_keep_their_class_even_against_the_image(name):
    image, disk = two_regions()
    scribbles = strokes()
    scribbles[31, 28:48] = 2  # a background stroke right inside the object
    predictor = get_predictor(name)
    predictor.set_image(image)
    labels = predictor.predict(scribbles)
    assert np.array_equal(labels[scribbles > 0], scribbles[scribbles > 0])


@pytest.mark.parametrize("name", PEERS)
def test_three_classes_compete_for_each_pixel(name):
    image, disk = two_regions()
    rows, cols = np.mgrid[:60, :80]
    square = (rows >= 40) & (cols >= 62)
    image[square] = (60, 200, 60)
    scribbles = strokes()
    scribbles[50, 66:78] = 3
    predictor = get_predictor(name)
    predictor.set_image(image)
    proba = predictor.predict_proba(scribbles)
    labels = predictor.predict(scribbles)
    assert proba.shape == (3, 60, 80) and proba.dtype == np.float32
    assert np.allclose(proba.sum(axis=0), 1.0, atol=1e-4)
    assert iou(labels == 1, disk) > 0.9
    assert iou(labels == 3, square) > 0.8
    assert set(np.unique(labels)) == {1, 2, 3}


@pytest.mark.parametrize("name", PEERS)
def test_one_class_finds_the_object_against_the_implicit_border_background(name):
    image, disk = two_regions()
    scribbles = np.zeros(disk.shape, np.int32)
    scribbles[30, 28:48] = 1
    predictor = get_predictor(name)
    predictor.set_image(image)
    labels = predictor.predict(scribbles)
    assert set(np.unique(labels)) == {0, 1}  # 0: won by the implicit background
    assert iou(labels == 1, disk) > 0.9
    assert predictor.predict_proba(scribbles).shape == (1, 60, 80)


def test_implicit_background_is_the_border_frame_outside_the_scaled_box():
    scribbled = np.zeros((100, 100), bool)
    scribbled[2:12, 40:60] = True  # near the top border
    background = implicit_background(scribbled)
    assert background[99, 50] and background[50, 0] and background[50, 99]
    assert not background[0, 50]  # inside the 1.4x box around the stroke
    assert not background[50, 50]  # the image's interior is never assumed


def test_large_images_are_downsampled_but_thin_strokes_survive():
    rows, cols = np.mgrid[:600, :800]
    big_disk = (rows - 300) ** 2 + (cols - 380) ** 2 < 180**2
    image = np.where(big_disk, 200, 40).astype(np.uint8)  # grey input
    scribbles = np.zeros(big_disk.shape, np.int32)
    # one pixel wide each: plain nearest-neighbour resizing to 128 px would drop most of them
    scribbles[301, 330:430] = 1
    scribbles[11, 10:790] = 2
    predictor = RandomWalker(max_side=128)
    predictor.set_image(image)
    labels = predictor.predict(scribbles)
    assert labels.shape == (600, 800)
    assert iou(labels == 1, big_disk) > 0.95


@pytest.mark.parametrize("cls", [RandomWalker, GrabCut, GrowCut])
def test_predict_before_set_image_and_mismatched_scribbles_are_named(cls):
    predictor = cls()
    with pytest.raises(NotReadyError, match="set_image"):
        predictor.predict(np.zeros((10, 10), np.int32))
    predictor.set_image(np.zeros((10, 12), np.uint8))
    with pytest.raises(InputError, match="same size"):
        predictor.predict(np.zeros((10, 10), np.int32))


@pytest.mark.parametrize("name", PEERS)
def test_no_scribbles_give_no_class(name):
    predictor = get_predictor(name)
    predictor.set_image(two_regions()[0])
    assert not predictor.predict(np.zeros((60, 80), np.int32)).any()


def test_grabcut_and_growcut_on_real_grabcut_images(grabcut_dir):
    import cv2

    for stem in ("banana1", "music"):
        image = cv2.imread(str(next((grabcut_dir / "images").glob(f"{stem}.*"))))[..., ::-1]
        mask = cv2.imread(str(grabcut_dir / "masks" / f"{stem}.bmp"), cv2.IMREAD_GRAYSCALE)
        obj, ignore = mask > 128, mask == 128
        # strokes a user would draw: the object's middle row, the outer frame as background
        scribbles = np.zeros(mask.shape, np.int32)
        rows, cols = np.nonzero(obj)
        middle = int(np.median(rows))
        inside = cols[rows == middle]
        scribbles[middle, inside.min() + 5 : inside.max() - 5][obj[middle, inside.min() + 5 : inside.max() - 5]] = 1
        frame = np.zeros(mask.shape, bool)
        frame[:3], frame[-3:], frame[:, :3], frame[:, -3:] = True, True, True, True
        scribbles[frame & (mask == 0)] = 2
        # GrabCut's colour models separate these objects cleanly from one line; growing from seeds
        # leaks a little across weak edges
        for predictor, least in ((GrabCut(), 0.9), (GrowCut(), 0.7)):
            predictor.set_image(image)
            labels = predictor.predict(scribbles)
            assert iou(labels == 1, obj, ignore) > least, (stem, type(predictor).__name__)


def test_grabcut_answer_does_not_depend_on_earlier_calls():
    # OpenCV's k-means initialisation draws from a per-thread RNG: without a reset, the same strokes could
    # give another segmentation after other calls (and serial and parallel evaluations would disagree)
    rng = np.random.default_rng(3)
    image = (rng.random((60, 80, 3)) * 255).astype(np.uint8)
    image[20:40, 25:55] //= 3
    scribbles = strokes()
    predictor = GrabCut()
    predictor.set_image(image)
    first = predictor.predict_proba(scribbles)
    for _ in range(3):
        predictor.predict(np.where(scribbles == 1, 1, 0) + (np.arange(80) < 5) * 2 * (scribbles == 0))
    assert np.array_equal(predictor.predict_proba(scribbles), first)


def test_random_walker_on_a_constant_image_gives_finite_probabilities():
    from napari_scribbleseg.baselines import RandomWalker

    rw = RandomWalker()
    rw.set_image(np.full((32, 32), 7.0, np.float32))
    seeds = np.zeros((32, 32), np.int32)
    seeds[5, 5:10] = 1
    seeds[25, 20:25] = 2
    proba = rw.predict_proba(seeds)
    assert np.all(np.isfinite(proba))
    labels = rw.predict(seeds)
    assert labels[5, 6] == 1 and labels[25, 21] == 2


def test_growcut_graph_holds_each_8_neighbour_edge_both_ways_and_nothing_across_the_sides():
    from napari_scribbleseg.baselines.growcut import pixel_graph

    rng = np.random.default_rng(3)
    h, w = 5, 7
    image = rng.random((h, w, 2))
    graph = pixel_graph(image, length_weight=0.01).toarray()
    want = np.zeros((h * w, h * w))
    for y in range(h):
        for x in range(w):
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    if (dy or dx) and 0 <= y + dy < h and 0 <= x + dx < w:
                        q = (y + dy) * w + x + dx
                        want[y * w + x, q] = (np.linalg.norm(image[y, x] - image[y + dy, x + dx]) + 0.01) * np.hypot(dy, dx)
    np.testing.assert_allclose(graph, want, atol=1e-12)
