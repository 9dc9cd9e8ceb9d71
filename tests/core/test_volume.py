"""Volume propagation on small generated volumes, with a fast intensity-and-distance predictor."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from scipy import ndimage as ndi

from napari_scribbleseg.errors import InputError
from napari_scribbleseg.metrics import dice
from napari_scribbleseg.uncertainty import rank_slices, uncertainty_map
from napari_scribbleseg.volume import PropagationSettings, VolumeSegmenter
from napari_scribbleseg.volume.seeds import derive_scribbles


class NearestMeanPredictor:
    """Each pixel goes to the class whose scribbled intensity is closest, with a pull toward its seeds.

    Fast enough for tests; probabilities are a softmax of (intensity fit + distance to the seeds).
    """

    def __init__(self, length: float = 12.0) -> None:
        self.length = length
        self.image: np.ndarray | None = None
        self.set_image_calls: list[tuple] = []

    def set_image(self, image: np.ndarray, key: tuple | None = None) -> None:
        self.image = np.asarray(image, np.float64)
        self.set_image_calls.append(key)

    def predict_proba(self, scribbles: np.ndarray, prev: np.ndarray | None = None) -> np.ndarray:
        classes = [int(c) for c in np.unique(scribbles) if c > 0]
        values = [self.image[scribbles == k] for k in classes]
        sigma = max(np.sqrt(np.mean([v.var() for v in values])), 0.05)
        logits = np.stack(
            [
                -((self.image - v.mean()) ** 2) / (2 * sigma**2)
                - ndi.distance_transform_edt(scribbles != k) / self.length
                for k, v in zip(classes, values)
            ]
        )
        logits -= logits.max(axis=0)
        p = np.exp(logits)
        return (p / p.sum(axis=0)).astype(np.float32)

    def predict(self, scribbles: np.ndarray, prev: np.ndarray | None = None) -> np.ndarray:
        classes = np.array([int(c) for c in np.unique(scribbles) if c > 0])
        labels = classes[self.predict_proba(scribbles, prev).argmax(axis=0)].astype(np.int32)
        labels[scribbles > 0] = scribbles[scribbles > 0]
        return labels


class LabelsOnlyPredictor:
    """The same predictor without predict_proba: propagation must fall back to shape consistency."""

    def __init__(self) -> None:
        self.inner = NearestMeanPredictor()

    def set_image(self, image: np.ndarray) -> None:
        self.inner.set_image(image)

    def predict(self, scribbles: np.ndarray, prev: np.ndarray | None = None) -> np.ndarray:
        return self.inner.predict(scribbles, prev)


def ellipsoid(shape, centre, radii, spacing=(1.0, 1.0, 1.0)) -> np.ndarray:
    """(Z, Y, X) bool ellipsoid; centre and radii in mm."""
    grids = np.meshgrid(*[np.arange(n) * s for n, s in zip(shape, spacing)], indexing="ij")
    return sum(((g - c) / r) ** 2 for g, c, r in zip(grids, centre, radii)) <= 1.0


def noisy(mask: np.ndarray, seed: int = 0, noise: float = 0.15) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return mask.astype(np.float32) + rng.normal(0, noise, mask.shape).astype(np.float32)


def user_scribbles(gt_slice: np.ndarray) -> np.ndarray:
    """What a user paints: a stroke inside each object class and one around the objects (class 2 = background)."""
    scribbles = derive_scribbles(gt_slice, [1], 2, (1.0, 1.0), margin_mm=3.0, ring_width_mm=2.0)
    return scribbles


SHAPE = (40, 64, 64)


@pytest.fixture
def ball():
    gt = ellipsoid(SHAPE, centre=(20, 32, 32), radii=(12, 20, 16))
    return gt, noisy(gt)


def test_propagation_recovers_an_ellipsoid_and_stops_at_its_ends(ball):
    gt, volume = ball
    seg = VolumeSegmenter(volume, NearestMeanPredictor(), background=2)
    seg.segment_slice(20, user_scribbles(gt[20].astype(np.int32)))
    result = seg.propagate(20, "both")

    found = seg.labels == 1
    assert dice(found, gt) > 0.9
    z_extent = np.flatnonzero(gt.any(axis=(1, 2)))
    labelled = np.flatnonzero(found.any(axis=(1, 2)))
    # stops at the object's ends: within a slice of them, nothing beyond
    assert abs(labelled.min() - z_extent.min()) <= 1 and abs(labelled.max() - z_extent.max()) <= 1
    assert result.stops[1].reason == "vanished" and result.stops[-1].reason == "vanished"
    assert not seg.labels[: z_extent.min() - 1].any() and not seg.labels[z_extent.max() + 2 :].any()


def test_any_axis_and_features_keyed_per_slice(ball):
    gt, volume = ball
    predictor = NearestMeanPredictor()
    seg = VolumeSegmenter(volume, predictor, axis=2, background=2)
    seg.segment_slice(32, user_scribbles(gt[:, :, 32].astype(np.int32)))
    seg.propagate(32)
    assert dice(seg.labels == 1, gt) > 0.9
    keys = [k for k in predictor.set_image_calls]
    assert all(k[0] == seg.key and k[1] == 2 for k in keys)
    assert len(set(keys)) == len(keys)  # each slice's image set once: nothing recomputed


class CachingPredictor(NearestMeanPredictor):
    """Session-like: "features" (a smoothed slice) computed once per key, in set_image or prepare."""

    def __init__(self) -> None:
        super().__init__()
        self.cache: dict[tuple, np.ndarray] = {}
        self.computed: list[tuple] = []
        self.prepared_before_use: list[bool] = []

    def _features(self, key: tuple, image: np.ndarray) -> np.ndarray:
        if key not in self.cache:
            self.cache[key] = ndi.gaussian_filter(np.asarray(image, np.float64), 1.0)
            self.computed.append(key)
        return self.cache[key]

    def prepare(self, items, kind: str = "auto") -> int:
        for key, image in items:
            self._features(key, image)
        return len(items)

    def set_image(self, image: np.ndarray, kind: str = "auto", key: tuple | None = None) -> None:
        self.prepared_before_use.append(key in self.cache)
        self.image = self._features(key, image)


def test_features_of_slices_ahead_are_computed_once_and_reused(ball):
    gt, volume = ball
    predictor = CachingPredictor()
    seg = VolumeSegmenter(volume, predictor, kind="mr", background=2)
    seg.segment_slice(20, user_scribbles(gt[20].astype(np.int32)))
    seg.propagate(20)
    seg.propagate(20)  # again (e.g. after a change of settings): nothing recomputed
    assert len(predictor.computed) == len(set(predictor.computed))
    # every slice propagation visited found its features ready (prepared ahead), the first one aside
    assert all(predictor.prepared_before_use[1:])
    assert dice(seg.labels == 1, gt) > 0.9


def test_a_correction_re_propagates_from_its_slice_only():
    # class 1: a long cylinder along z; class 3: a ball the first scribble does not mention
    shape = (40, 48, 48)
    z, y, x = np.meshgrid(*[np.arange(n) for n in shape], indexing="ij")
    rod = ((y - 14) ** 2 + (x - 14) ** 2 <= 36) & (z >= 2) & (z < 38)
    blob = ellipsoid(shape, centre=(28, 32, 32), radii=(6, 9, 9))
    volume = noisy(rod | blob, seed=1)
    seg = VolumeSegmenter(volume, NearestMeanPredictor(), background=2)
    first = np.where(rod[8], 1, 0)
    seg.segment_slice(8, derive_scribbles(first, [1], 2, (1.0, 1.0), 2.0, 2.0))
    seg.propagate(8)
    before = seg.labels.copy()
    assert not np.any(before == 3)

    gt = np.where(rod, 1, 0) + np.where(blob, 3, 0)
    seg.correct(28, derive_scribbles(gt[28], [1, 3], 2, (1.0, 1.0), 2.0, 2.0))
    assert dice(seg.labels == 3, blob) > 0.9
    # slices nearer to the first scribble (8) than to the correction (28) keep their labels
    assert np.array_equal(seg.labels[:18], before[:18])
    assert dice(seg.labels == 1, rod) > 0.9


def test_a_weaker_scribbled_slice_does_not_overwrite_better_results(ball):
    gt, volume = ball
    seg = VolumeSegmenter(volume, NearestMeanPredictor(), background=2)
    seg.segment_slice(20, user_scribbles(gt[20].astype(np.int32)))
    seg.propagate(20)
    before = seg.labels.copy()
    certain = {i: 0.0 for i in range(15, 20)}  # as if slice 20's results there had no expected error
    seg._scores.update(certain)
    result = seg.correct(12, user_scribbles(gt[12].astype(np.int32)))
    assert result.stops[1] == result.stops[1].__class__(15, "owned")
    assert np.array_equal(seg.labels[15:], before[15:])
    assert all(seg.scores[i] == 0.0 for i in certain)


def test_area_threshold_and_margins_are_in_mm():
    # the same voxels with 0.5 mm or 2 mm pixels: the tips of the object are 4x smaller in mm^2
    gt = ellipsoid(SHAPE, centre=(20, 32, 32), radii=(12, 20, 16))
    volume = noisy(gt, seed=2)
    extents = {}
    for pixel in (0.5, 2.0):
        settings = PropagationSettings(min_area_mm2=60.0, margin_mm=2.0 * pixel, ring_width_mm=2.0 * pixel)
        seg = VolumeSegmenter(volume, NearestMeanPredictor(), spacing=(1.0, pixel, pixel), background=2, settings=settings)
        seg.segment_slice(20, user_scribbles(gt[20].astype(np.int32)))
        seg.propagate(20)
        extents[pixel] = np.count_nonzero((seg.labels == 1).any(axis=(1, 2)))
    assert extents[0.5] < extents[2.0]


def test_anisotropic_seeds_keep_the_margin_in_mm_in_every_direction():
    # an ellipse of 1 mm rows and 3 mm columns: a 6 mm margin is 6 rows but only 2 columns
    mask = np.zeros((60, 40), np.int32)
    yy, xx = np.mgrid[:60, :40]
    mask[((yy - 30) / 20) ** 2 + ((xx - 20) * 3 / 45) ** 2 <= 1] = 1
    seeds = derive_scribbles(mask, [1], 2, (1.0, 3.0), margin_mm=6.0, ring_width_mm=3.0, shape="core")
    rows = np.flatnonzero((seeds == 1).any(axis=1))
    cols = np.flatnonzero((seeds == 1).any(axis=0))
    obj_rows = np.flatnonzero(mask.any(axis=1))
    obj_cols = np.flatnonzero(mask.any(axis=0))
    assert rows.min() - obj_rows.min() >= 6 and obj_rows.max() - rows.max() >= 6
    assert 2 <= cols.min() - obj_cols.min() <= 3 and 2 <= obj_cols.max() - cols.max() <= 3
    ring = np.argwhere(seeds == 2)
    assert ring.size and not np.any(mask[ring[:, 0], ring[:, 1]])


def test_anisotropic_volume_along_a_thin_axis():
    spacing = (3.0, 0.8, 0.8)
    shape = (16, 64, 64)
    gt = ellipsoid(shape, centre=(24, 25, 25), radii=(18, 18, 14), spacing=spacing)
    seg = VolumeSegmenter(noisy(gt, seed=3), NearestMeanPredictor(), spacing=spacing, background=2)
    seg.segment_slice(8, user_scribbles(gt[8].astype(np.int32)))
    seg.propagate(8)
    assert dice(seg.labels == 1, gt) > 0.9


def test_cancel_leaves_accepted_and_unvisited_slices_untouched(ball):
    gt, volume = ball
    seg = VolumeSegmenter(volume, NearestMeanPredictor(), background=2)
    seg.labels[24] = 7  # the user's accepted labels on slice 24
    seg.lock(24)
    seg.segment_slice(20, user_scribbles(gt[20].astype(np.int32)))
    stop = threading.Event()
    seen = []

    def progress(done: int, total: int) -> None:
        seen.append(done)
        if done == 2:
            stop.set()

    result = seg.propagate(20, "both", progress=progress, cancel=stop)
    assert result.cancelled and result.stops[1] == result.stops[1].__class__(23, "cancelled")
    assert result.written == [21, 22]
    assert np.all(seg.labels[24] == 7)
    assert not seg.labels[23].any() and not seg.labels[:20].any()

    # the locked slice also stops an uncancelled propagation
    result = seg.propagate(20, 1)
    assert result.stops[1].reason == "locked" and np.all(seg.labels[24] == 7)


def test_ranking_puts_the_worst_slice_first(ball):
    gt, volume = ball
    volume = volume.copy()
    volume[14] = noisy(gt[14], seed=9, noise=0.6)  # a slice the predictor is unsure of
    seg = VolumeSegmenter(volume, NearestMeanPredictor(), background=2, settings=PropagationSettings(min_confidence=0))
    seg.segment_slice(20, user_scribbles(gt[20].astype(np.int32)))
    seg.propagate(20)
    ranking = seg.ranking()
    assert ranking[0] == 14
    assert 20 not in ranking
    assert seg.uncertainty_map(14).mean() > seg.uncertainty_map(16).mean()


class SureOfThePreviousMask:
    """A confidently wrong predictor: it copies the previous mask with probability 1 (its own result on a new
    slice), so its probabilities see no error wherever the object has moved or changed size."""

    def set_image(self, image: np.ndarray) -> None:
        pass

    def predict_proba(self, scribbles: np.ndarray, prev: np.ndarray | None = None) -> np.ndarray:
        labels = np.where(scribbles > 0, scribbles, prev if prev is not None else 0)
        return np.stack([(labels == k) for k in (1, 2)]).astype(np.float32)

    def predict(self, scribbles: np.ndarray, prev: np.ndarray | None = None) -> np.ndarray:
        return np.where(self.predict_proba(scribbles, prev)[0] > 0.5, 1, 2).astype(np.int32)


def test_ranking_finds_the_slices_a_confident_predictor_got_most_wrong():
    """A drifting tube: the further from the scribbled slice, the further the copied mask is off. The
    probabilities are all certain, so only the drift term can say where to scribble next."""
    from scipy.stats import spearmanr

    shape = (21, 48, 48)
    yy, xx = np.mgrid[: shape[1], : shape[2]]
    gt = np.stack([(yy - 24) ** 2 + (xx - 14 - 0.9 * z) ** 2 < (6 + 0.2 * z) ** 2 for z in range(shape[0])])
    seg = VolumeSegmenter(noisy(gt), SureOfThePreviousMask(), background=2, settings=PropagationSettings(min_confidence=0, appearance_z=None))
    seg.segment_slice(2, np.where(gt[2], 1, 2).astype(np.int32))
    seg.propagate(2)
    ranking = seg.ranking()
    true = [np.count_nonzero((seg.slice_labels(i) == 1) != gt[i]) for i in ranking]
    assert ranking[0] == shape[0] - 1 and true[0] == max(true)  # the far end, the worst slice
    assert spearmanr([seg.scores[i] for i in ranking], true).statistic > 0.9


def test_low_confidence_stops_before_the_slice_and_ranks_it_first(ball):
    gt, volume = ball
    volume = volume.copy()
    volume[14] = noisy(gt[14], seed=9, noise=0.6)
    seg = VolumeSegmenter(volume, NearestMeanPredictor(), background=2, settings=PropagationSettings(min_confidence=0.95))
    seg.segment_slice(20, user_scribbles(gt[20].astype(np.int32)))
    result = seg.propagate(20)
    assert result.stops[-1].index == 14 and result.stops[-1].reason == "low_confidence"
    assert not seg.labels[:15].any() and seg.labels[15].any()
    assert seg.ranking()[0] == 14


def test_rank_slices_and_uncertainty_functions():
    certain = np.stack([np.full((4, 4), 0.99), np.full((4, 4), 0.01)])
    unsure = np.stack([np.full((4, 4), 0.5), np.full((4, 4), 0.5)])
    assert np.allclose(uncertainty_map(unsure), 1.0) and uncertainty_map(certain).max() < 0.05
    assert np.allclose(uncertainty_map(unsure, "entropy"), 1.0)
    assert rank_slices({3: 1.0, 5: 9.0, 7: 4.0}, exclude=[7]) == [5, 3]


def test_without_predict_proba_shape_consistency_decides(ball):
    gt, volume = ball
    seg = VolumeSegmenter(volume, LabelsOnlyPredictor(), background=2)
    seg.segment_slice(20, user_scribbles(gt[20].astype(np.int32)))
    seg.propagate(20)
    assert dice(seg.labels == 1, gt) > 0.9
    assert seg.uncertainty_map(21) is None and set(seg.ranking()) <= set(seg.scores)


def test_unlabelled_background_uses_a_temporary_ring_class(ball):
    gt, volume = ball
    seg = VolumeSegmenter(volume, NearestMeanPredictor())
    scribbles = user_scribbles(gt[20].astype(np.int32))
    seg.segment_slice(20, scribbles)
    seg.labels[seg.labels == 2] = 0  # as if the user kept only the object
    seg.propagate(20)
    assert set(np.unique(seg.labels)) == {0, 1}
    assert dice(seg.labels == 1, gt) > 0.9


def test_bad_input_is_named():
    with pytest.raises(InputError, match="4-D"):
        VolumeSegmenter(np.zeros((2, 3, 4, 5)), NearestMeanPredictor())
    with pytest.raises(InputError, match="NaN"):
        VolumeSegmenter(np.full((3, 8, 8), np.nan), NearestMeanPredictor())
    with pytest.raises(InputError, match="spacing"):
        VolumeSegmenter(np.zeros((3, 8, 8)), NearestMeanPredictor(), spacing=(1, 0, 1))
    seg = VolumeSegmenter(np.zeros((3, 8, 8)), NearestMeanPredictor())
    with pytest.raises(InputError, match="no segmented object"):
        seg.propagate(1)
    with pytest.raises(InputError, match="outside"):
        seg.segment_slice(5, np.ones((8, 8), int))


def test_a_float_slice_index_is_named_as_such():
    from napari_scribbleseg.volume import VolumeSegmenter

    class Nothing:
        def set_image(self, image):
            pass

        def predict(self, scribbles, prev=None):
            return np.zeros(scribbles.shape, np.int32)

    seg = VolumeSegmenter(np.zeros((40, 8, 8), np.float32), Nothing())
    with pytest.raises(InputError, match=r"slice index 3.0 is not an integer.*e.g. 3"):
        seg.lock(3.0)


class Counting(NearestMeanPredictor):
    """NearestMeanPredictor that counts its predictions."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def predict_proba(self, scribbles, prev=None):
        self.calls += 1
        return super().predict_proba(scribbles, prev)


