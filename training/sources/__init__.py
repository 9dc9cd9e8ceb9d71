"""Data sources named in recipes: ``{"kind": ..., "weight": ..., <the kind's arguments>}``.

Kinds: ``folder`` (images/ + masks/), ``coco_mval``, ``coco`` (COCO and/or LVIS JSON), ``pascal``
(VOC or SBD), ``brats``, ``decathlon``, ``chaos``, ``nifti_pairs``, ``acdc_scribbles`` (real scribbles). Each builds an object with
``len()`` and ``sample(index, rng) -> Sample`` (:mod:`training.sources.base`). Any entry may add ``paste``
(a probability) and ``paste_size``: copy-paste composites of its own regions (:mod:`training.sources.composite`).
"""

from __future__ import annotations

from typing import Any, Callable

from napari_scribbleseg.errors import InputError
from training.sources.base import Sample, Source


def _folder(spec: dict[str, Any]) -> Source:
    from training.sources.folders import FolderSource

    return FolderSource(**spec)


def _coco_mval(spec: dict[str, Any]) -> Source:
    from training.sources.folders import coco_mval_source

    return coco_mval_source(**spec)


def _coco(spec: dict[str, Any]) -> Source:
    from training.sources.coco import CocoSource

    return CocoSource(**spec)


def _pascal(spec: dict[str, Any]) -> Source:
    from training.sources.pascal import PascalSource

    return PascalSource(**spec)


def _volumes(make_cases: str) -> Callable[[dict[str, Any]], Source]:
    def build(spec: dict[str, Any]) -> Source:
        from training.sources import medical

        spec = dict(spec)
        slicing = {k: spec.pop(k) for k in ("axes", "cache", "min_foreground_px", "neighbours") if k in spec}
        name = spec.pop("name", make_cases)
        cases = getattr(medical, f"{make_cases}_cases")(**spec)
        return medical.volume_source(name, cases, **slicing)

    return build


def _acdc(spec: dict[str, Any]) -> Source:
    from training.sources.acdc import AcdcSource

    return AcdcSource(**spec)


BUILDERS: dict[str, Callable[[dict[str, Any]], Source]] = {
    "acdc_scribbles": _acdc,
    "folder": _folder,
    "coco_mval": _coco_mval,
    "coco": _coco,
    "pascal": _pascal,
    "brats": _volumes("brats"),
    "decathlon": _volumes("decathlon"),
    "chaos": _volumes("chaos"),
    "nifti_pairs": _volumes("nifti_pair"),
}


def build_source(spec: dict[str, Any]) -> Source:
    """Build the source a recipe entry describes (``kind`` plus the kind's keyword arguments; ``weight`` ignored)."""
    spec = {k: v for k, v in spec.items() if k != "weight"}
    kind = spec.pop("kind", None)
    if kind not in BUILDERS:
        raise InputError(f"unknown data source kind {kind!r}; use one of {sorted(BUILDERS)}")
    if "modalities" in spec:
        spec["modalities"] = tuple(spec["modalities"])
    paste, paste_size = spec.pop("paste", None), spec.pop("paste_size", (0.2, 0.7))
    source = BUILDERS[kind](spec)
    if paste is not None:
        from training.sources.composite import CompositeSource

        return CompositeSource(source, float(paste), tuple(paste_size))
    return source


__all__ = ["BUILDERS", "Sample", "Source", "build_source"]
