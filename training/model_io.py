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

from napari_scribbleseg.model import CropTransform, build_model, load_checkpoint
from napari_scribbleseg.model.edges import grey_guide
from napari_scribbleseg.model.guidance import COLOUR_KINDS, colour_bins, slic_superpixels
from napari_scribbleseg.model.interaction import decide_labels, head_inputs, paste_logits
from training.items import TrainItem


@dataclass
class HeadBatch:
    """The head's inputs for all classes of all items, one row per (item, class).

    image : (N, 3, E, E) float in [0, 1]; gt : (N, E, E) long, each item's class map (0 = not counted);
    rows : (B,) long, the item of each row; classes : (B,) long, the class k of each row;
    guidance : (B, G, S, S) in crop space; crop : the B boxes (image space E x E);
    target, valid : (B, 1, S, S) float in crop space; prev : (B, E, E) bool, each row's previous mask;
    given : (B,) bool, the row's item started from an annotator's scribbles (:attr:`TrainItem.given`).
    """

    image: torch.Tensor
    gt: torch.Tensor
    rows: torch.Tensor
    classes: torch.Tensor
    guidance: torch.Tensor
    crop: CropTransform
    target: torch.Tensor
    valid: torch.Tensor
    prev: torch.Tensor
    given: torch.Tensor | None = None


def make_model(cfg: dict[str, Any]) -> torch.nn.Module:
    """Build ``cfg["model"]["arch"]`` with its config; ImageNet weights in the encoder when asked."""
    spec = cfg["model"]
    model = build_model(spec["arch"], **spec.get("config", {}))
    if spec.get("pretrained_encoder"):
        from napari_scribbleseg.model import load_imagenet_lite

        load_imagenet_lite(model.encoder)
    return model


def load_model(path: str, map_location: str | torch.device = "cpu") -> torch.nn.Module:
    """A model from a self-describing checkpoint, in train mode (for fine-tuning or resuming)."""
    return load_checkpoint(path, map_location=map_location).train()


def widen_guidance(ckpt: dict[str, Any], guidance: str) -> dict[str, torch.Tensor]:
    """The checkpoint's weights for a guidance kind with more history channels: the extra input channels
    of the history encoder start at zero, so the model begins exactly where the checkpoint was and learns
    how much to use the new cue. Kinds whose shared channels differ raise InputError."""
    from napari_scribbleseg.errors import InputError
    from napari_scribbleseg.model.guidance import guidance_layout

    old, new = guidance_layout(ckpt["config"].get("guidance", "binary")), guidance_layout(guidance)
    if new[: len(old)] != old:
        raise InputError(f"guidance {guidance!r} does not extend the checkpoint's {old}; fine-tune from a model with those channels")
    state = dict(ckpt["state_dict"])
    key = next(k for k in state if k.endswith("hist_enc.0.weight"))
    weight = state[key]
    extra = torch.zeros((weight.shape[0], len(new) - len(old), *weight.shape[2:]), dtype=weight.dtype)
    state[key] = torch.cat([weight, extra], 1)
    return state


def load_teacher(path: str, guidance: str) -> torch.nn.Module:
    """The frozen model of ``path`` reading the student's ``guidance`` (loss.distill): widened to it when the
    fine-tune adds channels (:func:`widen_guidance`, zero weights), so it computes what the checkpoint does."""
    return init_model({"model": {"config": {"guidance": guidance}}}, path).eval()


def init_model(cfg: dict[str, Any], path: str) -> torch.nn.Module:
    """The checkpoint's model with the recipe's ``model.config`` values applied, in train mode; with the recipe's
    ``model.transplant``, its neck and head on the recipe's ``model.arch`` (:func:`transplant`).

    Fine-tuning may change what leaves the weights' shapes alone (``head_size``, ``encoder_max_side``,
    zoom settings); a value that changes a shape (widths, guidance) raises InputError naming it.
    """
    from napari_scribbleseg.errors import InputError
    from napari_scribbleseg.model.checkpoint import read_checkpoint

    ckpt = read_checkpoint(path)
    wanted = cfg.get("model", {}).get("config", {}) or {}
    if wanted.get("guidance", ckpt["config"].get("guidance")) != ckpt["config"].get("guidance"):
        ckpt = {**ckpt, "state_dict": widen_guidance(ckpt, wanted["guidance"])}
    if cfg.get("model", {}).get("transplant"):
        return transplant(cfg["model"]["arch"], ckpt, wanted).train()
    try:
        return load_checkpoint({**ckpt, "config": {**ckpt["config"], **wanted}}).train()
    except InputError as err:
        changed = sorted(k for k in wanted if ckpt["config"].get(k) != wanted[k])
        raise InputError(
            f"the recipe's model.config changes {changed}, which do not fit the weights of {path} ({err}); "
            "fine-tune with only head_size, encoder_max_side and zoom settings changed"
        ) from None


def transplant(arch: str, ckpt: dict[str, Any], config: dict[str, Any] | None = None) -> torch.nn.Module:
    """A model of ``arch`` (another trunk) with the ImageNet trunk of its kind and the checkpoint's neck and head.

    Everything the checkpoint holds outside the trunk (the encoder's neck, the interaction head) is copied where
    the new model has a tensor of that name and shape; the rest of the new model keeps its fresh initialisation
    (Lite1 has Lite0's widths, so everything fits; Lite2's wider stride-16 features leave the neck's first
    convolution fresh). The checkpoint's config is kept (head size, guidance...) except the trunk's width and
    depth, which are ``arch``'s, and ``config`` overrides it. Prints what was carried over.
    """
    from napari_scribbleseg.model import load_imagenet_lite

    values = {k: v for k, v in ckpt["config"].items() if k not in ("encoder_width", "encoder_depth")}
    model = build_model(arch, **{**values, **(config or {})})
    load_imagenet_lite(model.encoder)
    state = model.state_dict()
    trunk = {f"encoder.{name}" for name in model.encoder.trunk_state_names()}
    carried, fresh = 0, []
    for name, tensor in ckpt["state_dict"].items():
        if name in state and name not in trunk and state[name].shape == tensor.shape:
            state[name] = tensor.to(state[name].dtype)
            carried += 1
        elif name not in trunk:
            fresh.append(name)
    model.load_state_dict(state)
    print(f"transplant: {ckpt.get('arch')} -> {arch}: ImageNet trunk, {carried} tensors of the neck and head carried over"
          + (f", fresh: {', '.join(fresh)}" if fresh else ""))
    return model


