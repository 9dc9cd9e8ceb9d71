"""Evaluation: a simulated user scribbles, predictors answer; NoI / NoF, IoU curves, latency, plots.

``evaluate(predictors, dataset, ...)`` runs the protocol (:mod:`.loop`) and returns an
:class:`EvaluationResult` (:mod:`.report`); ``evaluate_instances`` annotates every object of an image
one after another (:mod:`.instances`); ``python -m napari_scribbleseg.evaluate`` is the CLI (:mod:`.cli`).
Importing this package is light: no torch, no matplotlib until a plot is drawn.
"""

from napari_scribbleseg.evaluate.report import EvaluationResult
from napari_scribbleseg.evaluate.instances import evaluate_instances
from napari_scribbleseg.evaluate.runner import evaluate


def main(argv: "list[str] | None" = None) -> int:
    """Console script ``scribbleseg-evaluate`` (same as ``python -m napari_scribbleseg.evaluate``)."""
    from napari_scribbleseg.evaluate.cli import main as cli_main

    return cli_main(argv)


__all__ = ["EvaluationResult", "evaluate", "evaluate_instances", "main"]
