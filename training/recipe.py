"""Recipes: training configurations as YAML or JSON files, merged over :data:`DEFAULTS`.

A recipe is a nested dict. ``load_recipe("local")`` reads ``training/recipes/local.yaml``; any other
argument is a path. Strings may contain ``${data}``, the shared data folder (``../shared/data`` beside
the repository unless ``data_root`` is given), resolved by :func:`resolve_paths`.
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

from napari_scribbleseg.errors import InputError

RECIPES = Path(__file__).resolve().parent / "recipes"
REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA_ROOT = REPO.parent / "shared" / "data"

DEFAULTS: dict[str, Any] = {
    "name": "unnamed",
    "seed": 0,
    # transplant: fine-tuning (--from) moves the checkpoint's neck and head onto ``arch``'s ImageNet trunk
    # (training/model_io.py transplant); otherwise fine-tuning keeps the checkpoint's architecture
    "model": {"arch": None, "config": {}, "pretrained_encoder": True, "transplant": False},
    "input_size": 256,
    "batch_size": 8,
    "steps": 1000,
    "optimizer": {
        "lr": 5e-4,
        "betas": [0.9, 0.999],
        "weight_decay": 0.0,
        # the pretrained encoder learns slower than the freshly initialised head
        "encoder_lr_mult": 1.0,
        "grad_clip": 0.0,
    },
    # milestones as fractions of ``steps``; the learning rate is multiplied by ``gamma`` at each
    "schedule": {"milestones": [], "gamma": 0.1, "warmup_steps": 0},
    "augment": {"flip": True, "scale": [0.75, 1.4], "min_region_px": 64},
    "sources": [],
    "multi_region": {"probability": 0.0, "max_regions": 4},
    # share of items from sources with an annotator's strokes (acdc_scribbles) that start from those
    # strokes; the rest get simulated ones like every other source
    "given_scribbles": 1.0,
    # share of items from volume sources with ``neighbours`` that are propagation items (training.items.
    # propagation_input: a neighbouring slice's labels as the previous mask, seeds derived from them)
    "propagation": {"share": 0.0, "perturb": 0.5, "margin_px": [1.5, 4.0], "ring_px": [1.5, 3.0], "min_px": 32},
    # passed to napari_scribbleseg.simulate as the training recipe (meta-simulator mixture)
    "scribbles": {},
    "previous": {
        # chance that a sample starts from no previous mask (the first interaction)
        "void": 0.4,
        # previous masks from the model's own predictions : perturbed ground truth (000: 1 : 0.4)
        "pred_vs_perturb": [1.0, 0.4],
        # extra no-grad passes of iterative training, each adding strokes on the errors
        "max_passes": 2,
    },
    # distill: weight of a BCE pulling the first-interaction rows' refined logits (no previous mask) towards the
    # probabilities of the checkpoint the fine-tune started from (--from), frozen: what a fine-tune must keep
    "loss": {"alpha": 0.4, "beta": 0.4, "gamma": 0.4, "competition": 1.0, "focal_gamma": 2.0, "distill": 0.0},
    "log_every": 10,
    "checkpoint_every_steps": 200,
    "checkpoint_every_s": 300.0,
    "num_workers": 0,
    # torch/OpenCV threads per process; None keeps torch's default (all cores)
    "threads": None,
    "amp": True,
}


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Return ``base`` updated by ``override`` recursively (dicts merge, everything else replaces)."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def recipe_path(name_or_path: str | Path) -> Path:
    """The file of a named recipe (``local`` -> ``training/recipes/local.yaml``) or the given path."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml", ".json") and path.exists():
        return path
    for suffix in (".yaml", ".yml", ".json"):
        candidate = RECIPES / f"{name_or_path}{suffix}"
        if candidate.exists():
            return candidate
    known = sorted(p.stem for p in RECIPES.glob("*.y*ml")) + sorted(p.stem for p in RECIPES.glob("*.json"))
    raise InputError(f"no recipe {str(name_or_path)!r}; pass a .yaml/.json file or one of {known}")


def load_recipe(name_or_path: str | Path, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Read a recipe file, merge it over :data:`DEFAULTS` and then ``overrides``.

    ``base: other`` inside a recipe file merges it over the recipe ``other`` first.
    """
    path = recipe_path(name_or_path)
    text = path.read_text()
    if path.suffix == ".json":
        raw = json.loads(text)
    else:
        import yaml

        raw = yaml.safe_load(text) or {}
    if not isinstance(raw, dict):
        raise InputError(f"recipe {path} is not a mapping of settings; write it as key: value lines")
    base = load_recipe(raw.pop("base")) if "base" in raw else DEFAULTS
    recipe = deep_merge(base, raw)
    if overrides:
        recipe = deep_merge(recipe, overrides)
    if recipe.get("epochs") and not (overrides and "steps" in overrides):
        # the papers count epochs of N images; the loop counts optimiser steps
        recipe["steps"] = math.ceil(recipe["epochs"] * recipe.get("images_per_epoch", 3000) / recipe["batch_size"])
    return recipe


def parse_override(text: str) -> dict[str, Any]:
    """``"optimizer.lr=1e-3"`` -> ``{"optimizer": {"lr": 0.001}}`` (the value is read as YAML)."""
    import yaml

    if "=" not in text:
        raise InputError(f"override {text!r} needs the form key.sub=value, e.g. optimizer.lr=1e-3")
    key, value = text.split("=", 1)
    parsed: Any = yaml.safe_load(value)
    if isinstance(parsed, str):
        try:  # YAML 1.1 reads "2e-3" (no dot) as a string
            parsed = float(parsed)
        except ValueError:
            pass
    for part in reversed(key.strip().split(".")):
        parsed = {part: parsed}
    return parsed


def resolve_paths(value: Any, data_root: str | Path | None = None) -> Any:
    """Replace ``${data}`` in every string of ``value`` (nested dicts/lists) by the data folder."""
    root = str(Path(data_root) if data_root is not None else DEFAULT_DATA_ROOT)
    if isinstance(value, str):
        return value.replace("${data}", root)
    if isinstance(value, dict):
        return {k: resolve_paths(v, root) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_paths(v, root) for v in value]
    return value
