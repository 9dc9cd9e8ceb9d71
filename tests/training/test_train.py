"""Every recipe trains for a few steps on tiny data (tiny network), writes a loadable checkpoint, loss
curves, and resumes where it stopped; ``finetune`` starts from a checkpoint on a dataset folder."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import torch

from napari_scribbleseg.model import load_checkpoint
from training.cli import detect_source, main
from training.recipe import RECIPES, load_recipe, resolve_paths
from training.trainer import train

# shrink every recipe to the test network and 64-px inputs; everything else stays the recipe's
TINY = {
    "model": {"arch": "scribbleseg_tiny", "config": {}, "pretrained_encoder": False, "freeze_encoder_stages": 0},
    "input_size": 64,
    "batch_size": 2,
    "num_workers": 0,
    "threads": 1,
    "log_every": 1,
    "checkpoint_every_steps": 1000,
}
NAMES = sorted(p.stem for p in RECIPES.glob("*.yaml"))


def _losses(out: Path) -> list[dict[str, str]]:
    with (out / "loss.csv").open() as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("name", NAMES)
def test_recipe_trains_on_tiny_data(name: str, tiny_root: Path, tmp_path: Path) -> None:
    if name in ("coco_lvis", "mixture_001"):
        pytest.importorskip("pycocotools", reason="COCO sources need pycocotools (pip install 'napari-scribbleseg[train]')")
    cfg = resolve_paths(load_recipe(name, TINY), tiny_root)
    path = train(cfg, tmp_path, steps=2, progress=False)
    assert path == tmp_path / "final.pt"
    model = load_checkpoint(path)
    assert model.arch == "scribbleseg_tiny" and model.checkpoint_info["metrics"]["steps"] == 2
    rows = _losses(tmp_path)
    assert [r["step"] for r in rows] == ["1", "2"]
    assert all(float(r["total"]) > 0 for r in rows)
    assert (tmp_path / "loss.png").stat().st_size > 0


def test_resume_continues_the_run(tiny_root: Path, tmp_path: Path) -> None:
    cfg = resolve_paths(load_recipe("local", TINY), tiny_root)
    train(cfg, tmp_path, steps=1, progress=False)
    first = load_checkpoint(tmp_path / "last.pt").state_dict()
    train(cfg, tmp_path, steps=2, resume=True, progress=False)
    state = torch.load(tmp_path / "train_state.pt", weights_only=True)
    assert state["step"] == 2
    moments = [v for entry in state["optimizer"]["state"].values() for k, v in entry.items() if k != "step"]
    assert moments and all(v.dtype == torch.bfloat16 for v in moments)  # compact on disk, float32 in the run
    assert [r["step"] for r in _losses(tmp_path)] == ["1", "2"]
    second = load_checkpoint(tmp_path / "last.pt").state_dict()
    assert any(not torch.equal(first[k], second[k]) for k in first if first[k].is_floating_point())


def test_finetune_cli_from_a_checkpoint_on_a_brats_folder(tiny_root: Path, tmp_path: Path) -> None:
    cfg = resolve_paths(load_recipe("local", TINY), tiny_root)
    base = train(cfg, tmp_path / "base", steps=1, progress=False)
    assert detect_source(tiny_root / "BraTS")["kind"] == "brats"
    args = ["finetune", "--from", str(base), "--data", str(tiny_root / "BraTS"), "--out", str(tmp_path / "tuned"),
            "--steps", "1", "--no-progress", "--set", "input_size=64", "--set", "batch_size=2",
            "--set", "num_workers=0", "--set", "log_every=1"]
    assert main(args) == 0
    tuned = load_checkpoint(tmp_path / "tuned" / "final.pt")
    assert tuned.arch == "scribbleseg_tiny"
    assert "brats" in str(tuned.checkpoint_info["trained_on"])


def test_finetune_applies_the_recipes_shape_free_settings_and_keeps_every_weight(tiny_root: Path, tmp_path: Path) -> None:
    from napari_scribbleseg.errors import InputError
    from training.model_io import init_model

    cfg = resolve_paths(load_recipe("local", TINY), tiny_root)
    base = train(cfg, tmp_path / "base", steps=1, progress=False)
    before = load_checkpoint(base)
    assert before.config.head_size != 48
    model = init_model({"model": {"config": {"head_size": 48, "encoder_max_side": 96}}}, str(base))
    assert (model.config.head_size, model.config.encoder_max_side) == (48, 96)
    assert model.config.dec_channels == before.config.dec_channels and model.training
    theirs = before.state_dict()
    assert all(torch.equal(v.float(), theirs[k].float()) for k, v in model.state_dict().items())
    with pytest.raises(InputError, match="dec_channels"):
        init_model({"model": {"config": {"dec_channels": before.config.dec_channels + 4}}}, str(base))


def test_a_run_that_reaches_its_time_limit_writes_the_final_checkpoint(tiny_root: Path, tmp_path: Path) -> None:
    cfg = resolve_paths(load_recipe("local", TINY), tiny_root)
    path = train(cfg, tmp_path, steps=50, max_minutes=1e-6, progress=False)
    assert path == tmp_path / "final.pt" and path.exists()
    assert load_checkpoint(path).checkpoint_info["metrics"]["steps"] < 50


def test_a_log_written_before_a_column_was_added_resumes(tmp_path: Path) -> None:
    from training.curves import COLUMNS, LossLog

    old = COLUMNS[:-1]  # a run logged before the last column ("distill") existed
    with (tmp_path / "loss.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(old)
        writer.writerow(["1", "0.5", "0.0001", "0.9", "0.4", "0.3", "0.4", "0.1", "0.2", "0.8"])
    log = LossLog(tmp_path, resume=True)
    log.add(2, 1.0, {"total": 0.7, "iou": 0.85, "distill": 0.1}, every=1)
    log = LossLog(tmp_path, resume=True)  # the row longer than the old header reads back, without its extra field
    assert [r["step"] for r in log.rows] == [1.0, 2.0] and log.rows[1]["total"] == 0.7
    assert log.recent()["train_total"] == 0.8
