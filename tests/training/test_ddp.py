"""torchrun with two CPU processes (gloo): DistributedDataParallel trains with the batch split across the processes
and learns as one process with the same global batch does."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from napari_scribbleseg.model import load_checkpoint  # noqa: E402
from training.recipe import load_recipe  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
TINY = {
    "model": {"arch": "scribbleseg_tiny", "config": {}, "pretrained_encoder": False, "freeze_encoder_stages": 0},
    "input_size": 64, "batch_size": 4, "num_workers": 0, "threads": 1, "log_every": 1, "checkpoint_every_steps": 1000,
    "previous": {"max_passes": 0}, "amp": False,
}
STEPS = 8


def _run(args: list[str], tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": f"{REPO}:{REPO / 'src'}", "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    run = subprocess.run([sys.executable, *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]


def _mean_loss(out: Path, last: int) -> float:
    with (out / "loss.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["step"]) for r in rows] == list(range(1, STEPS + 1))
    return sum(float(r["total"]) for r in rows[-last:]) / last


def test_torchrun_with_two_cpu_processes_learns_like_one(tiny_root: Path, tmp_path: Path) -> None:
    recipe = tmp_path / "tiny.json"
    recipe.write_text(json.dumps(load_recipe("local", TINY)))
    common = ["train", "--recipe", str(recipe), "--steps", str(STEPS), "--data-root", str(tiny_root), "--no-progress"]
    _run(["-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "-m", "training", *common,
          "--out", str(tmp_path / "ddp")], tmp_path)
    _run(["-m", "training", *common, "--out", str(tmp_path / "one")], tmp_path)
    ddp, one = load_checkpoint(tmp_path / "ddp" / "final.pt"), load_checkpoint(tmp_path / "one" / "final.pt")
    assert ddp.checkpoint_info["metrics"]["steps"] == one.checkpoint_info["metrics"]["steps"] == STEPS
    assert (ddp.checkpoint_info["metrics"]["processes"], one.checkpoint_info["metrics"]["processes"]) == (2, 1)
    # the two ranks drew different items (2 each) but one global batch of 4: the same learning, not the same numbers
    ddp_loss, one_loss = _mean_loss(tmp_path / "ddp", 3), _mean_loss(tmp_path / "one", 3)
    assert abs(ddp_loss - one_loss) < 0.25 * one_loss, (ddp_loss, one_loss)
