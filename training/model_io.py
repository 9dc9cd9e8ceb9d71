"""Between training items and the network: batching, zoom-in crops, forward passes, predicted label maps.

The network is :mod:`napari_scribbleseg.model` (encoder once per image, head once per class). Training
feeds it the way the Session does at inference: the whole image for the first interaction, the
zoom-in box around previous mask + strokes (``CropTransform.around``) afterwards, guidance from
``guidance_maps``; the loss is computed in the head's crop space at its input size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from napari_scribbleseg.model import CropTransform, build_model, guidance_maps, load_checkpoint
from napari_scribbleseg.model.guidance import slic_superpixels, stroke_channel_mask
from training.items import TrainItem


@dataclass
class HeadBatch:
    """The head's inputs for all classes of all items, one row per (item, class).

    image : (N, 3, E, E) float in [0, 1]; gt : (N, E, E) long, each item's class map (0 = not counted);
    rows : (B,) long, the item of each row; classes : (B,) long, the class k of each row;
    guidance : (B, G, S, S) in crop space; crop : the B boxes (image space E x E);
    target, valid : (B, 1, S, S) float in crop space.
    """

    image: torch.Tensor
    gt: torch.Tensor
    rows: torch.Tensor
    classes: torch.Tensor
    guidance: torch.Tensor
    crop: CropTransform
    target: torch.Tensor
    valid: torch.Tensor


def make_model(cfg: dict[str, Any]) -> torch.nn.Module:
    """Build ``cfg["model"]["arch"]`` with its config; ImageNet weights in the encoder when asked."""
    spec = cfg["model"]
    model = build_model(spec["arch"], **spec.get("config", {}))
    if spec.get("pretrained_encoder"):
        from napari_scribbleseg.model import load_imagenet_lite0

        load_imagenet_lite0(model.encoder)
    return model


def load_model(path: str, map_location: str | torch.device = "cpu") -> torch.nn.Module:
    """A model from a self-describing checkpoint, in train mode (for fine-tuning or resuming)."""
    return load_checkpoint(path, map_location=map_location).train()


def crop_guidance(crop: CropTransform, guidance: torch.Tensor, size: int, kind: str) -> torch.Tensor:
    """Image-space guidance (B, G, E, E) -> crop space (B, G, S, S): stroke channels max-pooled (thin
    strokes survive shrinking), dense ones bilinear, in the layout's order."""
    is_stroke = torch.tensor(stroke_channel_mask(kind), device=guidance.device)
    strokes = crop.to_crop(guidance[:, is_stroke], size, mode="max")
    dense = crop.to_crop(guidance[:, ~is_stroke], size)
    out = torch.empty((len(crop), guidance.shape[1], size, size), dtype=guidance.dtype, device=guidance.device)
    out[:, is_stroke] = (strokes > 0).to(guidance.dtype)
    out[:, ~is_stroke] = dense
    return out


def zoom_boxes(model: torch.nn.Module, items: list[TrainItem]) -> CropTransform:
    """Per row: the whole image for a first interaction, else the box around the class's previous mask and
    every stroke, expanded by the model's ``zoom_expand`` (what the Session does from the second stroke)."""
    masks = []
    for item in items:
        for k in item.scribbled_classes:
            if item.prev is None:
                masks.append(np.zeros(item.gt.shape, bool))
            else:
                masks.append((item.prev == k) | (item.scribbles == k))
    size = items[0].gt.shape
    c = model.config
    return CropTransform.around(np.stack(masks), size, expand=c.zoom_expand, min_size=c.zoom_min_size)


