"""``python -m training pack``: a recipe's data, shrunk, in a folder a recipe can train from unchanged."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from napari_scribbleseg.errors import InputError
from training.pack import pack_sources, recipe_paths
from training.recipe import load_recipe, resolve_paths
from training.trainer import train

from test_train import TINY  # the tiny-network overrides every recipe test uses


def test_recipe_paths_are_the_data_relative_strings():
    spec = {"kind": "nifti_pairs", "pairs": [{"image": "${data}/a/x.nii.gz", "label": "${data}/a/y.nii.gz", "kind": "ct"}]}
    assert recipe_paths(spec) == ["a/x.nii.gz", "a/y.nii.gz"]


def test_pack_shrinks_photos_and_masks_alike_and_leaves_out_excluded_cases(tiny_root: Path, tmp_path: Path):
    sources = [
        {"kind": "coco_mval", "root": "${data}/natural/coco_mval"},
        {"kind": "brats", "root": "${data}/medical/brats2015", "exclude": ["pat0002"]},
    ]
    report = pack_sources(sources, tiny_root, tmp_path / "pack", max_side=32)
    folder = tmp_path / "pack" / "natural" / "coco_mval"
    for photo in (folder / "images").iterdir():
        image = cv2.imread(str(photo))
        mask = cv2.imread(str(folder / "masks" / f"{photo.stem}.png"), cv2.IMREAD_UNCHANGED)
        assert max(image.shape[:2]) == 32 and mask.shape == image.shape[:2]
        assert set(np.unique(mask)) <= {0, 255}  # nearest sampling: no new label values
    cases = sorted(p.name for p in (tmp_path / "pack" / "medical" / "brats2015").iterdir())
    assert cases == ["brats_2013_pat0001_1"]
    assert report.files == 6 + 3 and set(report.per_source) == {"coco_mval", "brats"}


def test_a_recipe_trains_from_its_pack(tiny_root: Path, tmp_path: Path):
    recipe = load_recipe("local", TINY)
    pack_sources(recipe["sources"], tiny_root, tmp_path / "pack", max_side=48)
    path = train(resolve_paths(recipe, tmp_path / "pack"), tmp_path / "run", steps=2, progress=False)
    assert path is not None and path.exists()


def test_missing_data_and_budget_are_named(tiny_root: Path, tmp_path: Path):
    with pytest.raises(InputError, match="does not exist"):
        pack_sources([{"kind": "folder", "root": "${data}/nowhere"}], tiny_root, tmp_path / "a")
    with pytest.raises(InputError, match="max-side"):
        pack_sources([{"kind": "coco_mval", "root": "${data}/natural/coco_mval"}], tiny_root, tmp_path / "b",
                     budget_mib=1e-4)


def test_pack_command_prints_what_it_packed(tiny_root: Path, tmp_path: Path, capsys):
    from training.cli import main

    assert main(["pack", "--recipe", "local", "--data-root", str(tiny_root), "--out", str(tmp_path / "p"),
                 "--max-side", "32"]) == 0
    printed = capsys.readouterr().out
    assert "packed" in printed and "coco_mval" in printed and "outside the repository" in printed
    assert (tmp_path / "p" / "medical" / "totalseg" / "example_ct_sm.nii.gz").exists()