def test_a_propagator_takes_the_propagation_steps_and_the_predictor_the_users_slices(ball):
    gt, volume = ball
    user, carrier = Counting(), Counting()
    seg = VolumeSegmenter(volume, user, background=2, propagator=carrier)
    seg.segment_slice(20, user_scribbles(gt[20].astype(np.int32)))
    assert (user.calls, carrier.calls) == (1, 0)
    result = seg.propagate(20)
    assert user.calls == 1 and carrier.calls >= len(result.written) > 5
    assert dice(seg.labels == 1, gt) > 0.9
    with pytest.raises(InputError, match="is not a predictor"):
        VolumeSegmenter(volume, user, propagator=object())


def test_growcut_propagates_in_the_objects_window_with_the_whole_slices_result(ball):
    from napari_scribbleseg.baselines import GrowCut

    class Recording(GrowCut):
        """GrowCut, recording the shape of every image it is given."""

        def set_image(self, image, intensity=None):
            self.shapes.append(np.shape(image)[:2])
            super().set_image(image, intensity)

    class WholeSlices(Recording):
        def prepare(self, items, kind="auto"):  # a predictor with per-slice features sees whole slices
            return len(items)

    gt, volume = ball
    results, shapes = [], []
    for carrier in (Recording(), WholeSlices()):
        carrier.shapes = []
        seg = VolumeSegmenter(volume, NearestMeanPredictor(), background=2, propagator=carrier)
        seg.segment_slice(20, user_scribbles(gt[20].astype(np.int32)))
        seg.propagate(20, "both")
        results.append(seg.labels.copy())
        shapes.append(carrier.shapes)
    windowed, whole = results
    assert len(shapes[1]) > 10 and all(s == volume.shape[1:] for s in shapes[1])
    # each step's window is the object and its ring (the ball is 40 x 32 px at its widest), not the 64 x 64 slice
    areas = [s[0] * s[1] for s in shapes[0]]
    assert len(areas) > 10 and max(areas) < 0.9 * 64 * 64 and min(areas) < 0.4 * 64 * 64
    assert dice(whole == 1, gt) > 0.9
    assert np.mean(windowed == whole) > 0.999


