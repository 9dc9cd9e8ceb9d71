"""The mixture sampler: draw a source by its probability, then an item of it (001: [0.6, 0.1, 0.1, 0.2]).

:class:`ItemStream` is an endless torch ``IterableDataset`` of prepared :class:`~training.items.TrainItem`
s, seeded per (seed, rank, worker) so that every DDP process and data worker draws its own stream and a
run repeats exactly with the same seed.
"""

from __future__ import annotations

from typing import Any, Iterator, Sequence

import numpy as np
from torch.utils.data import IterableDataset, get_worker_info

from napari_scribbleseg.errors import InputError
from training.items import TrainItem, prepare_item
from training.sources import Source, build_source
from training.sources.base import Sample


class MixtureSampler:
    """Draw samples from several sources with given probabilities.

    Parameters
    ----------
    sources : sequence of Source
    weights : sequence of float
        Relative probabilities (normalised here); sources with weight 0 are never drawn.
    """

    def __init__(self, sources: Sequence[Source], weights: Sequence[float]) -> None:
        if len(sources) != len(weights) or not sources:
            raise InputError("a mixture needs one weight per source and at least one source")
        w = np.asarray(weights, np.float64)
        if (w < 0).any() or w.sum() <= 0:
            raise InputError(f"mixture weights {list(weights)} must be >= 0 and not all 0")
        self.sources = list(sources)
        self.probabilities = w / w.sum()

    def draw(self, rng: np.random.Generator) -> Sample:
        """One sample: a source by probability, then a uniformly random index of it."""
        source = self.sources[int(rng.choice(len(self.sources), p=self.probabilities))]
        return source.sample(int(rng.integers(len(source))), rng)


def build_mixture(specs: list[dict[str, Any]]) -> MixtureSampler:
    """The mixture of a recipe's ``sources`` list (each entry's ``weight`` defaults to 1)."""
    if not specs:
        raise InputError("the recipe names no data source; add entries under 'sources:'")
    return MixtureSampler([build_source(s) for s in specs], [float(s.get("weight", 1.0)) for s in specs])


def item_stream(mixture: MixtureSampler, cfg: dict[str, Any], rng: np.random.Generator) -> Iterator[TrainItem]:
    """Endless prepared items; samples without a usable region are skipped."""
    failures = 0
    while True:
        item = prepare_item(mixture.draw(rng), cfg, rng)
        if item is None:
            failures += 1
            if failures > 200:
                raise InputError("200 samples in a row had no region large enough to train on; check the sources")
            continue
        failures = 0
        yield item


class ItemStream(IterableDataset):
    """Endless items for a DataLoader; each (rank, worker) draws its own random stream.

    Sources are built inside each worker (file handles and volume caches are per process).
    """

    def __init__(self, cfg: dict[str, Any], seed: int, rank: int = 0) -> None:
        self.cfg, self.seed, self.rank = cfg, seed, rank

    def __iter__(self) -> Iterator[TrainItem]:
        info = get_worker_info()
        worker = info.id if info is not None else 0
        if info is not None and self.cfg.get("threads"):
            import cv2
            import torch

            cv2.setNumThreads(int(self.cfg["threads"]))
            torch.set_num_threads(int(self.cfg["threads"]))
        rng = np.random.default_rng([self.seed, self.rank, worker])
        return item_stream(build_mixture(self.cfg["sources"]), self.cfg, rng)
