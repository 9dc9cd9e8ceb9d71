"""The whole network: :class:`ModelConfig` and :class:`ScribbleSegNet` = image encoder + interaction head."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

import torch
from torch import nn

from napari_scribbleseg.errors import InputError
from napari_scribbleseg.model.crop import CropTransform
from napari_scribbleseg.model.encoder import ImageEncoder
from napari_scribbleseg.model.guidance import GUIDANCE_KINDS, guidance_layout
from napari_scribbleseg.model.head import InteractionHead


@dataclass(frozen=True)
class ModelConfig:
    """Everything that fixes the network's shape and its pre-processing; stored in checkpoints.

    Attributes
    ----------
    guidance : str
        ``"binary"`` (default), ``"superpixel"`` (003) or ``"extreme"`` (002).
    encoder_max_side : int
        Images whose long side exceeds this are shrunk to it before the encoder (speed: the encoder
        is the expensive part); smaller ones keep their size (rounded to a multiple of 16).
    encoder_width, encoder_depth : float
        EfficientNet-Lite0 channel and repeat multipliers (1.0 = Lite0, needed for ImageNet weights).
    feat_channels, low_channels : int
        Cached stride-16 and stride-4 feature channels.
    head_size : int
        Side of the head's square input (the zoom-in crop is resampled to it).
    guide_channels, fuse_channels, dec_channels, crm_channels : int
        Head widths (see :class:`InteractionHead`).
    use_pam, use_crm : bool
        Ablation switches.
    zoom_expand : float
        Zoom-in box = bounding box of previous mask + strokes, times this (000: 1.4).
    zoom_min_size : int
        Smallest zoom-in box side, in image pixels.
    """

    guidance: str = "binary"
    encoder_max_side: int = 512
    encoder_width: float = 1.0
    encoder_depth: float = 1.0
    feat_channels: int = 64
    low_channels: int = 16
    head_size: int = 256
    guide_channels: int = 8
    fuse_channels: int = 32
    dec_channels: int = 24
    crm_channels: int = 8
    use_pam: bool = True
    use_crm: bool = True
    zoom_expand: float = 1.4
    zoom_min_size: int = 48

    def __post_init__(self) -> None:
        if self.guidance not in GUIDANCE_KINDS:
            raise InputError(f"unknown guidance {self.guidance!r}; choose one of {GUIDANCE_KINDS}")
        for f in fields(self):
            value = getattr(self, f.name)
            if f.type in ("int", "float") and (isinstance(value, bool) or not isinstance(value, (int, float))):
                raise InputError(f"model config {f.name} is {value!r}; it must be a number (e.g. {f.default})")
            if f.type == "int" and (not isinstance(value, int) or value < 1):
                raise InputError(f"model config {f.name} is {value!r}; it must be a positive integer (e.g. {f.default})")
            if f.type == "float" and not (math.isfinite(value) and value > 0):
                raise InputError(f"model config {f.name} is {value!r}; it must be a positive number (e.g. {f.default})")
            if f.type == "bool" and not isinstance(value, bool):
                raise InputError(f"model config {f.name} is {value!r}; it must be True or False")
        if self.head_size % 8 or self.head_size < 32:
            raise InputError(
                f"head_size {self.head_size} must be a multiple of 8 (it is pooled to 1/8) and at least 32"
            )

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> ModelConfig:
        """Build from a checkpoint's ``config``; unknown keys raise InputError naming them."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise InputError(
                f"model config has unknown keys {unknown}; it was written by another version of "
                "napari-scribbleseg: upgrade the package or use a checkpoint made for this one"
            )
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def encoder_input_shape(self, height: int, width: int) -> tuple[int, int]:
        """(h, w) the encoder sees for an (height, width) image: long side <= encoder_max_side, multiples of 16."""
        scale = min(1.0, self.encoder_max_side / max(height, width))
        return tuple(max(32, math.ceil(d * scale / 16 - 1e-6) * 16) for d in (height, width))  # type: ignore[return-value]


class ScribbleSegNet(nn.Module):
    """Image encoder (run once per image) + interaction head (run per stroke).

    ``arch`` is the registry name it was built with (see :mod:`napari_scribbleseg.model.build`).
    """

    def __init__(self, config: ModelConfig, arch: str = "custom"):
        super().__init__()
        self.config = config
        self.arch = arch
        c = config
        self.encoder = ImageEncoder(c.encoder_width, c.encoder_depth, c.feat_channels, c.low_channels)
        self.head = InteractionHead(
            c.guidance, c.feat_channels, c.low_channels, c.head_size, c.guide_channels, c.fuse_channels,
            c.dec_channels, c.crm_channels, c.use_pam, c.use_crm,
        )

    @property
    def guidance_layout(self) -> tuple[str, ...]:
        return guidance_layout(self.config.guidance)

    def encode(self, image: torch.Tensor, prefix: tuple | None = None) -> dict[str, torch.Tensor]:
        """Image features to cache: ``high`` (N, Cf, h/16, w/16), ``low`` (N, Cl, h/4, w/4), ``image`` (N, 3, h, w).

        ``image`` is (N, 3, h, w) RGB float in [0, 1], h and w multiples of 16. ``prefix``: the trunk's first
        stages already run on ``image`` (:meth:`ImageEncoder.trunk_prefix`), so only the rest runs.
        """
        features = self.encoder(image) if prefix is None else self.encoder.finish(prefix)
        features["image"] = image
        return features

    def forward(
        self, image: torch.Tensor, guidance: torch.Tensor, crop: CropTransform | None = None
    ) -> dict[str, torch.Tensor]:
        """Encode ``image`` (N, 3, h, w) and run the head on ``guidance`` (B, G, S, S); see :meth:`InteractionHead.forward`."""
        return self.head(self.encode(image), guidance, crop)

    def parameter_count(self) -> dict[str, int]:
        """Parameters of the encoder, the head and both."""
        enc = sum(p.numel() for p in self.encoder.parameters())
        head = sum(p.numel() for p in self.head.parameters())
        return {"encoder": enc, "head": head, "total": enc + head}


def fuse_batchnorm(model: nn.Module) -> nn.Module:
    """Fold every BatchNorm2d that follows a Conv2d in an ``nn.Sequential`` into the conv, in place.

    For inference only (eval-mode statistics are baked in): the same outputs, one pass less over
    every feature map. Returns ``model``.
    """
    for seq in [m for m in model.modules() if isinstance(m, nn.Sequential)]:
        for i in range(len(seq) - 1):
            conv, bn = seq[i], seq[i + 1]
            if not (isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d)):
                continue
            scale = bn.weight.detach() / torch.sqrt(bn.running_var + bn.eps)
            bias = conv.bias.detach() if conv.bias is not None else torch.zeros_like(bn.running_mean)
            with torch.no_grad():
                conv.weight.mul_(scale.view(-1, 1, 1, 1))
                conv.bias = nn.Parameter((bias - bn.running_mean) * scale + bn.bias.detach())
            seq[i + 1] = nn.Identity()
    return model
