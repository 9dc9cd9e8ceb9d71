"""Command line: ``python -m training train --recipe R`` and ``python -m training finetune --from CKPT --data DIR``;
``python -m training pack --recipe R`` copies R's data, shrunk, into ``.pack/`` for a machine that sees only the repo;
``python -m training soup A B --out C`` averages the weights of fine-tunes of one model (:mod:`training.soup`).

Both accept ``--out DIR`` (default ``runs/<recipe>``), ``--steps N``, ``--minutes M`` (stop with a
checkpoint after M minutes), ``--device auto|cpu|cuda``, ``--data-root DIR`` (what ``${data}`` means in
recipes; default ``../shared/data``) and ``--set key.sub=value`` overrides. Under ``torchrun`` every
process runs the same command (DistributedDataParallel; ``batch_size`` is split across processes).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from napari_scribbleseg.errors import InputError
from training.recipe import DEFAULT_DATA_ROOT, REPO, deep_merge, load_recipe, parse_override, resolve_paths


def detect_source(folder: str | Path) -> dict[str, Any]:
    """The data source spec of a folder, from its layout (Decathlon, CHAOS, BraTS, VOC/SBD, images + masks)."""
    root = Path(folder)
    if not root.is_dir():
        raise InputError(f"--data {root} is not a folder; pass the folder of your dataset")
    if (root / "dataset.json").exists():
        return {"kind": "decathlon", "root": str(root)}
    if (root / "Train_Sets").is_dir() or (root / "CT").is_dir() and (root / "MR").is_dir():
        return {"kind": "chaos", "root": str(root)}
    if (root / "SegmentationObject").is_dir() or (root / "inst").is_dir():
        return {"kind": "pascal", "root": str(root)}
    if (root / "images").is_dir() and (root / "masks").is_dir():
        return {"kind": "folder", "root": str(root)}
    cases = [p for p in root.iterdir() if p.is_dir()]
    if any(any("seg" in f.name.lower() or "otmulticlass" in f.name.lower() for f in c.iterdir()) for c in cases):
        return {"kind": "brats", "root": str(root), "modalities": ["flair", "t1c", "t1", "t2"]}
    raise InputError(
        f"cannot tell the layout of {root}: expected dataset.json (Decathlon), Train_Sets/ (CHAOS), "
        "case folders with *_seg.nii.gz (BraTS), SegmentationObject/ (VOC) or images/ + masks/"
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m training", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--out", help="output folder (default runs/<recipe name>)")
    common.add_argument("--steps", type=int, help="stop after this many steps (default: the recipe's)")
    common.add_argument("--minutes", type=float, help="stop, with a checkpoint, after this much wall time")
    common.add_argument("--device", default="auto", help="auto (CUDA, MPS, CPU), cpu, cuda, cuda:1 ...")
    common.add_argument("--data-root", help="what ${data} means in recipe paths (default ../shared/data)")
    common.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a recipe value")
    common.add_argument("--resume", action="store_true", help="continue the run in --out")
    common.add_argument("--no-progress", action="store_true", help="no progress bar (logs only)")
    train = sub.add_parser("train", parents=[common], help="train with a recipe")
    train.add_argument("--recipe", required=True, help="a name in training/recipes (local, coco_lvis, ...) or a file")
    tune = sub.add_parser("finetune", parents=[common], help="fine-tune a checkpoint on a dataset folder")
    tune.add_argument("--from", dest="init_from", required=True, help="checkpoint to start from")
    tune.add_argument("--data", help="dataset folder (BraTS, Decathlon, CHAOS, VOC/SBD, images/ + masks/)")
    tune.add_argument("--recipe", default="medical_finetune", help="recipe for everything but the data")
    pack = sub.add_parser("pack", help="copy a recipe's data, shrunk, into a folder that travels with the repo")
    pack.add_argument("--recipe", required=True, help="the recipe whose sources to pack")
    pack.add_argument("--out", default=str(REPO / ".pack"), help="output folder (default .pack, ignored by git)")
    pack.add_argument("--data-root", help="where the recipe's ${data} is (default ../shared/data)")
    pack.add_argument("--max-side", type=int, default=448, help="photos and masks shrunk to this long side")
    pack.add_argument("--quality", type=int, default=85, help="JPEG quality of the shrunk photos")
    pack.add_argument("--budget-mib", type=float, default=56.0, help="stop with an error past this size (0: none)")
    soup = sub.add_parser("soup", help="average the weights of fine-tunes of one model into one checkpoint")
    soup.add_argument("checkpoints", nargs="+", help="two or more checkpoints of the same architecture")
    soup.add_argument("--weights", nargs="+", type=float, help="one positive weight per checkpoint (default equal)")
    soup.add_argument("--out", required=True, help="the checkpoint to write")
    return parser


def _soup(args: argparse.Namespace) -> int:
    from training.soup import write_soup

    path = write_soup(args.checkpoints, args.out, args.weights)
    print(f"checkpoint: {path}")
    return 0


def _pack(args: argparse.Namespace) -> int:
    from training.pack import pack_sources

    cfg = load_recipe(args.recipe)
    out = Path(args.out)
    report = pack_sources(cfg["sources"], args.data_root or DEFAULT_DATA_ROOT, out, args.max_side, args.quality,
                          args.budget_mib or None)
    print(f"packed {report.summary()} into {out}")
    try:
        there = out.resolve().relative_to(REPO)
    except ValueError:
        print(f"{out} is outside the repository: only the repository travels; pack into it (default .pack)")
        return 0
    print(f"there: python -m training train --recipe {args.recipe} --data-root {there}  (carry {there})")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit status."""
    from training.trainer import train

    args = _parser().parse_args(argv)
    if args.command == "pack":
        return _pack(args)
    if args.command == "soup":
        return _soup(args)
    overrides: dict[str, Any] = {}
    for text in args.set:
        overrides = deep_merge(overrides, parse_override(text))
    if args.command == "finetune" and args.data:
        overrides["sources"] = [detect_source(args.data)]
    cfg = resolve_paths(load_recipe(args.recipe, overrides), args.data_root)
    out = Path(args.out) if args.out else REPO / "runs" / cfg["name"]
    path = train(
        cfg,
        out,
        steps=args.steps,
        resume=args.resume,
        init_from=getattr(args, "init_from", None),
        device=args.device,
        max_minutes=args.minutes,
        progress=not args.no_progress,
    )
    if path is not None:
        print(f"checkpoint: {path}")
    return 0
