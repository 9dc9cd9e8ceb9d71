"""Training items: classes, strokes inside their class, object-only first strokes, previous masks,
and iterative passes that add strokes where the model's own prediction is wrong."""

from __future__ import annotations

import numpy as np
import torch

from napari_scribbleseg.model import build_model
from training.items import TrainItem, prepare_item
from training.iterate import iterate_items
from training.model_io import head_batch, predicted_labels, run_head
from training.recipe import load_recipe
from training.sources.base import Sample


def _sample() -> Sample:
    regions = np.zeros((96, 96), np.int32)
    regions[20:60, 15:55] = 1
    regions[60:90, 55:90] = 2
    image = np.stack([regions * 80, 255 - regions * 60, np.full_like(regions, 90)], -1).astype(np.uint8)
    return Sample(image, regions, None, "synthetic")


def _cfg(**overrides) -> dict:
    base = {"input_size": 64, "augment": {"zoom": 0.0, "min_region_px": 20}}
    return load_recipe("local", {**base, **overrides})


def test_strokes_lie_inside_their_class_and_current_is_part_of_them() -> None:
    cfg = _cfg(multi_region={"probability": 1.0, "max_regions": 2}, previous={"void": 1.0})
    rng = np.random.default_rng(0)
    for _ in range(5):
        item = prepare_item(_sample(), cfg, rng)
        assert item is not None and item.gt.shape == (64, 64)
        assert item.n_classes == 3  # two regions + the rest
        scribbled = item.scribbles > 0
        assert np.array_equal(item.scribbles[scribbled], item.gt[scribbled])
        assert not (item.current & ~scribbled).any()
        assert item.prev is None and item.passes == 0


def test_object_only_first_interaction_scribbles_only_the_object() -> None:
    cfg = _cfg(scribbles={"first": "axial", "object_only": 1.0}, previous={"void": 1.0})
    item = prepare_item(_sample(), cfg, np.random.default_rng(1))
    assert item is not None and item.scribbled_classes == [1]


def test_perturbed_previous_mask_gets_corrective_strokes_on_its_errors() -> None:
    cfg = _cfg(previous={"void": 0.0, "pred_vs_perturb": [0.0, 1.0], "max_passes": 0})
    rng = np.random.default_rng(2)
    item = prepare_item(_sample(), cfg, rng)
    assert item is not None and item.prev is not None
    if item.current.any():
        # new strokes sit where the previous mask was wrong
        assert (item.prev[item.current] != item.gt[item.current]).mean() > 0.9


def test_iterative_passes_use_the_models_prediction_and_add_strokes() -> None:
    torch.manual_seed(0)
    model = build_model("scribbleseg_tiny")
    cfg = _cfg(previous={"void": 0.0, "pred_vs_perturb": [1.0, 0.0], "max_passes": 2})
    rng = np.random.default_rng(3)
    items = [prepare_item(_sample(), cfg, rng) for _ in range(2)]
    assert all(it.passes >= 1 for it in items)
    images = torch.from_numpy(np.stack([it.image for it in items])).permute(0, 3, 1, 2).float() / 255
    features = model.encode(images)
    done = iterate_items(model, features, items, rng, cfg["scribbles"], torch.device("cpu"))
    for before, after in zip(items, done):
        assert after.passes == 0 and after.prev is not None
        assert ((after.scribbles > 0) >= (before.scribbles > 0)).all()


def test_predicted_labels_keep_scribbled_pixels() -> None:
    model = build_model("scribbleseg_tiny")
    gt = np.ones((64, 64), np.int32)
    gt[:, 32:] = 2
    scribbles = np.zeros_like(gt)
    scribbles[10:12, 5:25] = 1
    scribbles[40:42, 40:60] = 2
    item = TrainItem(np.zeros((64, 64, 3), np.uint8), gt, scribbles, scribbles > 0, None, 0, "t")
    batch = head_batch(model, [item], torch.device("cpu"))
    with torch.no_grad():
        outputs = run_head(model, model.encode(batch.image), batch)
    label = predicted_labels(outputs, batch, [item])[0]
    assert np.array_equal(label[scribbles > 0], scribbles[scribbles > 0])
    assert set(np.unique(label)) <= {0, 1, 2}
