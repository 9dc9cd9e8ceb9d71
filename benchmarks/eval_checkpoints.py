"""Evaluate training checkpoints beside the classical peers in one ``evaluate`` run.

For intermediate checkpoints and ablations (the shipped model is evaluated with the plain CLI,
``python -m napari_scribbleseg.evaluate DATASET --predictors default ...``). Example::

    PYTHONPATH=src python benchmarks/eval_checkpoints.py ../shared/data/natural/grabcut \\
        --ckpt local=runs/local/last.pt --peers random_walker growcut grabcut --limit 10

``--encoder-max-side 256 512`` evaluates each checkpoint at those encoder input sizes (``NAME@256`` ...).
``--head-size 192 256`` runs the head at those input sides (``NAME/h256``; the weights are the same).
``--connected both`` evaluates each checkpoint with and without the Session's rule that keeps only the
parts of a class touching its strokes (``NAME`` and ``NAME-unconnected``); a peer named ``grabcut+connected``
is that peer with the same rule (:class:`napari_scribbleseg.connected.ConnectedPredictor`).
Prints the summary table (NoI@85/90, NoF, mIoU@k, latency) and writes the evaluate files to ``--out``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", help="dataset folder or layout (as for napari_scribbleseg.evaluate)")
    parser.add_argument("--ckpt", nargs="+", default=[], metavar="NAME=PATH", help="checkpoints to evaluate")
    parser.add_argument("--peers", nargs="*", default=[], help="built-in predictors run in the same evaluation")
    parser.add_argument("--simulator", default="scribble", choices=["scribble", "click"])
    parser.add_argument("--limit", type=int, default=None, help="only the first N samples")
    parser.add_argument("--axis", type=int, default=None, help="slicing axis of volumes")
    parser.add_argument("--max-interactions", type=int, default=20)
    parser.add_argument("--every", type=int, default=1, help="only every k-th sample (spread over a volume)")
    parser.add_argument("--option", nargs="*", default=[], metavar="KEY=VALUE",
                        help="reader options for load_dataset, e.g. cases=[brats_2013_pat0006_1] classes=whole_tumour")
    parser.add_argument("--encoder-max-side", type=int, nargs="*", default=[], metavar="PX",
                        help="evaluate each checkpoint with its encoder input capped at each of these long sides")
    parser.add_argument("--connected", choices=["on", "off", "both"], default="on",
                        help="the Session's connected-to-strokes rule: on (its default), off, or both side by side")
    parser.add_argument("--head-size", type=int, nargs="*", default=[], metavar="PX",
                        help="evaluate each checkpoint with the head's input at each of these sides (NAME/hPX)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1 is fastest on a shared CPU)")
    parser.add_argument("--out", type=Path, default=None, help="output folder for the evaluate files")
    args = parser.parse_args(argv)

    import torch

    from napari_scribbleseg.connected import ConnectedPredictor
    from napari_scribbleseg.evaluate import evaluate
    from napari_scribbleseg.model.checkpoint import load_checkpoint, read_checkpoint
    from napari_scribbleseg.predictor import get_predictor
    from napari_scribbleseg.session import Session

    torch.set_num_threads(args.threads)
    variants = {"on": [("", True)], "off": [("", False)], "both": [("", True), ("-unconnected", False)]}[args.connected]
    predictors: dict = {}
    for spec in args.ckpt:
        name, _, path = spec.partition("=")
        if not path:
            name, path = Path(spec).stem, spec
        models = {name: path}
        if args.encoder_max_side:
            ckpt = read_checkpoint(path)
            models = {f"{name}@{side}": load_checkpoint({**ckpt, "config": {**ckpt["config"], "encoder_max_side": side}})
                      for side in args.encoder_max_side}
        for label, model in models.items():
            for suffix, connected in variants:
                for head in args.head_size or [None]:
                    tag = "" if head is None else f"/h{head}"
                    predictors[label + suffix + tag] = Session(model, device="cpu", connected=connected, head_size=head)
    for peer in args.peers:
        base, plus, _ = peer.partition("+connected")
        predictors[peer] = ConnectedPredictor(get_predictor(base)) if plus else peer
    if not predictors:
        parser.error("give at least one --ckpt or --peers")
    import yaml

    from napari_scribbleseg.datasets import SampleList, load_dataset

    options = {k: yaml.safe_load(v) for k, _, v in (o.partition("=") for o in args.option)}
    if args.axis is not None:
        options["axis"] = args.axis
    dataset = load_dataset(args.dataset, **options)
    if args.every > 1:
        dataset = SampleList([dataset[i] for i in range(0, len(dataset), args.every)], name=dataset.name)
    result = evaluate(predictors, dataset, simulator=args.simulator, limit=args.limit,
                      max_interactions=args.max_interactions)
    print(f"{result.settings['dataset']}: {result.settings['n_samples']} samples, simulator {args.simulator}")
    print(result.format_summary())
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        result.to_csv(args.out / "summary.csv", table="summary")
        result.to_csv(args.out / "samples.csv", table="samples")
        result.to_json(args.out / "results.json")
        result.plot(args.out / "iou_curve.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
