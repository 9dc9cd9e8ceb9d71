"""000's losses and 002's competition loss: right answers cost less, ignored pixels cost nothing."""

from __future__ import annotations

import torch

from training.losses import competition_loss, inverse_box_weights, normalized_focal_loss, scribbleseg_loss


def _disk(size: int = 32) -> torch.Tensor:
    yy, xx = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    return (((yy - 16) ** 2 + (xx - 16) ** 2) < 64).float()[None, None]


def test_nfl_prefers_the_right_mask_and_skips_invalid_pixels() -> None:
    target = _disk()
    right = (target * 2 - 1) * 4
    wrong = -right
    assert normalized_focal_loss(right, target) < 0.05 < normalized_focal_loss(wrong, target)
    # a mistake only on pixels marked invalid costs what the right answer costs
    valid = torch.ones_like(target)
    valid[..., :8] = 0
    partly_wrong = right.clone()
    partly_wrong[..., :8] = -partly_wrong[..., :8]
    assert torch.isclose(normalized_focal_loss(partly_wrong, target, valid), normalized_focal_loss(right, target, valid))


def test_scribbleseg_loss_weights_terms_and_drops_missing_outputs() -> None:
    target = _disk()
    logits = torch.zeros_like(target, requires_grad=True)
    outputs = {"primitive": logits[..., ::4, ::4], "adapted": logits[..., ::4, ::4], "refined": logits[..., ::2, ::2],
               "error": logits[..., ::2, ::2]}
    losses = scribbleseg_loss(outputs, target)
    expected = losses["refined"] + 0.4 * (losses["primitive"] + losses["adapted"] + losses["error"])
    assert torch.isclose(losses["total"], expected)
    losses["total"].backward()
    assert logits.grad is not None and logits.grad.abs().sum() > 0
    without_crm = scribbleseg_loss({"primitive": outputs["primitive"], "adapted": outputs["adapted"],
                                    "refined": outputs["refined"]}, target)
    assert "error" not in without_crm


def test_inverse_box_weights_equalise_small_and_large_regions() -> None:
    regions = torch.zeros(40, 40, dtype=torch.long)
    regions[2:6, 2:6] = 1  # 16 px against 1584 px of region 0
    weights = inverse_box_weights(regions, torch.ones(40, 40, dtype=torch.bool))
    small, large = weights[regions == 1].sum(), weights[regions == 0].sum()
    assert 0.5 < float(small / large) < 2.0


def test_competition_loss_is_low_for_the_right_assignment() -> None:
    regions = torch.zeros(16, 16, dtype=torch.long)
    regions[:, 8:] = 1
    regions[:4, :4] = -1  # pixels of a class without strokes: the background logit should win
    valid = torch.ones(16, 16, dtype=torch.bool)
    right = torch.stack([(regions == 0).float(), (regions == 1).float()]) * 8 - 4
    swapped = right.flip(0)
    assert competition_loss(right, regions, valid) < 0.05 < competition_loss(swapped, regions, valid)
    # invalid pixels do not count
    valid[:, 8:] = False
    half_wrong = right.clone()
    half_wrong[:, :, 8:] = swapped[:, :, 8:]
    assert torch.isclose(competition_loss(half_wrong, regions, valid), competition_loss(right, regions, valid))


def test_distillation_pulls_only_simulated_first_interaction_rows_towards_the_teacher() -> None:
    from types import SimpleNamespace

    from training.recipe import DEFAULTS
    from training.trainer import compute_losses

    cfg = {"loss": {**DEFAULTS["loss"], "competition": 0.0, "distill": 1.0}}
    torch.manual_seed(0)
    teacher = torch.randn(4, 1, 8, 8)
    prev = torch.zeros(4, 16, 16, dtype=torch.bool)
    prev[2, 4:8, 4:8] = True  # row 2 continues from a previous mask: not a first interaction
    given = torch.tensor([False, False, False, True])  # row 3: an annotator's real scribbles, learnt from
    batch = SimpleNamespace(
        target=(torch.rand(4, 1, 8, 8) > 0.5).float(), valid=torch.ones(4, 1, 8, 8), prev=prev, given=given
    )

    def distill_grad(refined: torch.Tensor) -> torch.Tensor:
        refined = refined.clone().requires_grad_(True)
        losses = compute_losses({"refined": refined, "teacher": teacher}, batch, cfg)
        plain = compute_losses({"refined": refined}, batch, cfg)  # no teacher: no distillation term
        assert "distill" in losses and "distill" not in plain
        (losses["total"] - plain["total"]).backward()
        return refined.grad

    assert torch.allclose(distill_grad(teacher), torch.zeros_like(teacher), atol=1e-7)  # already the teacher's
    grad = distill_grad(teacher + 1.0)
    assert torch.all(grad[:2] > 0)  # above the teacher: pushed down, on the first-interaction rows
    assert torch.allclose(grad[2], torch.zeros_like(grad[2]), atol=1e-6)  # the row with a previous mask is left to the task loss
    assert torch.allclose(grad[3], torch.zeros_like(grad[3]), atol=1e-6)  # and so is the row of real scribbles
