"""Propagation items: the model trains on what volume propagation gives it (a neighbour's labels + derived seeds)."""

from __future__ import annotations

import numpy as np

from napari_scribbleseg.volume.seeds import derive_scribbles
from training.items import prepare_item
from training.recipe import load_recipe
from training.sources import build_source
from training.sources.base import Sample


def _pair() -> Sample:
    """A disc (region 1) that is larger on the neighbouring slice than on this one."""
    yy, xx = np.mgrid[:96, :96]
    here = ((yy - 48) ** 2 + (xx - 48) ** 2 < 18**2).astype(np.int32)
    there = ((yy - 48) ** 2 + (xx - 50) ** 2 < 24**2).astype(np.int32)
    image = np.repeat((here * 150 + 40).astype(np.uint8)[..., None], 3, -1)
    return Sample(image, here, None, "pair", neighbour=there)


def _cfg(share: float, perturb: float = 0.0) -> dict:
    return load_recipe("local", {
        "input_size": 96, "multi_region": {"probability": 0.0},
        "augment": {"zoom": 0.0, "flip": False, "scale": [1.0, 1.0], "min_region_px": 20},
        "propagation": {"share": share, "perturb": perturb, "margin_px": [3.0, 3.0], "ring_px": [2.0, 2.0]},
    })


def test_a_propagation_item_has_the_neighbours_labels_as_prev_and_its_derived_seeds_as_strokes():
    item = prepare_item(_pair(), _cfg(share=1.0), np.random.default_rng(0))
    neighbour = np.where(_pair().neighbour == 1, 1, 2)
    assert np.array_equal(item.prev, neighbour)  # unperturbed: exactly the neighbour's labels
    assert np.array_equal(item.scribbles, derive_scribbles(neighbour, [1], 2, (1.0, 1.0), 3.0, 2.0, shape="core"))
    assert np.array_equal(item.current, item.scribbles > 0) and item.passes == 0
    # the target is this slice, not the neighbour: the model learns where the boundary moved
    assert np.array_equal(item.gt, np.where(_pair().regions == 1, 1, 2))
    assert np.count_nonzero(item.prev == 1) > np.count_nonzero(item.gt == 1)


def test_without_the_share_a_sample_with_a_neighbour_gets_simulated_strokes():
    rng = np.random.default_rng(1)
    items = [prepare_item(_pair(), _cfg(share=0.0), rng) for _ in range(5)]
    neighbour = np.where(_pair().neighbour == 1, 1, 2)
    assert all(i.prev is None or not np.array_equal(i.prev, neighbour) for i in items if i is not None)


def test_a_volume_source_with_neighbours_gives_an_adjacent_slice(tiny_root):
    source = build_source({"kind": "brats", "root": str(tiny_root / "BraTS"), "neighbours": 1, "axes": [0]})
    rng = np.random.default_rng(0)
    sample = source.sample(0, rng)
    assert sample.neighbour is not None and sample.neighbour.shape == sample.regions.shape
    case = source.cases[0]
    _, labels, _ = case.load()
    k = int(sample.name.rsplit(":", 1)[1])
    assert any(np.array_equal(sample.neighbour, labels[j]) for j in (k - 1, k + 1) if 0 <= j < len(labels))
    without = build_source({"kind": "brats", "root": str(tiny_root / "BraTS")})
    assert without.sample(0, rng).neighbour is None
