"""The network can learn: two hundred steps overfit a tiny set (encoder + head, all outputs supervised)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from napari_scribbleseg.model import CropTransform, build_model, guidance_crops


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/core/conftest.py


def _tiny_set(n: int = 4, size: int = 64):
    """Images with one square object, its mask, and scribbles: 1 inside the object, 2 outside."""
    rng = np.random.default_rng(0)
    images, masks, scribbles = [], [], []
    for i in range(n):
        img = rng.normal(0.3, 0.05, (size, size, 3))
        y, x = rng.integers(8, size - 32, 2)
        s = int(rng.integers(16, 24))
        img[y : y + s, x : x + s] += rng.uniform(0.3, 0.5, 3)
        mask = np.zeros((size, size), bool)
        mask[y : y + s, x : x + s] = True
        lab = np.zeros((size, size), np.int32)
        lab[y + s // 2, x + 3 : x + s - 3] = 1
        lab[2, :] = 2
        lab[:, 2 if x > size // 2 else size - 3] = 2
        images.append(img.clip(0, 1))
        masks.append(mask)
        scribbles.append(lab)
    return np.stack(images), np.stack(masks), scribbles


def _iou(logits: torch.Tensor, target: torch.Tensor) -> float:
    pred = logits > 0
    t = target > 0.5
    return float((pred & t).sum() / (pred | t).sum().clamp_min(1))


def test_two_hundred_steps_overfit_a_tiny_set():
    torch.manual_seed(0)
    model = build_model("scribbleseg_tiny")
    images, masks, scribbles = _tiny_set()
    s = model.config.head_size
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float()
    guidance = torch.cat(
        [guidance_crops(lab, [1], CropTransform.full(lab.shape, 1), s, current=lab > 0) for lab in scribbles]
    )
    gt = torch.from_numpy(masks).float()[:, None]
    gt4 = F.interpolate(gt, size=s // 4, mode="area")
    gt2 = F.interpolate(gt, size=s // 2, mode="area")

    def losses(out):
        refined = F.binary_cross_entropy_with_logits(out["refined"], gt2)
        coarse = F.binary_cross_entropy_with_logits(out["primitive"], gt4) + F.binary_cross_entropy_with_logits(out["adapted"], gt4)
        wrong = ((F.interpolate(out["adapted"].detach(), size=s // 2, mode="bilinear") > 0).float() - gt2).abs()
        error = F.binary_cross_entropy_with_logits(out["error"], wrong)
        return refined + 0.4 * coarse + 0.4 * error

    model.eval()
    with torch.no_grad():
        before = _iou(model(x, guidance)["refined"], gt2)
    model.train()
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(200):
        optimiser.zero_grad()
        loss = losses(model(x, guidance))
        loss.backward()
        optimiser.step()
    model.eval()
    with torch.no_grad():
        out = model(x, guidance)
    after = _iou(out["refined"], gt2)
    assert after > 0.85 and after > before + 0.2, (before, after)
    assert _iou(out["adapted"], gt4) > 0.8
