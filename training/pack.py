"""A compact copy of a recipe's data, small enough to travel with the repository.

A GPU machine lent for training sees the repository only (at most 64 MiB with what it carries), not
``../shared/data``. ``python -m training pack --recipe R`` writes what recipe R reads into ``.pack/``
(ignored by git), laid out as under the data root, so the same recipe runs there unchanged::

    python -m training pack --recipe local_stage2                        # here: .pack/, its size printed
    python -m training train --recipe local_stage2 --data-root .pack     # there (carry .pack)

Photos under an ``images/`` folder are shrunk to ``max_side`` (area averaging) and JPEGs re-encoded at
``quality``; label images under ``masks/`` are shrunk the same way with nearest-neighbour sampling, so
they keep their values and still match their photos. Volumes, JSON and all else are copied as they are.
Whatever a source's ``exclude`` patterns leave out (a held-out case) is left out of the pack too.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from napari_scribbleseg.imaging import working_shape
from napari_scribbleseg.errors import InputError

PLACEHOLDER = "${data}"
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp"}


@dataclass
class PackReport:
    """What :func:`pack_sources` wrote: file count and bytes in all and per source (``name`` or ``kind``)."""

    files: int = 0
    bytes: int = 0
    per_source: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        parts = ", ".join(f"{name} {n / 2**20:.1f} MiB" for name, n in self.per_source.items())
        return f"{self.files} files, {self.bytes / 2**20:.1f} MiB ({parts})"


def recipe_paths(spec: Any) -> list[str]:
    """The data-root-relative paths a source spec names (every string holding ``${data}``), in order."""
    if isinstance(spec, str):
        return [spec.split(PLACEHOLDER, 1)[1].lstrip("/")] if PLACEHOLDER in spec else []
    if isinstance(spec, dict):
        return [p for v in spec.values() for p in recipe_paths(v)]
    if isinstance(spec, list):
        return [p for v in spec for p in recipe_paths(v)]
    return []


def _files(path: Path, exclude: list[re.Pattern]) -> Iterator[Path]:
    if path.is_file():
        yield path
        return
    for file in sorted(path.rglob("*")):
        inside = file.relative_to(path).parts
        if file.is_file() and not any(p.search(part) for p in exclude for part in inside):
            yield file


def _write(src: Path, dst: Path, max_side: int, quality: int) -> None:
    import cv2

    folders = {part.lower() for part in src.parent.parts[-2:]}
    kind = "mask" if "masks" in folders else "photo" if "images" in folders else None
    if kind is None or src.suffix.lower() not in IMAGE_SUFFIXES:
        shutil.copyfile(src, dst)
        return
    image = cv2.imread(str(src), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise InputError(f"{src} is not a readable image; remove it from the data or fix the file")
    h, w = working_shape(image.shape[:2], max_side)
    if (h, w) != image.shape[:2]:
        image = cv2.resize(image, (w, h), interpolation=cv2.INTER_NEAREST if kind == "mask" else cv2.INTER_AREA)
    options = [cv2.IMWRITE_JPEG_QUALITY, quality] if src.suffix.lower() in (".jpg", ".jpeg") else []
    if not cv2.imwrite(str(dst), image, options):
        raise InputError(f"could not write {dst}; check that the output folder is writable")


def pack_sources(
    sources: list[dict[str, Any]],
    data_root: str | Path,
    out: str | Path,
    max_side: int = 448,
    quality: int = 85,
    budget_mib: float | None = None,
) -> PackReport:
    """Copy what ``sources`` (a recipe's unresolved ``sources`` list) read from ``data_root`` into ``out``.

    Raises :class:`InputError` for a named path that does not exist, and when the pack grows past
    ``budget_mib`` (it stops there, naming the fix).
    """
    data_root, out = Path(data_root), Path(out)
    report = PackReport()
    written: set[Path] = set()
    for spec in sources:
        name = str(spec.get("name", spec.get("kind", "source")))
        exclude = [re.compile(e) for e in spec.get("exclude", []) or []]
        for rel in recipe_paths(spec):
            path = data_root / rel
            if not path.exists():
                raise InputError(f"{path} (source {name!r}) does not exist; pass --data-root where the recipe's data is")
            for file in _files(path, exclude):
                dst = out / file.relative_to(data_root)
                if dst in written:  # named twice (e.g. one label map for two images)
                    continue
                written.add(dst)
                dst.parent.mkdir(parents=True, exist_ok=True)
                _write(file, dst, max_side, quality)
                size = dst.stat().st_size
                report.files += 1
                report.bytes += size
                report.per_source[name] = report.per_source.get(name, 0) + size
                if budget_mib and report.bytes > budget_mib * 2**20:
                    raise InputError(
                        f"the pack passed {budget_mib} MiB at {file} ({report.summary()}); "
                        "pass a smaller --max-side or --quality, or a recipe with fewer sources"
                    )
    return report
