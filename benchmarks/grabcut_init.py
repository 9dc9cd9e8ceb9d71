"""GrabCut initialised from the previous result vs from the nearest stroke, under both simulators.

Usage: ``PYTHONPATH=src python benchmarks/grabcut_init.py [--limit 16] [--jobs 2]``
"""

from __future__ import annotations

import argparse
from pathlib import Path

from napari_scribbleseg import evaluate
from napari_scribbleseg.baselines import GrabCut

GRABCUT = Path(__file__).resolve().parents[2] / "shared" / "data" / "natural" / "grabcut"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=16, help="first N GrabCut images")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    predictors = {"init_prev": GrabCut(use_prev=True), "init_nearest_stroke": GrabCut(use_prev=False)}
    for simulator in ("scribble", "click"):
        result = evaluate(predictors, GRABCUT, simulator=simulator, limit=args.limit, n_jobs=args.jobs)
        print(f"\n{simulator}, first {args.limit} images")
        print(result.format_summary())


if __name__ == "__main__":
    main()