def test_a_background_stroke_on_a_propagated_slice_trims_it_and_keeps_its_object(ball):
    # a user trims a propagated slice with one background stroke: its object must not vanish for want of
    # an object stroke on that slice (the predictor has strokes of the background only)
    gt, volume = ball
    seg = VolumeSegmenter(volume, NearestMeanPredictor(), background=2)
    seg.segment_slice(20, user_scribbles(gt[20].astype(np.int32)))
    seg.propagate(20)
    before = seg.slice_labels(12).copy()
    assert dice(before == 1, gt[12]) > 0.8
    leak = np.zeros(gt[12].shape, bool)
    leak[:6, :] = True  # a band at the slice's top, far outside the object
    stroke = np.zeros(gt[12].shape, np.int32)
    stroke[2, 10:50] = 2
    seg.segment_slice(12, stroke)

    after = seg.slice_labels(12)
    assert dice(after == 1, gt[12]) > 0.8
    assert not np.any(after[leak] == 1)
    # what the user painted is stored as painted: the carried seeds are not the user's strokes
    assert seg.scribbled == [12, 20]
    assert np.array_equal(seg._scribbles[12], stroke)


def test_carried_seeds_keep_off_the_users_strokes_of_other_classes():
    from napari_scribbleseg.volume.seeds import carried_seeds, carry_classes

    shown = np.zeros((40, 40), np.int32)
    shown[15:25, 3:37] = 1  # a bar: its seed is a stroke along its middle row
    shown[shown == 0] = 2
    user = np.zeros_like(shown)
    user[15:25, 28] = 2  # the user says the bar ends before its right end
    given = carry_classes(user, carried_seeds(shown, [1], (1.0, 1.0), 2.0), (1.0, 1.0), margin_mm=2.0)

    seeds = (given == 1)
    assert seeds.any()
    assert np.array_equal(given[user > 0], user[user > 0])  # the user's strokes stay as painted
    near = ndi.distance_transform_edt(user != 2) <= 2.0
    assert not np.any(seeds & near)
    assert not np.any(seeds & (shown != 1))  # seeds lie inside what the slice showed
    # a class the slice did not show adds nothing; nothing to carry leaves the strokes as they are
    assert np.array_equal(carry_classes(user, carried_seeds(shown, [3], (1.0, 1.0), 2.0), (1.0, 1.0), 2.0), user)
