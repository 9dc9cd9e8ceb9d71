"""Copy-paste composites: new training images from the same masks (issue 15, lever "more varied data").

With probability ``share`` a sample gets one region of another sample of the same source pasted onto it,
rescaled and placed at random, its edge feathered over about a pixel so that the seam is not a sharper
cue than a real object boundary. The pasted region becomes a new region of the sample and covers what was
under it (an occluded region keeps its visible pixels). 800 COCO MVal photos thereby show their objects on
backgrounds they were never photographed on, so the first stroke cannot lean on a memorised scene.
"""

from __future__ import annotations

import numpy as np

from napari_scribbleseg.errors import InputError
from training.sources.base import Sample, Source

#: Donor regions smaller than this many pixels are not pasted (too small to scribble on after rescaling).
MIN_DONOR_PX = 400


def paste_region(
    base: Sample,
    donor: Sample,
    rng: np.random.Generator,
    size: tuple[float, float] = (0.2, 0.7),
    feather: float = 0.8,
) -> Sample:
    """``base`` with one random region of ``donor`` pasted on it (``base`` unchanged when the donor has none).

    The pasted region's longer box side becomes a random fraction ``size`` of the base image's shorter side;
    its position is uniform over the places where the box fits. ``feather`` is the Gaussian sigma (pixels)
    of the alpha mask's edge. The region is labelled where the alpha is at least 1/2.
    """
    import cv2

    ids, counts = np.unique(donor.regions[donor.regions > 0], return_counts=True)
    ids = ids[counts >= MIN_DONOR_PX]
    if not len(ids):
        return base
    mask = donor.regions == int(rng.choice(ids))
    ys, xs = np.nonzero(mask)
    box = (slice(ys.min(), ys.max() + 1), slice(xs.min(), xs.max() + 1))
    h, w = base.regions.shape
    longer = max(ys.max() - ys.min() + 1, xs.max() - xs.min() + 1)
    scale = rng.uniform(*size) * min(h, w) / longer
    margin = int(np.ceil(3 * feather)) if feather > 0 else 0  # room for the feathered edge around the box
    new_w = int(np.clip(round((xs.max() - xs.min() + 1) * scale), 2, max(2, w - 2 * margin)))
    new_h = int(np.clip(round((ys.max() - ys.min() + 1) * scale), 2, max(2, h - 2 * margin)))
    alpha = cv2.resize(mask[box].astype(np.float32), (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    patch = cv2.resize(donor.image[box], (new_w, new_h), interpolation=cv2.INTER_AREA)
    alpha = np.pad(alpha, margin)
    patch = np.pad(patch, ((margin, margin), (margin, margin), (0, 0)), mode="edge").astype(np.float32)
    if feather > 0:
        alpha = cv2.GaussianBlur(alpha, (0, 0), feather)
    new_h, new_w = alpha.shape
    if new_h > h or new_w > w:  # an image smaller than the margins: no room to paste
        return base
    y0, x0 = int(rng.integers(0, h - new_h + 1)), int(rng.integers(0, w - new_w + 1))
    window = (slice(y0, y0 + new_h), slice(x0, x0 + new_w))
    image = base.image.copy()
    under = image[window].astype(np.float32)
    image[window] = np.clip(alpha[..., None] * patch + (1 - alpha[..., None]) * under + 0.5, 0, 255).astype(np.uint8)
    covered = np.zeros((h, w), bool)
    covered[window] = alpha >= 0.5
    regions = base.regions.copy()
    regions[covered] = int(regions.max()) + 1
    ignore = None
    if base.ignore is not None:
        ignore = base.ignore & ~covered
        ignore = ignore if ignore.any() else None
    return Sample(image, regions, ignore, f"{base.name}+{donor.name}")


class CompositeSource:
    """A source whose samples get, with probability ``share``, a region of another of its samples pasted on.

    Parameters
    ----------
    inner : Source
        An image source with whole-image regions (COCO MVal, a folder); not one with given strokes or
        neighbouring slices, which a pasted object would contradict.
    share : float
        The probability that a sample is a composite, in [0, 1].
    size : (float, float)
        The pasted region's longer box side as a fraction of the base image's shorter side.
    """

    def __init__(self, inner: Source, share: float, size: tuple[float, float] = (0.2, 0.7)) -> None:
        if not 0.0 <= float(share) <= 1.0:
            raise InputError(f"paste share {share} must be between 0 and 1; it is the probability of a composite")
        lo, hi = (float(v) for v in size)
        if not 0.0 < lo <= hi <= 1.0:
            raise InputError(f"paste_size {list(size)} must be two fractions 0 < lo <= hi <= 1 of the image's side")
        self.inner, self.share, self.size = inner, float(share), (lo, hi)
        self.name = inner.name
        if self.share > 0 and len(inner):
            first = inner.sample(0, np.random.default_rng(0))  # refused when the recipe is read, not mid-run
            if first.scribbles is not None or first.neighbour is not None:
                raise InputError(
                    f"{self.name} gives strokes or neighbouring slices, which a pasted object would contradict; "
                    "use 'paste' only on image sources"
                )

    def __len__(self) -> int:
        return len(self.inner)

    def sample(self, index: int, rng: np.random.Generator) -> Sample:
        base = self.inner.sample(index, rng)
        if rng.random() >= self.share:
            return base
        donor = self.inner.sample(int(rng.integers(len(self.inner))), rng)
        return paste_region(base, donor, rng, self.size)
