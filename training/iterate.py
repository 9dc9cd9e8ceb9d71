"""Iterative training (000 after RITM; 001's second pass): the model's own predictions as previous masks.

Items drawn with ``passes > 0`` first go through that many head passes without gradient; after each,
the prediction becomes the previous mask and the simulator adds strokes on its errors (FN -> the
missing class, FP -> the class that owns the pixel). The image features are computed once with
gradient for the trained pass and reused, detached, by the no-grad passes: only the light head reruns.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from training.items import TrainItem, simulate_strokes
from training.model_io import head_batch, predicted_labels, run_head


def iterate_items(
    model: torch.nn.Module,
    features: dict[str, torch.Tensor],
    items: list[TrainItem],
    rng: np.random.Generator,
    simulation: dict[str, Any],
    device: torch.device,
) -> list[TrainItem]:
    """Run the pending no-grad passes of ``items``; return items ready for the trained pass (passes = 0)."""
    detached = {k: v.detach() for k, v in features.items()}
    items = list(items)
    while True:
        pending = [i for i, item in enumerate(items) if item.passes > 0]
        if not pending:
            return items
        sub = [items[i] for i in pending]
        batch = head_batch(model, sub, device)
        sub_features = {k: v[pending] for k, v in detached.items()}
        with torch.no_grad():
            outputs = run_head(model, sub_features, batch)
        for i, item, pred in zip(pending, sub, predicted_labels(outputs, batch, sub)):
            new = simulate_strokes(item.gt, pred, rng, simulation)
            items[i] = TrainItem(
                image=item.image,
                gt=item.gt,
                scribbles=np.where(new > 0, new, item.scribbles),
                current=new > 0,
                prev=pred,
                passes=item.passes - 1,
                name=item.name,
                given=item.given,
            )
