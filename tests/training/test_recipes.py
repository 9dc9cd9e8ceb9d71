"""Recipe files load, merge over defaults, follow the papers' numbers, and reject unknown names."""

from __future__ import annotations

import pytest

from napari_scribbleseg.errors import InputError
from training.recipe import RECIPES, load_recipe, parse_override, resolve_paths

NAMES = sorted(p.stem for p in RECIPES.glob("*.yaml"))


def test_the_four_recipes_exist() -> None:
    assert {"local", "coco_lvis", "medical_finetune", "mixture_001"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_every_recipe_loads_with_sources_and_a_model(name: str) -> None:
    cfg = load_recipe(name)
    assert cfg["sources"] and cfg["model"]["arch"] and cfg["steps"] > 0
    assert cfg["input_size"] % 16 == 0


def test_coco_lvis_follows_000() -> None:
    cfg = load_recipe("coco_lvis")
    assert cfg["input_size"] == 384 and cfg["optimizer"]["lr"] == 5e-4
    assert cfg["optimizer"]["betas"] == [0.9, 0.999]
    assert cfg["steps"] == -(-150 * 3000 // cfg["batch_size"])  # 150 epochs x 3000 images
    assert cfg["schedule"]["milestones"] == pytest.approx([110 / 150, 130 / 150], abs=1e-3)
    assert cfg["previous"]["pred_vs_perturb"] == [1.0, 0.4]
    assert cfg["augment"]["scale"] == [0.75, 1.4]


def test_mixture_001_uses_its_four_sources_and_second_pass() -> None:
    cfg = load_recipe("mixture_001")
    assert [s["kind"] for s in cfg["sources"]] == ["coco", "pascal", "chaos", "decathlon"]
    assert [s["weight"] for s in cfg["sources"]] == [0.6, 0.1, 0.1, 0.2]
    assert cfg["previous"]["void"] == pytest.approx(0.7) and cfg["previous"]["max_passes"] == 1
    assert cfg["input_size"] == 384  # inherited from its base, coco_lvis


def test_local_never_trains_on_grabcut() -> None:
    text = str(load_recipe("local")["sources"]).lower()
    assert "grabcut" not in text


def test_overrides_and_data_root() -> None:
    cfg = load_recipe("local", parse_override("optimizer.lr=2e-3"))
    assert cfg["optimizer"]["lr"] == 2e-3 and cfg["optimizer"]["betas"] == [0.9, 0.999]
    resolved = resolve_paths(cfg, "/data")
    assert resolved["sources"][0]["root"] == "/data/natural/coco_mval"


def test_unknown_recipe_and_bad_override_are_named() -> None:
    with pytest.raises(InputError, match="local"):
        load_recipe("no_such_recipe")
    with pytest.raises(InputError, match="key.sub=value"):
        parse_override("optimizer.lr")