def head_batch(model: torch.nn.Module, items: list[TrainItem], device: torch.device) -> HeadBatch:
    """Stack the items' images and the per-class guidance, crops and targets of every row."""
    cfg = model.config
    size = cfg.head_size
    images, rows, classes, guides, targets, valids = [], [], [], [], [], []
    for i, item in enumerate(items):
        ks = np.asarray(item.scribbled_classes)
        k = len(ks)
        positive = item.scribbles[None] == ks[:, None, None]
        negative = (item.scribbles[None] > 0) & ~positive
        prev = None if item.prev is None else (item.prev[None] == ks[:, None, None]).astype(np.float32)
        superpixels = slic_superpixels(item.image.astype(np.float32) / 255) if cfg.guidance == "superpixel" else None
        guides.append(guidance_maps(positive, negative, item.current, prev, cfg.guidance, superpixels=superpixels))
        targets.append((item.gt[None] == ks[:, None, None]).astype(np.float32))
        valids.append(np.repeat((item.gt > 0)[None], k, 0).astype(np.float32))
        images.append(item.image)
        rows += [i] * k
        classes += list(ks)
    crop = zoom_boxes(model, items)
    image = torch.from_numpy(np.stack(images)).to(device).permute(0, 3, 1, 2).float() / 255
    guidance = torch.from_numpy(np.concatenate(guides)).to(device)
    target = torch.from_numpy(np.concatenate(targets))[:, None].to(device)
    valid = torch.from_numpy(np.concatenate(valids))[:, None].to(device)
    return HeadBatch(
        image=image,
        gt=torch.from_numpy(np.stack([item.gt for item in items]).astype(np.int64)).to(device),
        rows=torch.tensor(rows, device=device),
        classes=torch.tensor(classes, device=device),
        guidance=crop_guidance(crop, guidance, size, cfg.guidance),
        crop=crop,
        target=(crop.to_crop(target, size) > 0.5).float(),
        valid=(crop.to_crop(valid, size) > 0.5).float(),
    )


def run_head(model: torch.nn.Module, features: dict[str, torch.Tensor], batch: HeadBatch) -> dict[str, torch.Tensor]:
    """The head on every row, each over the cached features of its item."""
    per_row = {name: f[batch.rows] for name, f in features.items()}
    return model.head(per_row, batch.guidance, batch.crop)


def predicted_labels(outputs: dict[str, torch.Tensor], batch: HeadBatch, items: list[TrainItem]) -> list[np.ndarray]:
    """Each item's label map (E, E) int32 from the refined logits: classes compete with a background
    logit 0 (as in the Session), 0 where none wins, scribbled pixels keep their class."""
    size = items[0].gt.shape
    # outside its zoom box a class has no say: a very low logit there
    refined = outputs["refined"].float()
    outside = torch.full((len(refined), 1, *size), -20.0, device=refined.device)
    logits = batch.crop.from_crop(refined, size, outside=outside)
    labels = []
    for i, item in enumerate(items):
        mine = logits[batch.rows == i, 0]
        stacked = torch.cat([torch.zeros_like(mine[:1]), mine], 0)
        winner = stacked.argmax(0).cpu().numpy()
        label = np.concatenate([[0], item.scribbled_classes]).astype(np.int32)[winner]
        label = np.where(item.scribbles > 0, item.scribbles, label)
        labels.append(label)
    return labels


def row_iou(outputs: dict[str, torch.Tensor], batch: HeadBatch) -> float:
    """Mean IoU of the refined masks of the rows (in crop space, valid pixels), for progress logs."""
    pred = (F.interpolate(outputs["refined"].detach().float(), size=batch.target.shape[-2:], mode="bilinear") > 0).float()
    inter = (pred * batch.target * batch.valid).sum((1, 2, 3))
    union = (((pred + batch.target) > 0).float() * batch.valid).sum((1, 2, 3))
    return float((inter / union.clamp_min(1)).mean())


class TrainingForward(torch.nn.Module):
    """Everything with gradient in one ``forward``, so DistributedDataParallel can wrap it.

    ``forward(items)`` encodes the images once, runs the items' pending no-grad passes over the
    detached features (:func:`training.iterate.iterate_items`), then the trained head pass; it returns
    the head's outputs and the :class:`HeadBatch` they belong to.
    """

    def __init__(self, model: torch.nn.Module, simulation: dict[str, Any], rng: np.random.Generator) -> None:
        super().__init__()
        self.model = model
        self.simulation = simulation
        self.rng = rng

    def forward(self, items: list[TrainItem]) -> tuple[dict[str, torch.Tensor], HeadBatch]:
        from training.iterate import iterate_items

        device = next(self.model.parameters()).device
        images = torch.from_numpy(np.stack([item.image for item in items])).to(device).permute(0, 3, 1, 2).float() / 255
        features = self.model.encode(images)
        if any(item.passes > 0 for item in items):
            items = iterate_items(self.model, features, items, self.rng, self.simulation, device)
        batch = head_batch(self.model, items, device)
        return run_head(self.model, features, batch), batch
