"""Command line: ``python -m napari_scribbleseg.evaluate DATASET --predictors ... --out DIR``.

Writes ``summary.csv``, ``samples.csv``, ``results.json`` and ``iou_curve.png`` into ``--out`` and prints the
summary table. Example::

    python -m napari_scribbleseg.evaluate ../shared/data/natural/grabcut \\
        --predictors random_walker grabcut growcut --simulator scribble --max-interactions 20 \\
        --jobs 2 --out results/grabcut_scribble
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from napari_scribbleseg.errors import InputError, ScribbleSegError
from napari_scribbleseg.evaluate.runner import EvaluationFailed


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m napari_scribbleseg.evaluate",
        description="Simulated-user evaluation of interactive segmentation: NoI/NoF, IoU curves, latency.",
    )
    parser.add_argument("dataset", help="dataset folder (images/ + masks/, or a known layout) or a layout name")
    parser.add_argument(
        "--predictors", nargs="+", default=["random_walker", "grabcut", "growcut"],
        help="predictor names (see napari_scribbleseg.available_predictors()); default: the classical peers",
    )
    parser.add_argument("--simulator", default="scribble", choices=["scribble", "click"], help="simulated user")
    parser.add_argument("--targets", nargs="+", type=float, default=[0.85, 0.90], help="IoU targets")
    parser.add_argument("--max-interactions", type=int, default=20)
    parser.add_argument("--width", type=float, default=3.0, help="scribble width in pixels")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes")
    parser.add_argument("--layout", default=None, help="dataset layout, when the folder does not say")
    parser.add_argument("--multi-region", action="store_true", help="all regions of an image jointly (002)")
    parser.add_argument("--axis", type=int, default=None, help="slicing axis of volumes (0 = z, 1 = y, 2 = x)")
    parser.add_argument("--limit", type=int, default=None, help="only the first N samples (images with --instances)")
    parser.add_argument(
        "--instances", action="store_true",
        help="instance protocol: DATASET holds images/ + labels/ (instance maps); every object of an image is "
             "annotated one after another, largest first, earlier ones committed",
    )
    parser.add_argument("--max-objects", type=int, default=None, help="with --instances: the largest N objects of each image")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default results/<dataset>_<simulator>)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit status (2 with a one-line message on bad input)."""
    args = build_parser().parse_args(argv)
    from tqdm import tqdm

    from napari_scribbleseg.evaluate.runner import evaluate

    out = args.out or Path("results") / f"{Path(args.dataset).name}_{args.simulator}"
    bar = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if args.no_progress:
            return
        if bar is None:
            bar = tqdm(total=total, unit="run", desc="evaluate", file=sys.stderr)
        bar.update(done - bar.n)

    start = time.perf_counter()
    try:
        result = _instances(args, progress) if args.instances else evaluate(
            args.predictors,
            args.dataset,
            simulator=args.simulator,
            targets=tuple(args.targets),
            max_interactions=args.max_interactions,
            width=args.width,
            multi_region=args.multi_region,
            n_jobs=args.jobs,
            progress=progress,
            layout=args.layout,
            axis=args.axis,
            limit=args.limit,
        )
    except EvaluationFailed as exc:  # a predictor broke midway: write what was done, then fail
        if bar is not None:
            bar.close()
        _write(exc.result, out, time.perf_counter() - start)
        print(f"error: {exc}; partial results written to {out}/", file=sys.stderr)
        return 1
    except (ScribbleSegError, KeyError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        if bar is not None:
            bar.close()
    wall = time.perf_counter() - start
    _write(result, out, wall)
    settings = result.settings
    print(
        f"{settings['dataset']}: {settings['n_samples']} samples, simulator {settings['simulator']}, "
        f"max {result.max_interactions} interactions, {args.jobs} job(s), {wall:.0f} s"
    )
    print(result.format_summary())
    print(f"written to {out}/ (summary.csv, samples.csv, results.json, iou_curve.png)")
    return 0


def _instances(args: argparse.Namespace, progress) -> Any:
    """The instance protocol (:func:`~napari_scribbleseg.evaluate.instances.evaluate_instances`) on an instance folder."""
    from napari_scribbleseg.datasets.natural import instance_images
    from napari_scribbleseg.evaluate.instances import evaluate_instances

    if args.simulator != "scribble" or args.multi_region or args.axis is not None or args.jobs != 1:
        raise InputError("--instances runs the scribble simulator in one job on 2-D images; drop --simulator click, "
                         "--multi-region, --axis and --jobs")
    images = instance_images(args.dataset)[: args.limit]
    return evaluate_instances(
        args.predictors, images, targets=tuple(args.targets), max_interactions=args.max_interactions,
        width=args.width, max_objects=args.max_objects, progress=progress,
    )


def _write(result: Any, out: Path, wall: float) -> None:
    """summary.csv, samples.csv, results.json and iou_curve.png of ``result`` in ``out``."""
    result.settings["wall_s"] = round(wall, 1)
    out.mkdir(parents=True, exist_ok=True)
    result.to_csv(out / "summary.csv", table="summary")
    result.to_csv(out / "samples.csv", table="samples")
    result.to_json(out / "results.json")
    if result.rows:
        result.plot(out / "iou_curve.png")