def head_batch(model: torch.nn.Module, items: list[TrainItem], device: torch.device) -> HeadBatch:
    """Stack the items' images and the per-class guidance (``guidance_crops``, the Session's own
    path), zoom boxes and crop-space targets of every row."""
    cfg = model.config
    size = cfg.head_size
    shape = items[0].gt.shape
    rows, classes, guides, targets, valids, boxes, prev_rows = [], [], [], [], [], [], []
    for i, item in enumerate(items):
        ks = list(item.scribbled_classes)
        cls = np.asarray(ks)
        rgb = item.image.astype(np.float32) / 255
        superpixels = slic_superpixels(rgb) if cfg.guidance == "superpixel" else None
        colour = colour_bins(rgb, item.gt > 0) if cfg.guidance in COLOUR_KINDS else None
        guide = grey_guide(rgb) if cfg.guidance == "colour_geodesic" else None
        inputs = head_inputs(
            cfg, item.scribbles, ks, item.current, item.prev, size, superpixels=superpixels, colour=colour, guide=guide
        )
        crop = inputs.crop
        prev_rows.append(np.zeros((len(ks), *shape), bool) if inputs.prev is None else inputs.prev.numpy())
        guides.append(inputs.guidance)
        gt = torch.from_numpy(item.gt)
        targets.append(crop.to_crop((gt[None, None] == torch.as_tensor(cls)[:, None, None, None]).float(), size))
        valids.append(crop.to_crop((gt > 0).float()[None, None], size))
        boxes.append(crop.boxes)
        rows += [i] * len(ks)
        classes += ks
    image = torch.from_numpy(np.stack([item.image for item in items])).to(device).permute(0, 3, 1, 2).float() / 255
    return HeadBatch(
        image=image,
        gt=torch.from_numpy(np.stack([item.gt for item in items]).astype(np.int64)).to(device),
        rows=torch.tensor(rows, device=device),
        classes=torch.tensor(classes, device=device),
        guidance=torch.cat(guides).to(device),
        crop=CropTransform(np.concatenate(boxes), (int(shape[0]), int(shape[1]))),
        target=(torch.cat(targets) > 0.5).float().to(device),
        valid=(torch.cat(valids) > 0.5).float().to(device),
        prev=torch.from_numpy(np.concatenate(prev_rows)).to(device),
        given=torch.tensor([items[i].given for i in rows], dtype=torch.bool, device=device),
    )


def image_logits(outputs: dict[str, torch.Tensor], batch: HeadBatch, size: tuple[int, int] | None = None) -> torch.Tensor:
    """The refined logits of every row pasted back into image space (B, 1, *size), as the Session does
    (:func:`napari_scribbleseg.model.interaction.paste_logits`): outside its zoom box a class keeps its
    previous mask, confidently."""
    size = tuple(batch.gt.shape[-2:]) if size is None else size
    refined = outputs["refined"]
    out = refined.new_empty((len(refined), 1, *size), dtype=torch.float32)
    rows = batch.rows.cpu().numpy()
    # each item's rows upsampled along its own image's edges, with the Session's guide (Session(refine_edges=True))
    for i in np.unique(rows):
        mine = np.flatnonzero(rows == i)
        crop = CropTransform(batch.crop.boxes[mine], batch.crop.image_shape)
        prev = None if batch.prev is None else batch.prev[torch.as_tensor(mine, device=batch.prev.device)]
        out[torch.as_tensor(mine, device=out.device)] = paste_logits(refined[mine], crop, prev, size, guide=grey_guide(batch.image[i].permute(1, 2, 0)))
    return out


def run_head(model: torch.nn.Module, features: dict[str, torch.Tensor], batch: HeadBatch) -> dict[str, torch.Tensor]:
    """The head on every row, each over the cached features of its item."""
    per_row = {name: f[batch.rows] for name, f in features.items()}
    return model.head(per_row, batch.guidance, batch.crop)


def predicted_labels(outputs: dict[str, torch.Tensor], batch: HeadBatch, items: list[TrainItem]) -> list[np.ndarray]:
    """Each item's label map (E, E) int32 from the refined logits, by the Session's own competition rule
    (:func:`napari_scribbleseg.model.interaction.decide_labels`)."""
    logits = image_logits(outputs, batch, items[0].gt.shape)
    return [
        decide_labels(logits[batch.rows == i, 0], list(item.scribbled_classes), item.scribbles)
        for i, item in enumerate(items)
    ]


def row_iou(outputs: dict[str, torch.Tensor], batch: HeadBatch) -> float:
    """Mean IoU of the refined masks of the rows (in crop space, valid pixels), for progress logs."""
    pred = (F.interpolate(outputs["refined"].detach().float(), size=batch.target.shape[-2:], mode="bilinear") > 0).float()
    inter = (pred * batch.target * batch.valid).sum((1, 2, 3))
    union = (((pred + batch.target) > 0).float() * batch.valid).sum((1, 2, 3))
    return float((inter / union.clamp_min(1)).mean())
