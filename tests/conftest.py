"""Shared fixtures: the real data in ../shared/data (skipped with a reason when absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def data_path(*parts: str) -> Path:
    """Path under ../shared/data; skips the test with a clear reason when it is not there."""
    path = DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"needs {path} (the project's shared data, ../shared/data beside the repo); not present here")
    return path


@pytest.fixture
def grabcut_dir() -> Path:
    return data_path("natural", "grabcut")


@pytest.fixture
def brats_dir() -> Path:
    return data_path("medical", "brats2015")


@pytest.fixture
def totalseg_dir() -> Path:
    return data_path("medical", "totalseg")


@pytest.fixture
def coco_mval_dir() -> Path:
    return data_path("natural", "coco_mval")


@pytest.fixture
def ct_slices_2d_dir() -> Path:
    return data_path("medical", "ct_slices_2d")


@pytest.fixture
def acdc_dir() -> Path:
    return data_path("medical", "acdc_scribbles")
