"""Draw docs/simulator_scribbles.png: the protocol's deterministic scribbles on three GrabCut images.

Each row is one image; the columns show the state after interactions 1, 2, 3 and 5. The first
interaction is a positive scribble on the object (:func:`first_interaction`); every later one is
:func:`next_scribble` on the largest error region of the current prediction. Predictions between
interactions come from the classical random walker peer, ``get_predictor("random_walker")`` (which
seeds an implicit background frame while only the object is scribbled).

Usage (from the repository root; needs ../shared/data)::

    PYTHONPATH=src python docs/make_simulator_figure.py [--out docs/simulator_scribbles.png]
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from PIL import Image
from skimage.segmentation import find_boundaries

from napari_scribbleseg import get_predictor
from napari_scribbleseg.metrics import iou
from napari_scribbleseg.simulate import first_interaction, next_scribble

ROOT = Path(__file__).resolve().parents[1]
GRABCUT = ROOT.parent / "shared" / "data" / "natural" / "grabcut"
NAMES = ("124080", "153077", "21077")
SHOWN = (1, 2, 3, 5)
COLORS = {1: (0.1, 0.9, 0.2), 2: (1.0, 0.2, 0.2)}  # object green, background red


def load(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(H, W, 3) uint8 image, gt (1 object / 2 background) and the ignore band (GrabCut's 128)."""
    image_path = next(p for p in sorted((GRABCUT / "images").glob(f"{name}.*")))
    image = np.array(Image.open(image_path).convert("RGB"))
    mask = np.array(Image.open(GRABCUT / "masks" / f"{name}.bmp").convert("L"))
    return image, np.where(mask == 255, 1, 2), mask == 128


def simulate(image: np.ndarray, gt: np.ndarray, ignore: np.ndarray) -> dict[int, tuple]:
    """Run the protocol for max(SHOWN) interactions; keep (scribbles, newest stroke, prediction, IoU) per shown step."""
    predictor = get_predictor("random_walker")
    predictor.set_image(image)
    scribbles = np.zeros(gt.shape, np.int32)
    pred = None
    states = {}
    for n in range(1, max(SHOWN) + 1):
        step = first_interaction(gt, ignore=ignore) if n == 1 else next_scribble(gt, pred, ignore)
        if step is None:
            break
        scribbles[step.mask] = step.label
        pred = predictor.predict(scribbles.copy(), prev=pred)
        if n in SHOWN:
            states[n] = (scribbles.copy(), step, pred, iou(pred == 1, gt == 1, ignore))
    return states


def overlay(image: np.ndarray, gt: np.ndarray, scribbles: np.ndarray, newest, pred: np.ndarray) -> np.ndarray:
    """The image, dimmed, with the prediction tinted, the gt outline in white and the strokes in class colours."""
    out = image.astype(np.float64) / 255.0 * 0.75
    obj = pred == 1
    out[obj] = 0.65 * out[obj] + 0.35 * np.array([1.0, 0.85, 0.1])
    out[find_boundaries(obj, mode="inner")] = (1.0, 0.85, 0.1)
    out[find_boundaries(gt == 1, mode="inner")] = (1.0, 1.0, 1.0)
    for k, color in COLORS.items():
        out[scribbles == k] = color
    ring = find_boundaries(newest.mask, mode="outer")
    out[ring] = (0.0, 0.0, 0.0)
    out[newest.mask] = COLORS[newest.label]
    return np.clip(out, 0, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "simulator_scribbles.png")
    args = parser.parse_args()
    fig, axes = plt.subplots(len(NAMES), len(SHOWN), figsize=(3.2 * len(SHOWN), 2.35 * len(NAMES)))
    for row, name in enumerate(NAMES):
        image, gt, ignore = load(name)
        states = simulate(image, gt, ignore)
        for col, n in enumerate(SHOWN):
            ax = axes[row, col]
            ax.axis("off")
            if n not in states:
                ax.set_title(f"{name}: solved before #{n}", fontsize=8)
                continue
            scribbles, step, pred, score = states[n]
            ax.imshow(overlay(image, gt, scribbles, step, pred))
            sign = "+" if step.label == 1 else "-"
            ax.set_title(f"{name}  after #{n} ({sign})  IoU {score:.3f}", fontsize=8)
    fig.suptitle(
        "Deterministic scribble protocol (000 Alg. 1) on GrabCut: newest stroke outlined in black; "
        "green = object, red = background strokes; yellow = random-walker prediction, white = ground truth",
        fontsize=8,
    )
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    buffer = io.BytesIO()
    fig.savefig(buffer, dpi=90, format="png")
    # an adaptive 256-colour palette keeps the photo-filled figure well under 1 MB
    Image.open(buffer).convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT).save(args.out, optimize=True)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
