"""Where a CPU training step's time goes, and the two savings of session 20 against their absence, in one run.

Builds the trainer of a recipe with a distillation teacher (default: stage 6's ``later_passes_distill`` at weight 3,
from the shipped checkpoint), draws batches in this process (no loader worker, so the data's share is counted), and
times steps in two settings on the same batches, alternating:

- ``now``: the simulator's medial axis with its tables built once (``simulate.medial``) and the teacher sharing the
  student's frozen trunk prefix (``training/forward.py``);
- ``before``: scikit-image's ``medial_axis`` (tables rebuilt on every call) and the teacher running its own trunk.

It prints the mean step time of each, their ratio, and the ``now`` step's parts (the frozen trunk, the no-grad
passes' stroke simulation, the data).

    OMP_NUM_THREADS=1 python benchmarks/train_step.py --steps 20
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main() -> None:
    from skimage.morphology import medial_axis as scikit_medial_axis

    import napari_scribbleseg.simulate.geometry as geometry
    import training.iterate as iterate
    from napari_scribbleseg.session import DEFAULT_WEIGHTS
    from training.recipe import load_recipe, resolve_paths
    from training.trainer import Trainer

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default="later_passes_distill")
    parser.add_argument("--distill", type=float, default=3.0)
    parser.add_argument("--from", dest="init_from", default=str(DEFAULT_WEIGHTS))
    parser.add_argument("--steps", type=int, default=20, help="timed steps per setting (after 3 warm-up steps)")
    args = parser.parse_args()

    cfg = resolve_paths(load_recipe(args.recipe, {"loss": {"distill": args.distill}, "num_workers": 0}))
    with tempfile.TemporaryDirectory() as out:
        trainer = Trainer(cfg, out, init_from=args.init_from, progress=False)
    net, fast_medial = trainer.net, geometry.medial_axis
    shared = net.shared_stages
    parts: dict[str, float] = collections.defaultdict(float)
    recording = [False]  # the parts of the timed "now" steps only

    def timed(name, function):
        def run(*a, **k):
            start = time.perf_counter()
            try:
                return function(*a, **k)
            finally:
                if recording[0]:
                    parts[name] += time.perf_counter() - start
        return run

    encoder = trainer.model.encoder
    encoder.trunk_prefix = timed("frozen trunk (student, shared with the teacher)", encoder.trunk_prefix)
    iterate.simulate_strokes = timed("strokes of the no-grad passes", iterate.simulate_strokes)
    stream = iter(trainer._loader())
    settings = {"now": (fast_medial, shared), "before": (lambda m, rng=0: scikit_medial_axis(m, rng=rng), 0)}
    times = {name: [] for name in settings}
    data = 0.0
    for i in range(3 + args.steps):
        start = time.perf_counter()
        items = next(stream)
        data += (time.perf_counter() - start) if i >= 3 else 0.0
        for name, (medial, stages) in settings.items():
            geometry.medial_axis, net.shared_stages = medial, stages
            recording[0] = name == "now" and i >= 3
            start = time.perf_counter()
            trainer.train_step(items)
            if i >= 3:
                times[name].append(time.perf_counter() - start)
    geometry.medial_axis, net.shared_stages = fast_medial, shared
    mean = {name: 1000 * sum(v) / len(v) for name, v in times.items()}
    print(f"recipe {cfg['name']} (distill {args.distill}), batch {cfg['batch_size']}, {cfg['input_size']} px, "
          f"{torch.get_num_threads()} thread(s), {args.steps} steps each, the same batches")
    print(f"step: now {mean['now']:.0f} ms, before {mean['before']:.0f} ms: {mean['before'] / mean['now']:.2f}x")
    print(f"teacher shares the first {shared} trunk stages")
    for name, total in parts.items():
        print(f"  now, {name}: {1000 * total / args.steps:.0f} ms")
    print(f"  data (drawn in this process, not in the step): {1000 * data / args.steps:.0f} ms")


if __name__ == "__main__":
    main()
