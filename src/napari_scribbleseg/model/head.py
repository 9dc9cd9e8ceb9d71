"""The interaction head, run per stroke over the cached image features.

Per class (one batch item each): encode the guidance (history and current stroke apart, 004), sample
the cached stride-16 and stride-4 features over the zoom-in crop with ``grid_sample``, fuse, decode
at stride 4 of the head input, then

- PAM (000): the universal prototype gives the primitive mask; features pooled under the positive
  strokes, the negative strokes and the primitive mask go through an MLP whose output is added to the
  prototype; the adapted prototype gives the adapted mask;
- CRM (000): at stride 2 of the head input, from the image crop, the strokes, the adapted mask and
  the DETACHED decoder features, predict a correction and an error map; the refined logits are the
  correction where the error map fires and the adapted logits elsewhere.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from napari_scribbleseg.model.crop import CropTransform
from napari_scribbleseg.model.guidance import guidance_layout


def _conv(cin: int, cout: int, kernel: int = 3, stride: int = 1, bn: bool = True) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, kernel, stride, kernel // 2, bias=not bn)]
    if bn:
        layers.append(nn.BatchNorm2d(cout))
    layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


def _masked_mean(features: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """(B, C) mean of ``features`` (B, C, h, w) under ``weight`` (B, 1, h, w); 0 where the weight is empty."""
    total = weight.sum((2, 3))
    return (features * weight).sum((2, 3)) / total.clamp_min(1e-6)


class InteractionHead(nn.Module):
    """Guidance encoder + fusion + decoder + PAM + CRM.

    Parameters
    ----------
    guidance : str
        Guidance kind (:data:`napari_scribbleseg.model.guidance.GUIDANCE_KINDS`); fixes the input channels.
    feat_channels, low_channels : int
        Channels of the cached stride-16 and stride-4 features.
    head_size : int
        Side S of the head's square input (the zoom-in crop is resampled to S x S).
    guide_channels, fuse_channels, dec_channels, crm_channels : int
        Widths of the guidance encoder (per branch), the stride-8 fusion, the stride-4 decoder and the CRM.
    use_pam, use_crm : bool
        Ablation switches; without PAM the adapted logits equal the primitive ones, without CRM the
        refined logits are the adapted ones upsampled and the error map is 0.
    """

    def __init__(
        self,
        guidance: str = "binary",
        feat_channels: int = 64,
        low_channels: int = 16,
        head_size: int = 256,
        guide_channels: int = 8,
        fuse_channels: int = 32,
        dec_channels: int = 24,
        crm_channels: int = 8,
        use_pam: bool = True,
        use_crm: bool = True,
    ):
        super().__init__()
        layout = guidance_layout(guidance)
        self.layout = layout
        self.head_size = head_size
        self.use_pam, self.use_crm = use_pam, use_crm
        # layout: pos_cur, neg_cur, prev, pos, neg, extras -> current = [0:3], history = [2:]
        self._pos = (layout.index("pos_cur"), layout.index("pos"))
        self._neg = (layout.index("neg_cur"), layout.index("neg"))
        g = guide_channels
        # 004: the current stroke and the history each meet the previous mask in their own conv
        self.hist_enc = _conv(len(layout) - 2, g, stride=2, bn=False)
        self.cur_enc = _conv(3, g, stride=2, bn=False)
        self.guide4 = _conv(2 * g, 2 * g, stride=2)
        self.guide8 = _conv(2 * g, 2 * g, stride=2)
        self.fuse = nn.Sequential(_conv(feat_channels + 2 * g, fuse_channels, kernel=1), _conv(fuse_channels, fuse_channels))
        self.decode = nn.Sequential(
            _conv(fuse_channels + low_channels + 2 * g, dec_channels, kernel=1), _conv(dec_channels, dec_channels)
        )
        d = dec_channels
        self.prototype = nn.Parameter(torch.randn(d) / d**0.5)
        self.prototype_bias = nn.Parameter(torch.zeros(1))
        if use_pam:
            self.pam = nn.Sequential(nn.Linear(3 * d, d), nn.ReLU(inplace=True), nn.Linear(d, d))
            # start as the identity adaptation so an untrained PAM does not disturb the primitive mask
            nn.init.zeros_(self.pam[2].weight)
            nn.init.zeros_(self.pam[2].bias)
        if use_crm:
            c = crm_channels
            self.crm_in = _conv(3 + 2 + 1, c, bn=False)
            self.crm_feat = nn.Conv2d(d, c, 1)
            self.crm_body = _conv(c, c, bn=False)
            self.crm_out = nn.Conv2d(c, 2, 3, padding=1)

    @property
    def output_sizes(self) -> dict[str, int]:
        """Side of each output: primitive/adapted at S/4, refined/error at S/2."""
        s = self.head_size
        return {"primitive": s // 4, "adapted": s // 4, "refined": s // 2, "error": s // 2}

    def forward(
        self, features: dict[str, torch.Tensor], guidance: torch.Tensor, crop: CropTransform | None = None
    ) -> dict[str, torch.Tensor]:
        """Run the head for B items (classes) over cached features.

        Parameters
        ----------
        features : dict
            From :meth:`ScribbleSegNet.encode`: ``"high"`` (N, Cf, h/16, w/16), ``"low"`` (N, Cl, h/4, w/4),
            ``"image"`` (N, 3, h, w) RGB in [0, 1]; N = 1 (shared by all items) or B.
        guidance : (B, G, S, S)
            Guidance channels in crop space (:func:`napari_scribbleseg.model.guidance.guidance_crops`).
        crop : CropTransform, optional
            The B zoom-in boxes; None = the whole image for every item.

        Returns
        -------
        dict of logits: ``"primitive"``, ``"adapted"`` (B, 1, S/4, S/4); ``"refined"``, ``"error"`` (B, 1, S/2, S/2).
        """
        b, _, s, _ = guidance.shape
        if crop is None:
            crop = CropTransform.full((1, 1), b)
        # guidance at S/2, S/4, S/8
        g2 = torch.cat([self.hist_enc(guidance[:, 2:]), self.cur_enc(guidance[:, :3])], 1)
        g4 = self.guide4(g2)
        g8 = self.guide8(g4)
        high = crop.to_crop(features["high"], s // 8)
        fused = self.fuse(torch.cat([high, g8], 1))
        low = crop.to_crop(features["low"], s // 4)
        up = F.interpolate(fused, size=(s // 4, s // 4), mode="bilinear", align_corners=False)
        feat = self.decode(torch.cat([up, low, g4], 1))

        primitive = (feat * self.prototype[:, None, None]).sum(1, keepdim=True) + self.prototype_bias
        adapted = primitive
        (pc, ph), (nc, nh) = self._pos, self._neg
        pos = torch.maximum(guidance[:, pc : pc + 1], guidance[:, ph : ph + 1])
        neg = torch.maximum(guidance[:, nc : nc + 1], guidance[:, nh : nh + 1])
        if self.use_pam:
            # stroke coverage of each stride-4 cell weights the pooling
            pooled = torch.cat(
                [
                    _masked_mean(feat, F.avg_pool2d(pos, 4)),
                    _masked_mean(feat, F.avg_pool2d(neg, 4)),
                    _masked_mean(feat, torch.sigmoid(primitive)),
                ],
                1,
            )
            prototype = self.prototype + self.pam(pooled)
            adapted = (feat * prototype[:, :, None, None]).sum(1, keepdim=True) + self.prototype_bias

        coarse = F.interpolate(adapted, size=(s // 2, s // 2), mode="bilinear", align_corners=False)
        if not self.use_crm:
            return {"primitive": primitive, "adapted": adapted, "refined": coarse, "error": torch.zeros_like(coarse)}
        image = crop.to_crop(features["image"], s // 2) - 0.5
        strokes = F.avg_pool2d(torch.cat([pos, neg], 1), 2)
        # 000: CRM sees the coarse mask and the decoder features detached, so it learns corrections
        # without pulling the segmentation model towards them
        x = self.crm_in(torch.cat([image, strokes, torch.sigmoid(coarse.detach())], 1))
        x = x + F.interpolate(self.crm_feat(feat.detach()), size=x.shape[-2:], mode="bilinear", align_corners=False)
        correction, error = self.crm_out(self.crm_body(x)).split(1, 1)
        gate = torch.sigmoid(error)
        refined = gate * correction + (1 - gate) * coarse
        return {"primitive": primitive, "adapted": adapted, "refined": refined, "error": error}
