"""Losses: 000's normalised focal loss on the model's masks and BCE on the error map, 002's competition loss.

All logits are (B, 1, H, W) or (B, H, W) float tensors at the resolution of the targets (callers resize
first with :func:`match_size`); targets are 0/1 floats, ``valid`` marks the pixels that count (ignore
bands and padding excluded).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def match_size(logits: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Bilinearly resize (B, C, h, w) logits to (B, C, *size) when they differ."""
    if tuple(logits.shape[-2:]) == tuple(size):
        return logits
    return F.interpolate(logits, size=size, mode="bilinear", align_corners=False)


def normalized_focal_loss(
    logits: torch.Tensor,
    target: torch.Tensor,
    valid: torch.Tensor | None = None,
    gamma: float = 2.0,
    alpha: float = 0.5,
    eps: float = 1e-8,
) -> torch.Tensor:
    """Normalised focal loss (RITM, used by 000): focal weights rescaled to sum to the pixel count.

    Parameters
    ----------
    logits, target : (B, 1, H, W) or (B, H, W)
        Object logits and the 0/1 ground truth.
    valid : same shape, optional
        1 where the pixel counts.

    Returns
    -------
    torch.Tensor
        Scalar: the per-sample loss (mean over valid pixels), averaged over the batch.
    """
    logits = logits.float()
    target = target.float()
    valid = torch.ones_like(target) if valid is None else valid.float()
    prob = torch.sigmoid(logits)
    p_true = torch.where(target > 0.5, prob, 1 - prob)
    alpha_t = torch.where(target > 0.5, torch.full_like(prob, alpha), torch.full_like(prob, 1 - alpha))
    beta = (1 - p_true) ** gamma * valid
    dims = tuple(range(1, logits.dim()))
    # the normaliser is a constant of the step, not a path for gradients (RITM's detach_delimeter)
    mult = (valid.sum(dim=dims, keepdim=True) / (beta.sum(dim=dims, keepdim=True) + eps)).detach()
    log_p = F.logsigmoid(torch.where(target > 0.5, logits, -logits))
    loss = -alpha_t * beta * mult * log_p
    per_sample = (loss * valid).sum(dim=dims) / (valid.sum(dim=dims) + eps)
    return per_sample.mean()


def error_map_target(adapted_logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Where the adapted mask (thresholded at 0.5) disagrees with the ground truth: CRM's error target."""
    return ((adapted_logits.detach() > 0).float() != (target > 0.5).float()).float()


def masked_bce(logits: torch.Tensor, target: torch.Tensor, valid: torch.Tensor | None = None) -> torch.Tensor:
    """Binary cross-entropy averaged over valid pixels."""
    loss = F.binary_cross_entropy_with_logits(logits.float(), target.float(), reduction="none")
    if valid is None:
        return loss.mean()
    valid = valid.float()
    return (loss * valid).sum() / valid.sum().clamp_min(1.0)


def scribbleseg_loss(
    outputs: dict[str, torch.Tensor],
    target: torch.Tensor,
    valid: torch.Tensor | None = None,
    alpha: float = 0.4,
    beta: float = 0.4,
    gamma: float = 0.4,
    focal_gamma: float = 2.0,
) -> dict[str, torch.Tensor]:
    """000's Eq. 1: NFL(refined) + alpha NFL(primitive) + beta NFL(adapted) + gamma BCE(error).

    Parameters
    ----------
    outputs : dict
        The model's ``primitive``, ``adapted``, ``refined`` and ``error`` logits, each (B, 1, h, w);
        a missing key (a model built without PAM or CRM) drops its term.
    target : (B, 1, H, W)
        0/1 ground truth of the object.
    valid : (B, 1, H, W), optional

    Returns
    -------
    dict
        ``total`` and each term (``refined``, ``primitive``, ``adapted``, ``error``) as scalars.
    """
    size = tuple(target.shape[-2:])
    terms: dict[str, torch.Tensor] = {}
    weights = {"refined": 1.0, "primitive": alpha, "adapted": beta}
    for key, weight in weights.items():
        if outputs.get(key) is not None:
            terms[key] = normalized_focal_loss(match_size(outputs[key], size), target, valid, gamma=focal_gamma)
    if outputs.get("error") is not None and outputs.get("adapted") is not None:
        err_target = error_map_target(match_size(outputs["adapted"], size), target)
        terms["error"] = masked_bce(match_size(outputs["error"], size), err_target, valid)
        weights["error"] = gamma
    total = sum(weights[k] * v for k, v in terms.items())
    return {"total": total, **{k: v.detach() for k, v in terms.items()}}


def inverse_box_weights(regions: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """002's pixel weights: 1 / area of the smallest region box that contains the pixel.

    Parameters
    ----------
    regions : (H, W) long
        Region index per pixel (any integers; each value is one region).
    valid : (H, W) bool
        Pixels that count.

    Returns
    -------
    (H, W) float
        Weights normalised to mean 1 over the valid pixels (0 elsewhere), so that every region
        contributes about equally whatever its size.
    """
    h, w = regions.shape
    best = torch.full((h, w), float(h * w), device=regions.device)
    for r in torch.unique(regions[valid]).tolist():
        ys, xs = torch.nonzero((regions == r) & valid, as_tuple=True)
        y0, y1, x0, x1 = int(ys.min()), int(ys.max()) + 1, int(xs.min()), int(xs.max()) + 1
        area = float((y1 - y0) * (x1 - x0))
        best[y0:y1, x0:x1] = best[y0:y1, x0:x1].clamp_max(area)
    weights = (1.0 / best) * valid
    return weights / weights[valid].mean().clamp_min(1e-12)


def competition_loss(region_logits: torch.Tensor, regions: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """002's pixel-wise loss: regions compete per pixel through a softmax, weighted by inverse box size.

    Parameters
    ----------
    region_logits : (N, H, W)
        One object logit per region of one image (its class head's output). A fixed background
        logit 0 joins the softmax, as at inference, so a region wins a pixel by beating both the
        other regions and "nothing".
    regions : (H, W) long
        Ground-truth region index 0..N-1 per pixel, or -1 for pixels that belong to no region with a
        head pass (they should go to the background logit).
    valid : (H, W) bool
        Pixels that count.

    Returns
    -------
    torch.Tensor
        Scalar weighted cross-entropy over the valid pixels.
    """
    if not bool(valid.any()):
        return region_logits.sum() * 0.0
    background = torch.zeros_like(region_logits[:1])
    logits = torch.cat([background, region_logits.float()], dim=0)[None]  # (1, N + 1, H, W)
    target = (regions + 1).clamp_min(0)[None]
    ce = F.cross_entropy(logits, target, reduction="none")[0]
    weights = inverse_box_weights(regions, valid)
    return (ce * weights).sum() / valid.sum()
