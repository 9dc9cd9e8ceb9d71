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


def test_box_by_box_paste_equals_the_whole_image_fit():
    """paste_logits fills each class's box only; the result is the guided fit upsampled over the whole image
    (a * guide + b, a = 0 and b = the previous mask's logit outside the box), as training's gradient sees it."""
    from napari_scribbleseg.model import edges
    from napari_scribbleseg.model.crop import OUTSIDE_LOGIT

    rng = np.random.default_rng(0)
    h, w = 70, 90
    guide = torch.rand(h, w)
    crop = CropTransform(np.array([[0.0, 0.0, 70.0, 90.0], [10.0, 20.0, 50.0, 61.0], [10.0, 20.0, 50.0, 61.0]]), (h, w))
    prev = torch.from_numpy(rng.random((3, h, w)) > 0.5)
    refined = torch.randn(3, 1, 24, 24, requires_grad=True)
    out = paste_logits(refined, crop, prev, guide=guide)
    crops, index = edges.guide_crops(guide, crop.boxes, 24)
    ab = torch.nn.functional.interpolate(edges.local_fit(crops, index, refined), size=(h, w), mode="bilinear")
    want = torch.where(prev[:, None], OUTSIDE_LOGIT, -OUTSIDE_LOGIT)
    for i, (y0, x0, y1, x1) in enumerate(crop.boxes.astype(int)):
        part = torch.nn.functional.interpolate(edges.local_fit(crops, index, refined)[i : i + 1], size=(y1 - y0, x1 - x0), mode="bilinear")
        want[i, 0, y0:y1, x0:x1] = part[0, 1] + part[0, 0] * guide[y0:y1, x0:x1]
    assert out.shape == (3, 1, h, w)
    assert torch.allclose(out, want, atol=1e-5)
    assert torch.allclose(out[0], ab[0, 1:] + ab[0, :1] * guide, atol=1e-5)  # a whole-image box: the plain fit
    assert bool((out[1, 0, :10] == want[1, 0, :10]).all()) and bool((out[1, 0, :10].abs() == OUTSIDE_LOGIT).all())
    out.sum().backward()
    assert refined.grad is not None and float(refined.grad[1].abs().sum()) > 0
