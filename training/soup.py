"""Weight averaging ("model soup", Wortsman et al. 2022) of fine-tunes that share a starting point.

Two runs fine-tuned from the same checkpoint stay in one basin of the loss, so the average of their weights
is a model of its own that often keeps what each run learned (issue 15: stage 4 and its copy-paste
fine-tune, averaged, docs/MODEL.md "Stage 5"). Only checkpoints of the same architecture and configuration
average, except that a checkpoint whose guidance channels are a prefix of another's (a model fine-tuned with a
new cue, ``training/model_io.py`` ``widen_guidance``) is widened to them first, its new channels at zero weight,
as its fine-tune started; the result is a self-describing checkpoint that names its parts.

    python -m training soup training/runs/colour_edges/final.pt training/runs/composites/final.pt \\
        --out training/runs/soup/final.pt
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

import torch

from napari_scribbleseg.errors import InputError
from napari_scribbleseg.model.checkpoint import read_checkpoint, write_checkpoint


def average_checkpoints(paths: Sequence[str | os.PathLike], weights: Sequence[float] | None = None) -> dict[str, Any]:
    """The weighted average of the checkpoints' weights, as a checkpoint dict (float16 like the shipped ones).

    ``weights`` (one per checkpoint, default equal) must be positive; they are normalised to sum to 1.
    Integer tensors (batch-norm step counters) are taken from the first checkpoint. Raises
    :class:`InputError` when the checkpoints differ in architecture, configuration or tensor names/shapes.
    """
    if len(paths) < 2:
        raise InputError(f"a soup needs at least two checkpoints, got {len(paths)}; list every checkpoint to average")
    weights = [1.0] * len(paths) if weights is None else [float(w) for w in weights]
    if len(weights) != len(paths):
        raise InputError(f"{len(weights)} weights for {len(paths)} checkpoints; give one weight per checkpoint")
    if min(weights) <= 0:
        raise InputError(f"soup weights {weights} must all be positive; leave a checkpoint out instead of weighing it 0")
    ckpts = _common_guidance([read_checkpoint(path) for path in paths])
    first = ckpts[0]
    for path, ckpt in zip(paths[1:], ckpts[1:]):
        for key in ("arch", "config"):
            if ckpt[key] != first[key]:
                raise InputError(f"{path}: its {key} differs from {paths[0]}'s; only checkpoints of one model average")
        if set(ckpt["state_dict"]) != set(first["state_dict"]) or any(
            ckpt["state_dict"][k].shape != v.shape for k, v in first["state_dict"].items()
        ):
            raise InputError(f"{path}: its tensors differ in names or shapes from {paths[0]}'s; they cannot be averaged")
    total = sum(weights)
    state = {}
    for key, value in first["state_dict"].items():
        if not value.is_floating_point():
            state[key] = value
            continue
        mixed = sum(w / total * ckpt["state_dict"][key].double() for w, ckpt in zip(weights, ckpts))
        state[key] = mixed.to(torch.float16)
    parts = [
        {"path": str(path), "weight": round(w / total, 4), **{k: ckpt.get("metrics", {}).get(k) for k in ("recipe", "steps")}}
        for path, w, ckpt in zip(paths, weights, ckpts)
    ]
    trained_on = sorted({name for ckpt in ckpts for name in _names(ckpt.get("trained_on"))})
    # no total of steps: fine-tunes of one start share its steps, and each part lists its own
    metrics = {"recipe": "soup of " + " + ".join(str(p["recipe"]) for p in parts), "soup": parts}
    return {**first, "state_dict": state, "trained_on": trained_on, "metrics": metrics}


def _common_guidance(ckpts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The checkpoints with the same guidance channels: one whose configuration differs from the widest's only
    in a guidance kind that the widest's extends is widened to it (the new channels' weights zero)."""
    from napari_scribbleseg.model.guidance import guidance_layout
    from training.model_io import widen_guidance

    def kind(ckpt: dict[str, Any]) -> str:
        return ckpt["config"].get("guidance", "binary")

    widest = max(ckpts, key=lambda ckpt: len(guidance_layout(kind(ckpt))))
    out = []
    for ckpt in ckpts:
        if kind(ckpt) != kind(widest) and {**ckpt["config"], "guidance": kind(widest)} == widest["config"]:
            ckpt = {**ckpt, "config": dict(widest["config"]), "state_dict": widen_guidance(ckpt, kind(widest))}
        out.append(ckpt)
    return out


def _names(trained_on: str | list[str] | None) -> list[str]:
    """A checkpoint's ``trained_on`` as a list (save_checkpoint also accepts one string)."""
    if isinstance(trained_on, str):
        return [trained_on] if trained_on else []
    return list(trained_on or [])


def write_soup(paths: Sequence[str | os.PathLike], out: str | os.PathLike, weights: Sequence[float] | None = None) -> Path:
    """Average ``paths`` (:func:`average_checkpoints`) and write the checkpoint to ``out``; returns its path."""
    return write_checkpoint(average_checkpoints(paths, weights), out)
