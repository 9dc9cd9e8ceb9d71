"""``python -m napari_scribbleseg``: the plugin on a sample image, or a headless evaluation without a display.

With a display (and a Qt binding), napari opens with the segmentation widget docked on a sample image
(``--sample``: astronaut, coins, chelsea, ct, mr). Without one, or with ``--headless``, it evaluates the
built-in predictors with the deterministic scribble simulator on slices of the generated CT phantom and
prints the summary table, so the same command shows something useful on a server.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

SAMPLES = {
    "astronaut": "astronaut",
    "coins": "coins",
    "chelsea": "chelsea",
    "ct": "ct_abdomen_sample",
    "mr": "mr_brain_sample",
}


def has_display() -> bool:
    """Whether a GUI can open: a desktop on macOS/Windows, an X11 or Wayland display on Linux."""
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m napari_scribbleseg", description=__doc__.splitlines()[0])
    parser.add_argument("--sample", choices=sorted(SAMPLES), default="astronaut", help="image to open (GUI)")
    parser.add_argument("--model", default=None, help="predictor name (default: the shipped model)")
    parser.add_argument("--headless", action="store_true", help="run the headless evaluation even with a display")
    parser.add_argument("--screenshot", metavar="PNG", help="save a screenshot of the window and quit (GUI)")
    parser.add_argument("--max-interactions", type=int, default=5, help="headless: interactions per sample")
    return parser


def headless_summary(max_interactions: int = 5, model: str | None = None) -> str:
    """Evaluate the available predictors on three axial slices of the CT phantom (liver); the summary table."""
    import numpy as np

    from napari_scribbleseg.datasets import Sample
    from napari_scribbleseg.evaluate import evaluate
    from napari_scribbleseg.phantoms import CT_LABELS, ct_abdomen
    from napari_scribbleseg.predictor import get_predictor

    image, labels, _ = ct_abdomen()
    liver = [z for z in range(labels.shape[0]) if np.count_nonzero(labels[z] == 1) > 200]
    picks = [liver[len(liver) // 4], liver[len(liver) // 2], liver[3 * len(liver) // 4]]
    samples = [Sample(f"ct_z{z}", image[z], (labels[z] == 1).astype(np.int32), kind="ct") for z in picks]
    names = [model] if model else ["default", "growcut", "random_walker", "grabcut"]
    predictors: dict[str, Any] = {}
    for name in names:
        try:
            predictors[name] = get_predictor(name)
        except Exception as exc:  # noqa: BLE001 - a missing model must not stop the demo
            print(f"note: predictor {name!r} unavailable ({type(exc).__name__}: {exc}); left out", file=sys.stderr)
    result = evaluate(
        predictors, samples, simulator="scribble", max_interactions=max_interactions,
        progress=lambda done, total: print(f"\r{done}/{total} runs", end="", file=sys.stderr),
    )
    print(file=sys.stderr)
    return f"{CT_LABELS[1]} on {len(samples)} slices of the generated CT phantom\n" + result.format_summary()


#: The first line printed where no viewer can open, so the table that follows is not taken for the GUI.
NO_DISPLAY = (
    "no display: running the headless evaluation; use xvfb-run -a python -m napari_scribbleseg for the viewer "
    "on a server"
)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not args.headless and not has_display():
        print(NO_DISPLAY, flush=True)
    elif not args.headless:
        try:  # napari and Qt only through _napari; a Qt binding is an extra: pip install "napari-scribbleseg[qt]"
            from napari_scribbleseg._napari._viewer import open_viewer
        except ImportError as exc:
            print(f"could not open napari ({type(exc).__name__}: {exc}); running the headless evaluation", file=sys.stderr)
        else:
            open_viewer(SAMPLES[args.sample], args.model, args.screenshot)  # a bug here shows as itself, not as "no napari"
            return 0
    print(headless_summary(args.max_interactions, args.model))
    return 0


if __name__ == "__main__":
    sys.exit(main())
