"""Edge-aware upsampling (model/edges.py): the boundary lands on the image's edge, flat images are left alone."""

import numpy as np
import torch

from napari_scribbleseg.model.crop import CropTransform
from napari_scribbleseg.model.interaction import paste_logits


def _blurred_step(size=48, edge=21):
    """A coarse (1, 1, S, S) logit map whose zero crossing is one head pixel off the true edge."""
    x = torch.arange(size, dtype=torch.float32)
    logit = (x - (edge + 1)) * -0.8  # positive left of the (wrong) crossing
    return logit.expand(size, size)[None, None].clone()


def test_boundary_moves_onto_the_guide_edge():
    h = w = 192
    guide = torch.zeros(h, w)
    guide[:, : 21 * 4] = 1.0  # the object: columns 0..83 of the image (head column 21 at 4x)
    crop = CropTransform.full((h, w), 1)
    coarse = _blurred_step()
    plain = paste_logits(coarse, crop, None)[0, 0] > 0
    refined = paste_logits(coarse, crop, None, guide=guide)[0, 0] > 0
    truth = guide > 0.5
    assert (plain != truth).sum() >= 3 * h  # bilinear keeps the offset
    assert (refined != truth).sum() < 0.9 * (plain != truth).sum()


def test_flat_guide_leaves_the_bilinear_paste():
    crop = CropTransform.full((96, 96), 1)
    coarse = torch.randn(1, 1, 48, 48)
    plain = paste_logits(coarse, crop, None)
    flat = paste_logits(coarse, crop, None, guide=torch.full((96, 96), 0.5))
    # a flat guide has no edge: a = 0, b = the head's logits smoothed over 3 x 3 windows
    assert float((flat - plain).abs().mean()) < float(plain.abs().mean())


def test_outside_the_box_keeps_the_previous_mask():
    h = w = 64
    prev = torch.zeros(1, h, w, dtype=torch.bool)
    prev[0, 50:, 50:] = True
    crop = CropTransform(np.array([[0.0, 0.0, 32.0, 32.0]]), (h, w))
    out = paste_logits(torch.randn(1, 1, 16, 16), crop, prev, guide=torch.rand(h, w))[0, 0]
    assert bool((out[50:, 50:] > 0).all()) and bool((out[32:50, 32:50] < 0).all())
