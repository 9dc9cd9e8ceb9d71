"""The 3-D random walker propagation (volume/walker.py, VolumeSegmenter.walk_3d) on generated volumes."""

from __future__ import annotations

import numpy as np

from napari_scribbleseg.metrics import dice
from napari_scribbleseg.volume import VolumeSegmenter
from napari_scribbleseg.volume.walker import seeded_slice, walk

from test_volume import NearestMeanPredictor, ellipsoid, noisy, user_scribbles

SHAPE = (40, 64, 64)


def test_seeded_slice_leaves_a_band_at_each_boundary_to_the_walker():
    labels = np.full((20, 20), 2, np.int32)
    labels[5:15, 5:10] = 1
    labels[5:15, 10:15] = 3
    seeds = seeded_slice(labels, [1, 3], 2, (1.0, 1.0), margin_mm=1.0)
    assert np.all(seeds[7:13, 7] == 1) and np.all(seeds[7:13, 12] == 3)
    assert np.all(seeds[0:3, :] == 2)
    # the pixels next to every boundary (class-class and class-background) are unknown
    assert np.all(seeds[5, 5:15] == 0) and np.all(seeds[4, 5:15] == 0) and np.all(seeds[7:13, 9:11] == 0)
    # a slice without objects is background throughout
    assert np.all(seeded_slice(np.zeros((6, 6), np.int32), [1], 2, (1.0, 1.0)) == 2)


def test_one_segmented_slice_carries_an_ellipsoid_in_3d_and_the_slice_keeps_its_labels():
    gt = ellipsoid(SHAPE, centre=(20, 32, 32), radii=(12, 20, 16))
    volume = noisy(gt, noise=0.1)
    seg = VolumeSegmenter(volume, NearestMeanPredictor(), background=2)
    mine = seg.segment_slice(20, user_scribbles(gt[20].astype(np.int32)))
    seg.propagate(20, "both")
    written = seg.walk_3d()
    assert 20 not in written and written
    assert np.array_equal(seg.slice_labels(20), mine)
    assert dice(seg.labels == 1, gt) > 0.9
    # the walker reaches the object's ends in 3-D: nothing labelled well beyond them
    z = np.flatnonzero((seg.labels == 1).any(axis=(1, 2)))
    ends = np.flatnonzero(gt.any(axis=(1, 2)))
    assert abs(z.min() - ends.min()) <= 2 and abs(z.max() - ends.max()) <= 2


def test_accepted_slices_are_never_rewritten_and_seed_the_walker():
    gt = ellipsoid(SHAPE, centre=(20, 32, 32), radii=(12, 20, 16))
    volume = noisy(gt, noise=0.1)
    seg = VolumeSegmenter(volume, NearestMeanPredictor(), background=2)
    accepted = np.where(gt[26], 1, 2).astype(np.int32)
    accepted[:, :32] = 2  # the user accepted a half object on slice 26: it stays exactly so
    seg.adopt(26, accepted)
    seg.lock(26)
    seg.segment_slice(20, user_scribbles(gt[20].astype(np.int32)))
    seg.propagate(20, "both")
    seg.walk_3d()
    assert np.array_equal(seg.slice_labels(26), accepted)
    # its neighbours follow it: the accepted half-object pulls slice 27 towards the left half being background
    assert np.count_nonzero(seg.slice_labels(27)[:, :28] == 1) < np.count_nonzero(gt[27][:, :28])


def test_a_slice_propagation_lost_is_found_again_by_the_walker():
    gt = ellipsoid(SHAPE, centre=(20, 32, 32), radii=(12, 20, 16))
    volume = noisy(gt, noise=0.1)
    seg = VolumeSegmenter(volume, NearestMeanPredictor(), background=2)
    seg.segment_slice(20, user_scribbles(gt[20].astype(np.int32)))
    seg.propagate(20, "both")
    seg.labels[14] = 2  # a planted bad slice: the slice-by-slice result lost the object there
    assert 14 in seg.walk_3d()
    assert dice(seg.labels[14] == 1, gt[14]) > 0.85


def test_walk_without_an_object_on_a_seeded_slice_does_nothing():
    volume = np.zeros((5, 8, 8), np.float32)
    labels = np.full(volume.shape, 2, np.int32)
    assert walk(volume, labels, [2], [1], 2, (1.0, 1.0, 1.0)) is None
    seg = VolumeSegmenter(volume, NearestMeanPredictor(), background=2)
    assert seg.walk_3d() == []


def test_the_walker_reaches_the_whole_object_and_a_leak_the_intensities_refuse_goes_back(monkeypatch):
    import napari_scribbleseg.volume.walker as walker

    z, y, x = np.mgrid[:80, :32, :32]
    gt = (y - 16) ** 2 + (x - 16 - z / 10) ** 2 < 64  # a long tube drifting sideways, bright on dark
    volume = noisy(gt, noise=0.1)
    seg = VolumeSegmenter(volume, NearestMeanPredictor(), background=2)
    seg.segment_slice(40, user_scribbles(gt[40].astype(np.int32)))
    seg.propagate(40, "both")
    solve = walker._solve

    def leaking(data, seeds, values, spacing):
        labels = solve(data, seeds, values, spacing)
        labels[-3:, :4, :4] = 1  # the walker's labels leak into a dark corner at the far end
        labels[-3:, -4:, -4:] = values[-1]  # and lose a bright patch of the tube the slice-by-slice result has
        return labels

    monkeypatch.setattr(walker, "_solve", leaking)
    box = walker._box(seg.labels == 1, (1.0, 1.0, 1.0))
    before = seg.labels[box].copy()
    written = seg.walk_3d()
    # through the whole tube, not only near the scribbled slice (30 slices each way until session 16)
    assert 40 not in written and min(written) <= 5 and max(written) >= 75
    assert dice(seg.labels == 1, gt) > 0.9
    after = seg.labels[box]
    assert np.all(after[-3:, :4, :4] == 2)  # the leak went back: dark as the background of slice 40
    assert np.array_equal(after[-3:, -4:, -4:], before[-3:, -4:, -4:])  # the slice-by-slice result stays there


