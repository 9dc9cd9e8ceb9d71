"""The instance protocol on the fluorescence nuclei dev set: objects one after another, model beside peers.

Every image of ``../shared/data/microscopy/fluo_nuclei`` (or the first ``--images``), its largest
``--objects`` nuclei taken one after another, earlier ones committed (background for the next), the
deterministic scribble simulator, as :func:`napari_scribbleseg.evaluate.evaluate_instances` runs it.
Prints interactions per object to IoU 85 / 90 and the time per interaction, predictors side by side.

    python benchmarks/instances_fluo.py [--images 10] [--objects N (default all)] [--max-interactions 10]

The same protocol on any instance folder: ``python -m napari_scribbleseg.evaluate FOLDER --instances``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "microscopy" / "fluo_nuclei"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=10)
    parser.add_argument("--objects", type=int, default=None, help="the largest N nuclei of each image (default all)")
    parser.add_argument("--max-interactions", type=int, default=10)
    parser.add_argument("--predictors", nargs="+", default=["default", "growcut", "random_walker", "grabcut"])
    parser.add_argument("--ckpt", nargs="*", default=[], metavar="NAME=PATH", help="add a Session on another checkpoint")
    args = parser.parse_args()
    from PIL import Image

    from napari_scribbleseg.datasets.natural import instance_images
    from napari_scribbleseg.evaluate import evaluate_instances

    if not DATA.exists():
        sys.exit(f"{DATA} is missing: the fluorescence nuclei set lives in ../shared/data (see its README)")
    # Hoechst is one channel, stored as RGB JPEG: grey as PIL makes it
    images = [(name, np.asarray(Image.fromarray(image).convert("L")) if image.ndim == 3 else image, labels)
              for name, image, labels in instance_images(DATA)[: args.images]]
    from dev_sets import _predictors  # NAME=PATH checkpoints as Sessions, beside the named predictors

    predictors = _predictors(args.ckpt, args.predictors)
    result = evaluate_instances(
        predictors, images, max_interactions=args.max_interactions, max_objects=args.objects,
        progress=lambda done, total: print(f"\r{done}/{total} objects", end="", file=sys.stderr),
    )
    print(file=sys.stderr)
    which = "all nuclei" if args.objects is None else f"the {args.objects} largest nuclei"
    print(f"fluo_nuclei: {len(images)} images, {which} of each ({sum(len(np.unique(l)) - 1 for *_, l in images)} "
          f"annotated), max {args.max_interactions} interactions")
    print(result.format_summary())


if __name__ == "__main__":
    main()
