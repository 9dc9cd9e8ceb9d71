"""The model side of one interaction, the one implementation the Session, training and uncertainty share.

(image features, strokes, current stroke, previous labels) -> head inputs -> image-space logits -> labels:

- :func:`head_inputs`: the zoom-in box of each scribbled class (its previous mask and strokes, 000),
  the guidance maps in that box and the previous masks;
- :func:`paste_logits`: the head's crop-space logits back into the image; outside its box a class keeps
  its previous mask, confidently;
- :func:`decide_labels`: the competition rule of the contract: one class alone against a background
  logit 0, two or more against each other (every pixel gets one of them); scribbled pixels keep theirs.

Training calls the first two per item (``training/model_io.py``), the Session per head batch; a test
checks that both give the same logits.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from napari_scribbleseg.model import edges
from napari_scribbleseg.model.crop import OUTSIDE_LOGIT, CropTransform, zoom_extents
from napari_scribbleseg.model.guidance import guidance_crops


@dataclass
class HeadInputs:
    """What the head takes for ``k`` classes of one image: ``guidance`` (k, G, S, S) in crop space, the
    ``crop`` boxes, and ``prev`` (k, H, W) bool previous masks (None on a first interaction)."""

    guidance: torch.Tensor
    crop: CropTransform
    prev: torch.Tensor | None


def head_inputs(
    config: Any,
    scribbles: np.ndarray,
    classes: list[int],
    current: np.ndarray,
    prev: np.ndarray | None,
    head_size: int,
    *,
    zoom_in: bool = True,
    superpixels: np.ndarray | None = None,
    extreme_points: dict | None = None,
    extreme_disks: dict | None = None,
    colour: Any = None,
    guide: torch.Tensor | None = None,
) -> HeadInputs:
    """The head's inputs for ``classes`` of one (H, W) image.

    ``scribbles`` (H, W) int, ``current`` (H, W) bool (the stroke just drawn), ``prev`` (H, W) int labels
    or None; ``config`` the model's :class:`ModelConfig` (zoom settings, guidance kind). The per-image cues
    (``superpixels``, ``extreme_points``, ``colour``, the grey ``guide``) are those the guidance kind reads.
    """
    shape = tuple(np.shape(scribbles))
    cls = np.asarray(classes)
    must_hold = zoom_extents(scribbles, classes, prev if zoom_in else None, extreme_disks)
    crop = CropTransform.around_extents(must_hold, shape, config.zoom_expand, config.zoom_min_size)
    prev_t = None if prev is None else torch.from_numpy(np.asarray(prev)[None] == cls[:, None, None])
    guidance = guidance_crops(
        scribbles, classes, crop, head_size, current, prev_t, config.guidance, superpixels, extreme_points, colour, guide
    )
    return HeadInputs(guidance, crop, prev_t)


def paste_logits(
    refined: torch.Tensor,
    crop: CropTransform,
    prev: torch.Tensor | None,
    size: tuple[int, int] | None = None,
    guide: torch.Tensor | None = None,
) -> torch.Tensor:
    """(k, 1, H, W) image-space logits of the head's (k, 1, S, S) ``refined`` output (or at ``size``).

    Outside its zoom box a class keeps its previous mask ``prev`` (k, H, W) bool, at +-OUTSIDE_LOGIT.
    With ``guide``, the image's (H, W) grey values in [0, 1], the upsampling follows the image's edges
    (:mod:`napari_scribbleseg.model.edges`); without it, bilinear.
    """
    size = crop.image_shape if size is None else tuple(size)
    refined = refined.float()
    outside = None
    if prev is not None and not bool(crop.is_full.all()):
        prev = prev[:, None].to(refined.device)
        if tuple(prev.shape[-2:]) != tuple(size):
            prev = torch.nn.functional.interpolate(prev.float(), size=size, mode="nearest") > 0.5
        # a new (k, 1, H, W) float32 map (arithmetic: torch.where on a bool map is several times slower on CPU)
        outside = prev.float().mul_(2 * OUTSIDE_LOGIT).sub_(OUTSIDE_LOGIT)
    if guide is None:
        return crop.from_crop(refined, size, outside)
    guide = guide.to(refined.device)
    crops, index = edges.guide_crops(guide, crop.boxes, refined.shape[-1])
    fit = edges.local_fit(crops, index, refined)
    if crop.pastes_at(size):
        # each class's box only: a * guide + b at the box's own pixels, the rest of the map as it is
        out = outside if outside is not None else refined.new_zeros((len(crop), 1, *size))
        for i, (y0, x0, y1, x1) in enumerate(crop.boxes.astype(int)):
            ab = torch.nn.functional.interpolate(fit[i : i + 1], size=(y1 - y0, x1 - x0), mode="bilinear", align_corners=False)[0]
            out[i, 0, y0:y1, x0:x1] = torch.addcmul(ab[1], ab[0], guide[y0:y1, x0:x1].float())
        return out
    full_guide = guide.float()[None, None]
    if tuple(full_guide.shape[-2:]) != size:
        full_guide = torch.nn.functional.interpolate(full_guide, size=size, mode="area")
    if outside is not None:
        outside = torch.cat([torch.zeros_like(outside), outside], 1)  # a is 0 outside the box, b the previous mask
    ab = crop.from_crop(fit, size, outside)
    return torch.addcmul(ab[:, 1:], ab[:, :1], full_guide)


def decide_labels(
    logits: torch.Tensor | Iterable[tuple[int, torch.Tensor]], classes: list[int], scribbles: np.ndarray
) -> np.ndarray:
    """(H, W) int32 labels from the (k, H, W) logits of ``classes``: the contract's competition rule.

    One class competes with a background logit 0 (0 where it loses); two or more compete with each
    other, so every pixel gets one of them (the user named what each pixel can be). Scribbled pixels
    keep their class. ``logits`` may come in chunks, ``(index of the first class, (k_i, H, W))`` pairs,
    reduced by a running arg-max: never all classes' full-size maps at once.
    """
    chunks = [(0, logits)] if isinstance(logits, torch.Tensor) else logits
    best = index = None
    for start, chunk in chunks:
        for j, value in enumerate(chunk, start):
            if best is None:
                best, index = value, torch.zeros(value.shape, dtype=torch.uint8, device=value.device)
                continue
            # the running arg-max by arithmetic: Tensor.max(0) and boolean-mask writes are several times
            # slower on CPU. Strictly greater, so ties keep the first class, as max(0) does; the uint8
            # index holds the 255 classes there can be, and j - index >= 0 since index < j
            better = (value > best).view(torch.uint8)
            best = torch.maximum(best, value)
            index = index + better * (j - index)
    if len(classes) == 1:
        out = (best.cpu().numpy() > 0).astype(np.int32) * np.int32(classes[0])
    elif max(classes) <= 255:  # a table lookup of the uint8 index: cv2's is several times numpy's fancy index
        import cv2

        table = np.zeros(256, np.uint8)
        table[: len(classes)] = classes
        out = cv2.LUT(index.cpu().numpy(), table).astype(np.int32)
    else:
        out = np.asarray(classes, np.int32)[index.cpu().numpy()]
    scribbled = np.asarray(scribbles) > 0
    out[scribbled] = np.asarray(scribbles)[scribbled]
    return out
