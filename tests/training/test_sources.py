"""Data sources read each layout into images with all their regions; the mixture honours its weights."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from napari_scribbleseg.errors import InputError
from training.mixture import MixtureSampler
from training.sources import build_source
from training.sources.base import Sample
from training.sources.folders import regions_from_mask


def _regions(sample: Sample) -> list[int]:
    return [int(r) for r in np.unique(sample.regions) if r > 0]


def test_coco_and_lvis_json_merge_instances_of_an_image(tiny_root: Path) -> None:
    pytest.importorskip("pycocotools", reason="COCO/LVIS sources need pycocotools (pip install 'napari-scribbleseg[train]')")
    source = build_source({
        "kind": "coco",
        "annotations": [str(tiny_root / "coco/annotations/instances_train2017.json"), str(tiny_root / "lvis/lvis_v1_train.json")],
        "images": str(tiny_root / "coco/train2017"),
        "min_area": 10,
    })
    assert len(source) == 3
    sample = source.sample(0, np.random.default_rng(0))
    assert sample.image.shape == (64, 64, 3) and sample.image.dtype == np.uint8
    # two instances from COCO plus the same two from LVIS (whose images are named by coco_url) ...
    assert len(source.anns[source.ids[0]]) == 4
    # ... drawn on top of each other: two regions remain
    assert len(_regions(sample)) == 2


def test_coco_mval_folder_groups_the_instances_of_one_image(tiny_root: Path) -> None:
    source = build_source({"kind": "coco_mval", "root": str(tiny_root / "natural/coco_mval")})
    assert len(source) == 2
    sizes = sorted(len(_regions(source.sample(i, np.random.default_rng(0)))) for i in range(2))
    assert sizes == [1, 2]


def test_the_held_out_split_of_the_dev_benchmark_is_left_out(tiny_root: Path) -> None:
    root = tiny_root / "natural/coco_mval"
    masks = sorted(p.stem for p in (root / "masks").iterdir())
    source = build_source({"kind": "coco_mval", "root": str(root), "holdout_every": 2})
    kept = {m.stem for pairs in source.items for _, m in pairs}
    assert kept == set(masks[1::2])  # every 2nd mask by sorted name, from the first, is held out


def test_voc_palette_masks_give_instances_and_void_as_ignore(tiny_root: Path) -> None:
    source = build_source({"kind": "pascal", "root": str(tiny_root / "VOC2012")})
    sample = source.sample(0, np.random.default_rng(0))
    assert _regions(sample) == [1, 2]
    assert sample.ignore is not None and sample.ignore.any()
    assert not (sample.regions[sample.ignore] > 0).any()


def test_sbd_mat_instances(tiny_root: Path) -> None:
    sample = build_source({"kind": "pascal", "root": str(tiny_root / "SBD")}).sample(0, np.random.default_rng(0))
    assert _regions(sample) == [1, 2]


@pytest.mark.parametrize(
    "spec",
    [
        {"kind": "decathlon", "root": "Decathlon/Task09_Spleen"},
        {"kind": "brats", "root": "BraTS"},
        {"kind": "brats", "root": "medical/brats2015"},
        {"kind": "chaos", "root": "CHAOS"},
    ],
)
def test_volume_layouts_give_foreground_slices_along_every_axis(tiny_root: Path, spec: dict) -> None:
    source = build_source({**spec, "root": str(tiny_root / spec["root"]), "min_foreground_px": 4})
    rng = np.random.default_rng(0)
    axes = set()
    for _ in range(12):
        sample = source.sample(int(rng.integers(len(source))), rng)
        assert sample.image.ndim == 3 and sample.image.dtype == np.uint8
        assert (sample.regions > 0).sum() >= 4
        axes.add(sample.name.rsplit("/ax", 1)[1][0])
    assert axes == {"0", "1", "2"}


def test_anisotropic_slices_get_square_pixels(tiny_root: Path) -> None:
    # the tiny volumes have 2 mm slices and 1 mm pixels: a sagittal slice of 12 slices becomes 24 px tall and stays 64 px wide
    source = build_source({"kind": "decathlon", "root": str(tiny_root / "Decathlon/Task09_Spleen"), "axes": [2]})
    sample = source.sample(0, np.random.default_rng(0))
    assert sample.image.shape[:2] == (24, 64)


def test_chaos_mr_grey_values_become_organ_labels(tiny_root: Path) -> None:
    source = build_source({"kind": "chaos", "root": str(tiny_root / "CHAOS"), "axes": [0]})
    names = [case.name for case in source.cases]
    mr = names.index("MR_2_T2SPIR")  # the series names of datasets.medical.chaos_series
    sample = source.sample(mr, np.random.default_rng(0))
    assert set(_regions(sample)) <= {1, 2} and _regions(sample)


def test_grabcut_style_band_is_ignored_not_a_region() -> None:
    mask = np.zeros((10, 10), np.uint8)
    mask[2:8, 2:8] = 128
    mask[3:7, 3:7] = 255
    regions, ignore = regions_from_mask(mask)
    assert regions.max() == 1 and regions.sum() == 16
    assert ignore is not None and ignore.sum() == 36 - 16


def test_mixture_draws_sources_by_weight() -> None:
    class Const:
        def __init__(self, name: str) -> None:
            self.name = name

        def __len__(self) -> int:
            return 1

        def sample(self, index: int, rng: np.random.Generator) -> Sample:
            return Sample(np.zeros((4, 4, 3), np.uint8), np.ones((4, 4), np.int32), None, self.name)

    mix = MixtureSampler([Const(n) for n in "abcd"], [0.6, 0.1, 0.1, 0.2])
    rng = np.random.default_rng(0)
    names = [mix.draw(rng).name for _ in range(4000)]
    shares = [names.count(n) / len(names) for n in "abcd"]
    assert np.allclose(shares, [0.6, 0.1, 0.1, 0.2], atol=0.03)


def test_unknown_kind_and_missing_folders_are_named() -> None:
    with pytest.raises(InputError, match="unknown data source kind"):
        build_source({"kind": "imagenet"})
    with pytest.raises(InputError, match="images/ and masks/"):
        build_source({"kind": "folder", "root": "/nonexistent"})
    with pytest.raises(InputError, match="dataset.json"):
        build_source({"kind": "decathlon", "root": "/nonexistent"})


def test_training_reads_masks_and_chaos_labels_as_the_evaluation_does(tmp_path: Path) -> None:
    """One data layer: a green colour mask is an object (not empty), and CHAOS MR grey values count by range."""
    from PIL import Image

    from napari_scribbleseg.datasets.base import read_mask as evaluation_read_mask
    from napari_scribbleseg.datasets.medical import chaos_organs
    from training.sources.base import read_mask
    from training.sources.medical import _chaos_labels

    green = np.zeros((8, 8, 3), np.uint8)
    green[2:6, 2:6, 1] = 255
    Image.fromarray(green).save(tmp_path / "green.png")
    assert np.array_equal(read_mask(tmp_path / "green.png"), evaluation_read_mask(tmp_path / "green.png"))
    assert np.count_nonzero(read_mask(tmp_path / "green.png")) == 16
    grey = np.array([[0, 60, 63, 120], [190, 250, 100, 0]], np.uint8)  # 60: liver by range, not by exact value
    labels = _chaos_labels(grey, "MR")
    for k, (_, organ) in enumerate(chaos_organs(grey, "MR"), start=1):
        assert np.array_equal(labels == k, organ)
    assert labels[0, 1] == labels[0, 2] == 1 and labels[1, 2] == 0
