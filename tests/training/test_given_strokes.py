"""Training from an annotator's strokes: they move with the view and become the item's classes."""

from __future__ import annotations

import numpy as np

from training.augment import flip, whole_view, zoom_view
from training.items import prepare_item
from training.recipe import load_recipe
from training.sources.base import BACKGROUND_STROKE, Sample


def _sample() -> Sample:
    regions = np.zeros((80, 100), np.int32)
    regions[10:40, 10:40], regions[45:75, 50:90] = 1, 2
    strokes = np.zeros_like(regions)
    strokes[25, 15:35] = 1
    strokes[60, 55:85] = 2
    strokes[5, 5:95] = BACKGROUND_STROKE
    image = np.stack([regions * 90, regions * 40, np.full_like(regions, 60)], -1).astype(np.uint8)
    return Sample(image, regions, None, "synthetic", scribbles=strokes)


def test_given_strokes_move_with_every_view():
    rng = np.random.default_rng(0)
    sample = _sample()
    for view in (whole_view(sample, 64, rng, (0.9, 1.2)), zoom_view(sample, 2, 64, rng), flip(whole_view(sample, 64, rng, (1, 1)), np.random.default_rng(1))):
        for r in (1, 2):
            on = view.scribbles == r
            if on.any():  # a stroke of region r lies on region r, wherever the view put it
                assert np.mean(view.regions[on] == r) > 0.9
        assert set(np.unique(view.scribbles)) <= {BACKGROUND_STROKE, 0, 1, 2}


def test_an_item_from_given_strokes_has_them_as_its_classes_and_the_background_as_the_last():
    cfg = load_recipe("local", {"input_size": 64, "augment": {"zoom": 0.0, "min_region_px": 20}, "given_scribbles": 1.0, "previous": {"void": 1.0}})
    item = None
    rng = np.random.default_rng(0)
    while item is None:
        item = prepare_item(_sample(), cfg, rng)
    assert item.scribbled_classes == [1, 2, 3] and item.prev is None and item.given
    assert np.array_equal(item.current, item.scribbles > 0)
    for k in (1, 2, 3):  # each class's strokes lie on that class of gt (3: the background)
        assert np.mean(item.gt[item.scribbles == k] == k) > 0.9


def test_without_the_given_share_items_get_simulated_strokes():
    cfg = load_recipe("local", {"input_size": 64, "augment": {"zoom": 0.0, "min_region_px": 20}, "given_scribbles": 0.0, "previous": {"void": 1.0}})
    sample = _sample()
    rng = np.random.default_rng(2)
    items = [prepare_item(sample, cfg, rng) for _ in range(6)]
    assert not any(i.given for i in items if i is not None)
    assert all(i is None or set(np.unique(i.gt)) - {0} != {1, 2, 3} or i.scribbles.max() <= 3 for i in items)
    assert any(i is not None and not np.any(i.scribbles[2:8] > 0) for i in items)  # not the given background line
