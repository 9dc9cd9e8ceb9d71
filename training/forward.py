"""The trained forward pass of one step: encode once, the pending no-grad passes, then the head with gradient."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from training.items import TrainItem
from training.iterate import iterate_items
from training.model_io import HeadBatch, head_batch, run_head


class TrainingForward(torch.nn.Module):
    """Everything with gradient in one ``forward``, so DistributedDataParallel can wrap it.

    ``forward(items)`` encodes the images once, runs the items' pending no-grad passes over the
    detached features (:func:`training.iterate.iterate_items`), then the trained head pass; it returns
    the head's outputs and the :class:`HeadBatch` they belong to. With a ``teacher`` (a frozen model), the
    outputs also hold its refined logits on the same rows (``"teacher"``), without gradient.

    ``frozen_stages``: the student's trunk stages kept at fixed weights. Where the teacher's stem and first
    stages hold the same weights (a fine-tune's teacher is its own start), that prefix runs once for both.
    """

    def __init__(
        self, model: torch.nn.Module, simulation: dict[str, Any], rng: np.random.Generator,
        teacher: torch.nn.Module | None = None, frozen_stages: int = 0,
    ) -> None:
        super().__init__()
        self.model = model
        self.simulation = simulation
        self.rng = rng
        self.teacher = teacher
        self.shared_stages = 0
        if teacher is not None:
            teacher.eval().requires_grad_(False)
            self.shared_stages = frozen_stages if same_trunk_prefix(model, teacher, frozen_stages) else 0

    def forward(self, items: list[TrainItem]) -> tuple[dict[str, torch.Tensor], HeadBatch]:
        device = next(self.model.parameters()).device
        images = torch.from_numpy(np.stack([item.image for item in items])).to(device).permute(0, 3, 1, 2).float() / 255
        prefix = None
        if self.shared_stages:
            with torch.no_grad():
                prefix = self.model.encoder.trunk_prefix(images, self.shared_stages)
        features = self.model.encode(images, prefix)
        if any(item.passes > 0 for item in items):
            items = iterate_items(self.model, features, items, self.rng, self.simulation, device)
        batch = head_batch(self.model, items, device)
        outputs = run_head(self.model, features, batch)
        if self.teacher is not None:
            with torch.no_grad():
                outputs["teacher"] = run_head(self.teacher, self.teacher.encode(images, prefix), batch)["refined"]
        return outputs, batch


def same_trunk_prefix(model: torch.nn.Module, other: torch.nn.Module, stages: int) -> bool:
    """Whether the stems and first ``stages`` trunk stages of two models hold the same weights and statistics."""
    if stages <= 0:
        return False
    names = ("stem.",) + tuple(f"stages.{i}." for i in range(stages))
    ours = {k: v for k, v in model.encoder.state_dict().items() if k.startswith(names)}
    theirs = {k: v for k, v in other.encoder.state_dict().items() if k.startswith(names)}
    return ours.keys() == theirs.keys() and all(torch.equal(v, theirs[k].to(v.device)) for k, v in ours.items())
