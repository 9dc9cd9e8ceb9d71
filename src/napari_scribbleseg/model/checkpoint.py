"""Self-describing checkpoints: ``{"arch", "config", "state_dict", "version", "trained_on", "metrics"}``.

Loading needs nothing but this package: the registry rebuilds ``arch`` with ``config`` and the state
dict fills it. Files are read with ``torch.load(..., weights_only=True)``, so a checkpoint cannot run
code. Floating-point weights may be stored in float16 (half the size); they load as float32.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from napari_scribbleseg.errors import InputError
from napari_scribbleseg.model.build import MODEL_REGISTRY, build_model
from napari_scribbleseg.model.network import ScribbleSegNet

CHECKPOINT_VERSION = 1
CHECKPOINT_KEYS = ("arch", "config", "state_dict", "version", "trained_on", "metrics")


def checkpoint_dict(
    model: ScribbleSegNet, trained_on: str | list[str] = "", metrics: dict[str, Any] | None = None, half: bool = True
) -> dict[str, Any]:
    """The checkpoint of ``model`` as a dict (what :func:`save_checkpoint` writes)."""
    state = {
        k: (v.detach().to("cpu", torch.float16) if half and v.is_floating_point() else v.detach().cpu())
        for k, v in model.state_dict().items()
    }
    return {
        "arch": model.arch,
        "config": model.config.to_dict(),
        "state_dict": state,
        "version": CHECKPOINT_VERSION,
        "trained_on": trained_on,
        "metrics": dict(metrics or {}),
    }


def save_checkpoint(
    model: ScribbleSegNet,
    path: str | os.PathLike,
    trained_on: str | list[str] = "",
    metrics: dict[str, Any] | None = None,
    half: bool = True,
) -> Path:
    """Write ``model`` to ``path`` (float16 weights unless ``half=False``); return the path.

    ``trained_on`` names the data (e.g. ``["coco_mval", "brats2015"]``), ``metrics`` holds plain
    numbers or strings, or lists and dicts of them (e.g. ``{"grabcut_noi90": 1.6}``; a soup lists its parts).
    """
    return write_checkpoint(checkpoint_dict(model, trained_on, metrics, half), path)


def write_checkpoint(ckpt: dict[str, Any], path: str | os.PathLike) -> Path:
    """Write a checkpoint dict (:func:`checkpoint_dict`'s layout) to ``path`` atomically; return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(ckpt, tmp)
    os.replace(tmp, path)  # never leave a half-written checkpoint behind
    return path


def read_checkpoint(source: str | os.PathLike | dict[str, Any], map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load and validate a checkpoint file (or dict) without building the model.

    Raises :class:`InputError` for a missing or unreadable file, missing keys, another format version
    or an architecture this package does not know, naming both sides and the fix.
    """
    if isinstance(source, dict):
        ckpt, name = source, "checkpoint"
    else:
        path = Path(source)
        name = str(path)
        if path.is_dir():
            inside = sorted(p.name for p in path.glob("*.pt"))
            hint = f" (it holds {', '.join(inside[:5])})" if inside else ""
            raise InputError(f"checkpoint {name} is a folder{hint}; pass the path of the .pt file itself")
        if not path.is_file():
            raise InputError(f"checkpoint {name} does not exist; check the path")
        try:
            ckpt = torch.load(path, map_location=map_location, weights_only=True)
        except Exception as err:  # torch raises several types for foreign or corrupt files
            raise InputError(
                f"checkpoint {name} cannot be read as a napari-scribbleseg checkpoint ({type(err).__name__}: "
                f"{str(err).splitlines()[0] if str(err) else ''}); pass a file written by save_checkpoint"
            ) from err
    if not isinstance(ckpt, dict) or any(k not in ckpt for k in CHECKPOINT_KEYS):
        have = sorted(ckpt) if isinstance(ckpt, dict) else type(ckpt).__name__
        raise InputError(
            f"{name} is not a napari-scribbleseg checkpoint: it needs keys {list(CHECKPOINT_KEYS)}, has {have}; "
            "pass a file written by save_checkpoint"
        )
    if ckpt["version"] != CHECKPOINT_VERSION:
        raise InputError(
            f"{name} has checkpoint format version {ckpt['version']!r} but this napari-scribbleseg reads version "
            f"{CHECKPOINT_VERSION}; use a checkpoint made for this version or upgrade the package"
        )
    if not isinstance(ckpt["config"], dict):
        raise InputError(
            f"{name} has a config of type {type(ckpt['config']).__name__}, not a dict of model settings; "
            "the file is damaged or was edited: pass a file written by save_checkpoint"
        )
    state = ckpt["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()):
        raise InputError(
            f"{name} has a state_dict of type {type(state).__name__} that is not a dict of named tensors; "
            "the file is damaged or was edited: pass a file written by save_checkpoint"
        )
    bad = sum(int((~torch.isfinite(v)).sum()) for v in state.values() if v.is_floating_point())
    if bad:
        total = sum(v.numel() for v in state.values() if v.is_floating_point())
        raise InputError(
            f"{name} holds {bad} NaN/inf weights of {total}; it would predict nothing useful. The file is damaged "
            "or its training diverged: use an earlier checkpoint of the run"
        )
    if ckpt["arch"] not in MODEL_REGISTRY:
        raise InputError(
            f"{name} holds architecture {ckpt['arch']!r} but this napari-scribbleseg builds {sorted(MODEL_REGISTRY)}; "
            "use a checkpoint of one of those"
        )
    return ckpt


def load_checkpoint(
    source: str | os.PathLike | dict[str, Any], map_location: str | torch.device = "cpu", arch: str | None = None
) -> ScribbleSegNet:
    """Rebuild the model stored in ``source`` (path or dict) in eval mode, float32.

    ``arch``: the architecture the caller expects; a checkpoint of another one raises
    :class:`InputError` naming both.
    """
    ckpt = read_checkpoint(source, map_location)
    if arch is not None and ckpt["arch"] != arch:
        raise InputError(f"checkpoint holds architecture {ckpt['arch']!r} but {arch!r} was expected; load a {arch} checkpoint")
    model = build_model(ckpt["arch"], **ckpt["config"])
    state = {k: v.float() if v.is_floating_point() else v for k, v in ckpt["state_dict"].items()}
    try:
        model.load_state_dict(state)
    except RuntimeError as err:
        raise InputError(
            f"checkpoint weights do not fit architecture {ckpt['arch']!r} with its stored config ({str(err).splitlines()[0]}); "
            "the file is damaged or was edited"
        ) from err
    model.checkpoint_info = {k: ckpt[k] for k in ("trained_on", "metrics", "version")}
    return model.eval()
