"""Copy-paste composites: a region of one sample pasted onto another becomes a new, fully labelled region."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from napari_scribbleseg.errors import InputError
from training.sources import build_source
from training.sources.base import Sample
from training.sources.composite import CompositeSource, paste_region


def _sample(value: int, name: str, box: tuple[slice, slice], size: int = 120) -> Sample:
    image = np.full((size, size, 3), 30, np.uint8)
    regions = np.zeros((size, size), np.int32)
    regions[box] = 1
    image[box] = value
    return Sample(image, regions, None, name)


class _Pair:
    name = "pair"

    def __init__(self) -> None:
        self.samples = [_sample(200, "a", np.s_[10:50, 10:50]), _sample(90, "b", np.s_[60:110, 20:100])]

    def __len__(self) -> int:
        return 2

    def sample(self, index: int, rng: np.random.Generator) -> Sample:
        return self.samples[index]


def test_the_pasted_region_is_a_new_region_with_the_donors_pixels() -> None:
    base, donor = _sample(200, "a", np.s_[10:50, 10:50]), _sample(90, "b", np.s_[60:110, 20:100])
    out = paste_region(base, donor, np.random.default_rng(3), size=(0.4, 0.4))
    pasted = out.regions == 2
    # longer box side (80 px) -> 0.4 of the base's 120 px side; the other side keeps the aspect (50 -> 30)
    ys, xs = np.nonzero(pasted)
    assert abs((xs.max() - xs.min() + 1) - 48) <= 2 and abs((ys.max() - ys.min() + 1) - 30) <= 2
    inner = pasted & np.roll(pasted, 2, 0) & np.roll(pasted, -2, 0) & np.roll(pasted, 2, 1) & np.roll(pasted, -2, 1)
    assert np.all(out.image[inner] == 90)
    # what is left of the base's own region is still region 1, and nothing else changed outside the paste
    assert np.array_equal(out.regions == 1, (base.regions == 1) & ~pasted)
    import cv2

    near = cv2.dilate(pasted.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    assert np.array_equal(out.image[~near], base.image[~near])
    assert out.name == "a+b" and base.regions.max() == 1, "the base sample itself is not modified"


def test_the_seam_is_feathered_not_a_hard_step() -> None:
    base, donor = _sample(0, "a", np.s_[0:0, 0:0]), _sample(250, "b", np.s_[0:120, 0:120])
    base.image[:] = 0
    out = paste_region(base, donor, np.random.default_rng(0), size=(0.5, 0.5), feather=1.0)
    ys, _ = np.nonzero(out.regions == 1)
    row = out.image[int(ys.mean()), :, 0].astype(int)
    assert row.max() == 250 and row.min() == 0
    assert any(0 < v < 250 for v in row.tolist()), "the edge blends over about a pixel"


def test_share_decides_how_often_and_a_run_repeats_with_its_seed() -> None:
    inner = _Pair()
    never = CompositeSource(inner, 0.0)
    assert all(never.sample(0, np.random.default_rng(s)) is inner.samples[0] for s in range(5))
    always = CompositeSource(inner, 1.0)
    a = always.sample(0, np.random.default_rng(7))
    b = always.sample(0, np.random.default_rng(7))
    assert a.regions.max() == 2 and np.array_equal(a.image, b.image) and np.array_equal(a.regions, b.regions)
    half = CompositeSource(inner, 0.5)
    rng = np.random.default_rng(1)
    made = sum(half.sample(0, rng).regions.max() == 2 for _ in range(200))
    assert 70 < made < 130


def test_bad_settings_and_sources_with_strokes_are_refused() -> None:
    with pytest.raises(InputError, match="between 0 and 1"):
        CompositeSource(_Pair(), 1.5)
    with pytest.raises(InputError, match="paste_size"):
        CompositeSource(_Pair(), 0.5, size=(0.8, 0.2))
    inner = _Pair()
    inner.samples[0].scribbles = np.zeros((120, 120), np.int32)
    with pytest.raises(InputError, match="only on image sources"):
        CompositeSource(inner, 0.5)



def test_a_recipe_entry_with_paste_builds_composites(tiny_root: Path) -> None:
    plain = build_source({"kind": "coco_mval", "root": str(tiny_root / "natural/coco_mval")})
    source = build_source({"kind": "coco_mval", "root": str(tiny_root / "natural/coco_mval"), "paste": 1.0,
                           "paste_size": [0.3, 0.5]})
    assert isinstance(source, CompositeSource) and len(source) == len(plain) and source.size == (0.3, 0.5)
    sample = source.sample(0, np.random.default_rng(0))
    assert sample.regions.max() > plain.sample(0, np.random.default_rng(0)).regions.max()
    with pytest.raises(InputError, match="between 0 and 1"):
        build_source({"kind": "coco_mval", "root": str(tiny_root / "natural/coco_mval"), "paste": -0.2})
