"""Edge-aware upsampling of the head's logits to the image's own resolution, guided by the image.

The head sees its zoom-in box at ``head_size`` pixels (192), so on a 640-pixel photo one head pixel spans
3.3 image pixels, and a plain bilinear paste draws every boundary at that coarse scale. Here the paste
follows the image instead (the "fast guided filter" of He and Sun, 2015, after He, Sun and Tang's guided
filter, 2010): at the head's resolution, each window of 3 x 3 head pixels fits the class logit as
``a * I + b`` of the grey image ``I`` seen at that resolution; ``a`` and ``b`` are smoothed and upsampled
to the image, where the logit becomes ``a * I + b`` of the image's own pixels. Where the image has an
edge inside a window, the boundary lands on it; where it is flat (variance << :data:`EPS`), ``a`` is ~0
and the logit is the head's, upsampled. No weights: :func:`~napari_scribbleseg.model.interaction.paste_logits`
applies it for the Session and for training alike (``Session(refine_edges=...)``).

Measured on the dev sets of issue 15 (docs/MODEL.md, "Full-resolution boundaries").
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

#: half-width, in head pixels, of the windows of the local fit
RADIUS = 1
#: regularisation of the local fit, for a guide in [0, 1]: flat regions (variance << EPS) keep the head's logits
EPS = 1e-3
#: logits enter the fit clipped to +-LIMIT, so a confident inside does not outweigh the edge
LIMIT = 9.21


def box_mean(x: torch.Tensor, r: int) -> torch.Tensor:
    """Mean of (N, C, H, W) ``x`` over (2r+1)^2 windows, clipped at the borders (running sums: O(1) a pixel)."""
    h, w = x.shape[-2:]
    total = _window_sum(_window_sum(x, r, 2), r, 3)
    count = _window_sum(_window_sum(x.new_ones((1, 1, h, w)), r, 2), r, 3)
    return total / count


def _window_sum(x: torch.Tensor, r: int, dim: int) -> torch.Tensor:
    n = x.shape[dim]
    padding = (0, 0, r + 1, r) if dim == 2 else (r + 1, r, 0, 0)
    running = torch.cumsum(F.pad(x, padding), dim)
    return running.narrow(dim, 2 * r + 1, n) - running.narrow(dim, 0, n)


def grey_guide(rgb: np.ndarray | torch.Tensor) -> torch.Tensor:
    """(H, W) float16 grey guide of an (H, W, 3) float RGB image in [0, 1], array or tensor (the Session keeps
    one per image; training makes its items' the same way).

    Not uint8: 256 levels lose the faint edges of windowed MR (BraTS case 6 NoI@90 7.25 with uint8 against
    6.80 with float, in the first version of this filter).
    """
    return torch.as_tensor(rgb).float().mean(-1).half()


def guide_crops(guide: torch.Tensor, boxes: np.ndarray, size: int) -> tuple[torch.Tensor, np.ndarray]:
    """The (H, W) ``guide`` inside each distinct integer box (y0, x0, y1, x1), at the head's resolution.

    Returns ``(crops, index)``: (U, 1, size, size) for the U distinct boxes, and which of them each box is
    (classes often share one: all of them on a first stroke). Area-averaged where the box is larger than
    the head's input (every image pixel counts, as in the head's features), bilinear where it is smaller.
    """
    boxes = np.asarray(boxes).round().astype(int)
    distinct, index = np.unique(boxes, axis=0, return_inverse=True)
    out = []
    for y0, x0, y1, x1 in distinct:
        patch = guide[y0:y1, x0:x1].float()[None, None]
        if min(y1 - y0, x1 - x0) >= size:
            out.append(F.interpolate(patch, size=(size, size), mode="area"))
        else:
            out.append(F.interpolate(patch, size=(size, size), mode="bilinear", align_corners=False))
    return torch.cat(out), index.reshape(-1)


def local_fit(
    guide: torch.Tensor, index: np.ndarray, logits: torch.Tensor, r: int = RADIUS, eps: float = EPS
) -> torch.Tensor:
    """(B, 2, S, S): ``a`` and ``b`` of the windowed linear fit ``logits ~ a * guide + b``, smoothed over the windows.

    ``guide`` (U, 1, S, S) and ``index`` (B,) from :func:`guide_crops`; ``logits`` (B, 1, S, S) at the head's
    resolution. ``a * guide + b`` is the guided filter's output there; the same ``a`` and ``b``, upsampled,
    apply to the full-resolution guide.
    """
    src = logits.float().clamp(-LIMIT, LIMIT)
    stats = box_mean(torch.cat([guide, guide * guide], 1), r)
    mean_i, var_i = stats[:, :1], stats[:, 1:] - stats[:, :1] ** 2
    rows = torch.as_tensor(index, device=logits.device)
    g, mean_i, var_i = guide[rows], mean_i[rows], var_i[rows]
    sums = box_mean(torch.cat([src, g * src], 1), r)
    a = (sums[:, 1:] - mean_i * sums[:, :1]) / (var_i + eps)
    b = sums[:, :1] - a * mean_i
    return box_mean(torch.cat([a, b], 1), r)