def test_a_box_over_the_voxel_budget_is_solved_coarser_with_the_same_result(monkeypatch):
    import napari_scribbleseg.volume.walker as walker

    gt = ellipsoid(SHAPE, centre=(20, 32, 32), radii=(12, 20, 16))
    volume = noisy(gt, noise=0.1)
    labels = np.zeros(SHAPE, np.int32)
    labels[20] = np.where(gt[20], 1, 2)
    box, fine = walk(volume, labels, [20], [1], 3, (1.0, 1.0, 1.0))
    monkeypatch.setattr(walker, "MAX_VOXELS", 5_000)  # the box holds ~100k voxels: solved at 1/4 or coarser
    box_coarse, coarse = walk(volume, labels, [20], [1], 3, (1.0, 1.0, 1.0))
    assert box_coarse == box
    assert dice(coarse == 1, fine == 1) > 0.85 and dice(coarse == 1, gt[box]) > 0.85


def test_each_region_where_two_results_differ_takes_the_labels_its_intensities_favour():
    from napari_scribbleseg.volume.arbitrate import arbitrate, intensity_models

    rng = np.random.default_rng(0)
    truth = np.zeros((3, 12, 12), np.int32) + 2
    truth[:, 3:9, 3:9] = 1  # a bright class-1 square on a dark background (2)
    data = np.clip(np.where(truth == 1, 0.8, 0.2) + rng.normal(0, 0.03, truth.shape), 0, 1)
    models = intensity_models(data[:1], truth[:1], [1, 2])  # fitted on slice 0, the user's
    current, proposed = truth.copy(), truth.copy()
    proposed[1, 0:2, 0:2] = 1  # a leak into the dark background: goes back
    proposed[1, 4:6, 4:6] = 2  # a bright hole in the object: goes back
    current[2, 6:8, 6:8] = 2  # the slice-by-slice result has a hole, the proposal not: the proposal stays
    out = arbitrate(data, current, proposed, [1, 2], models)
    assert np.array_equal(out, truth)
    # a region partly in fixed voxels is judged on the rest; fixed voxels keep the proposal
    fixed = np.zeros(truth.shape, bool)
    fixed[1, 0, 0] = True
    out = arbitrate(data, current, proposed, [1, 2], models, fixed=fixed)
    assert out[1, 0, 0] == 1 and np.all(out[1, 1, 0:2] == 2) and out[1, 0, 1] == 2


def test_after_the_3d_finish_the_ranking_weighs_expected_errors_by_distance_from_the_segmented_slices():
    gt = ellipsoid(SHAPE, centre=(20, 32, 32), radii=(12, 20, 16))
    seg = VolumeSegmenter(noisy(gt, noise=0.1), NearestMeanPredictor(), spacing=(2.0, 1.0, 1.0), background=2)
    seg.segment_slice(20, user_scribbles(gt[20].astype(np.int32)))
    seg.propagate(20, "both")
    scores = {z: s for z, s in seg.scores.items() if z != 20}
    assert seg.ranking() == sorted(scores, key=lambda z: (-scores[z], z))
    seg.walk_3d()
    scores = seg.scores
    weighted = {z: s * abs(z - 20) * 2.0 for z, s in scores.items() if z != 20}
    assert seg.ranking() == sorted(weighted, key=lambda z: (-weighted[z], z))
    # the next suggestion is not a neighbour of the scribbled slice, which the walker has just re-segmented
    assert abs(seg.ranking()[0] - 20) > 1


def test_a_region_whose_intensities_hardly_favour_the_old_labels_keeps_the_proposal(monkeypatch):
    from napari_scribbleseg.volume import arbitrate as module

    bins = module.BINS
    models = np.full((2, bins), np.log(0.5 / (bins - 3)))
    models[:, 10] = np.log([0.28, 0.22])  # grey tissue: class 1 barely likelier (0.24 nats per voxel)
    models[:, 20] = np.log([0.17, 0.23])  # the background around
    models[:, 25] = np.log([0.50, 0.05])  # bright tissue: clearly class 1
    data = np.full((1, 10, 10), 20.5 / bins)
    current = np.full(data.shape, 2, np.int32)
    proposed = current.copy()
    current[0, 1:4, 1:4] = 1
    data[0, 1:4, 1:4] = 10.5 / bins  # the old result's object on grey tissue, which the proposal drops
    current[0, 6:9, 6:9] = 1
    data[0, 6:9, 6:9] = 25.5 / bins  # the same on bright tissue
    out = module.arbitrate(data, current, proposed, [1, 2], models)
    assert np.all(out[0, 6:9, 6:9] == 1), "a region the intensities clearly favour goes back"
    assert np.all(out[0, 1:4, 1:4] == 2), "one the intensities hardly favour keeps the proposal"
    monkeypatch.setattr(module, "MARGIN", 0.0)  # the plain likelihood comparison
    assert np.all(module.arbitrate(data, current, proposed, [1, 2], models)[0, 1:4, 1:4] == 1)
