"""The training loop: recipe -> model, data stream, iterative passes, losses, optimiser, logs, checkpoints.

Runs on CPU or GPU (mixed precision on CUDA), in one process or under ``torchrun`` (DistributedDataParallel:
every process draws its own item stream from the same recipe; rank 0 writes logs and checkpoints).

Output folder: ``last.pt`` (self-describing checkpoint, float32, written every few minutes and at the
end), ``train_state.pt`` (optimiser, scheduler, step: what ``resume`` needs), ``final.pt`` (float16,
when the run completes), ``loss.csv`` and ``loss.png``, ``recipe.json``.
"""

from __future__ import annotations

import copy
import json
import math
import os
import signal
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from torch.utils.data import DataLoader

from napari_scribbleseg.errors import InputError
from napari_scribbleseg.model import save_checkpoint
from training.curves import LossLog
from training.losses import competition_loss, masked_bce, match_size, scribbleseg_loss
from training.mixture import ItemStream
from training.forward import TrainingForward
from training.model_io import HeadBatch, image_logits, init_model, load_model, load_teacher, make_model, row_iou


def pick_device(name: str = "auto") -> torch.device:
    """``auto`` -> CUDA, then MPS, then CPU; otherwise the named device."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    return torch.device(name)


def _distributed() -> tuple[int, int, int]:
    """(rank, world size, local rank) from torchrun's environment; (0, 1, 0) without it."""
    if "RANK" not in os.environ or "WORLD_SIZE" not in os.environ:
        return 0, 1, 0
    return int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), int(os.environ.get("LOCAL_RANK", 0))


def freeze_encoder_stages(model: torch.nn.Module, n: int) -> None:
    """Keep the stem and the first ``n`` trunk stages at their (ImageNet) weights: no gradient, BN frozen.

    On a CPU this is what makes a few thousand steps affordable: the backward pass stops at the first
    trainable stage.
    """
    if n <= 0:
        return
    encoder = model.encoder
    for module in [encoder.stem, *list(encoder.stages)[:n]]:
        module.eval()
        for p in module.parameters():
            p.requires_grad_(False)


def make_optimizer(model: torch.nn.Module, cfg: dict[str, Any]) -> torch.optim.Optimizer:
    """Adam over the trainable weights: the encoder at ``lr * encoder_lr_mult``, the rest at ``lr``."""
    opt = cfg["optimizer"]
    encoder = [p for p in model.encoder.parameters() if p.requires_grad]
    ids = {id(p) for p in model.encoder.parameters()}
    rest = [p for p in model.parameters() if p.requires_grad and id(p) not in ids]
    groups = [{"params": rest, "lr": opt["lr"]}]
    if encoder:
        groups.append({"params": encoder, "lr": opt["lr"] * opt.get("encoder_lr_mult", 1.0)})
    return torch.optim.Adam(groups, betas=tuple(opt["betas"]), weight_decay=opt.get("weight_decay", 0.0))


def lr_factor(step: int, progress: float, cfg: dict[str, Any]) -> float:
    """Linear warm-up over ``warmup_steps``, then x ``gamma`` at each milestone.

    Milestones are fractions of the run: ``progress`` is the larger of step / steps and, for runs with
    a time limit, elapsed / limit, so a CPU run cut by ``--minutes`` still gets its decay.
    """
    sched = cfg["schedule"]
    warmup = int(sched.get("warmup_steps", 0))
    factor = min(1.0, (step + 1) / warmup) if warmup > 0 else 1.0
    for milestone in sched.get("milestones", []):
        if progress >= milestone:
            factor *= sched.get("gamma", 0.1)
    return factor


def compute_losses(outputs: dict[str, torch.Tensor], batch: HeadBatch, cfg: dict[str, Any]) -> dict[str, torch.Tensor]:
    """000's loss per row (crop space) plus 002's competition loss per item (image space, half size), and with
    ``loss.distill`` the first-interaction rows' BCE to the frozen starting model's probabilities (``"teacher"``):
    the rows of simulated first strokes only, so an annotator's real scribbles (``given_scribbles``) are learnt
    from, not held where the starting model had them."""
    lc = cfg["loss"]
    losses = scribbleseg_loss(
        outputs, batch.target, batch.valid, lc["alpha"], lc["beta"], lc["gamma"], lc.get("focal_gamma", 2.0)
    )
    weight = float(lc.get("competition", 0.0))
    if weight > 0:
        e = batch.image.shape[-1]
        refined = image_logits(outputs, batch, (e // 2, e // 2))
        gt = batch.gt[:, ::2, ::2]
        terms = []
        for i in range(len(batch.image)):
            mine = batch.rows == i
            # each pixel's target: the row of its class, or the background logit (-1) for classes
            # without strokes (no head pass, as at inference)
            regions = torch.full_like(gt[i], -1)
            for r, k in enumerate(batch.classes[mine].tolist()):
                regions[gt[i] == k] = r
            terms.append(competition_loss(refined[mine, 0], regions, gt[i] > 0))
        comp = torch.stack(terms).mean()
        losses["total"] = losses["total"] + weight * comp
        losses["competition"] = comp.detach()
    distill = float(lc.get("distill", 0.0))
    if distill > 0 and "teacher" in outputs:
        first = ~batch.prev.flatten(1).any(dim=1)  # rows without a previous mask: the first interaction
        if batch.given is not None:
            first &= ~batch.given
        if bool(first.any()):
            teacher = torch.sigmoid(outputs["teacher"][first].float())
            term = masked_bce(outputs["refined"][first], teacher, batch.valid[first])
            losses["total"] = losses["total"] + distill * term
            losses["distill"] = term.detach()
    return losses


def compact_optimizer_state(state: dict[str, Any]) -> dict[str, Any]:
    """The optimiser's state dict with its per-parameter float tensors (Adam's moments) in bfloat16: half the
    bytes, so a run's resumable state fits in a commit, and float32's range (float16 would flush Adam's tiny
    second moments to zero, which turns the next steps into huge ones). ``load_state_dict`` casts them back to
    the parameters' dtype; the step counters stay as they are."""
    per_param = {
        index: {k: v.to(torch.bfloat16) if torch.is_tensor(v) and v.is_floating_point() and k != "step" else v for k, v in entry.items()}
        for index, entry in state["state"].items()
    }
    return {**state, "state": per_param}


class Trainer:
    """One training run.

    Parameters
    ----------
    cfg : dict
        A loaded recipe (:func:`training.recipe.load_recipe`, paths resolved).
    out : Path
        Output folder.
    init_from : str, optional
        A checkpoint to start from (fine-tuning); otherwise the recipe's model is built.
    resume : bool
        Continue from ``out/last.pt`` + ``out/train_state.pt``.
    device : str
        ``auto``, ``cpu``, ``cuda``, ``cuda:1`` ...
    max_minutes : float, optional
        Stop (with a checkpoint) after this much wall time.
    progress : bool
        Show a tqdm progress bar (rank 0).
    """

    def __init__(
        self,
        cfg: dict[str, Any],
        out: str | Path,
        init_from: str | None = None,
        resume: bool = False,
        device: str = "auto",
        max_minutes: float | None = None,
        progress: bool = True,
    ) -> None:
        self.cfg = cfg
        self.out = Path(out)
        self.rank, self.world, local_rank = _distributed()
        if self.world > 1:
            import torch.distributed as dist

            backend = "nccl" if torch.cuda.is_available() else "gloo"
            dist.init_process_group(backend)
            if torch.cuda.is_available():
                torch.cuda.set_device(local_rank)
                device = f"cuda:{local_rank}"
        self.device = pick_device(device)
        self.max_seconds = None if max_minutes is None else 60.0 * max_minutes
        self.progress = progress and self.rank == 0
        if int(cfg["input_size"]) % 16:
            raise InputError(f"input_size {cfg['input_size']} must be a multiple of 16 (the encoder's stride)")
        torch.manual_seed(int(cfg["seed"]) + self.rank)
        if cfg.get("threads"):
            # on a shared CPU, one thread per process beats several by far (no waiting on descheduled peers)
            torch.set_num_threads(int(cfg["threads"]))

        last = self.out / "last.pt"
        self.step = 0
        if resume and last.exists():
            self.model = load_model(str(last))
        elif resume:
            raise InputError(f"--resume: {last} does not exist; start the run without --resume first")
        elif init_from:
            self.model = init_model(cfg, init_from)
        else:
            self.model = make_model(cfg)
        self.model.to(self.device).train()
        self.frozen_stages = int(cfg["model"].get("freeze_encoder_stages", 0))
        freeze_encoder_stages(self.model, self.frozen_stages)
        self.optimizer = make_optimizer(self.model, cfg)
        self.total_steps = int(cfg["steps"])
        self.started = time.time()
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, lambda s: lr_factor(s, self.progress_fraction(s), cfg))
        if resume:
            state = torch.load(self.out / "train_state.pt", map_location="cpu", weights_only=True)
            self.optimizer.load_state_dict(state["optimizer"])
            self.scheduler.load_state_dict(state["scheduler"])
            self.step = int(state["step"])
        self.rng = np.random.default_rng([int(cfg["seed"]), self.rank, self.step, 1])
        teacher = None
        if float(cfg["loss"].get("distill", 0.0)) > 0:
            # the checkpoint the fine-tune started from (also on --resume), else the run's initial weights
            teacher = (load_teacher(init_from, self.model.config.guidance).to(self.device) if init_from
                       else copy.deepcopy(self.model))
        self.net: torch.nn.Module = TrainingForward(self.model, cfg.get("scribbles", {}), self.rng, teacher,
                                                   self.frozen_stages)
        if self.world > 1:
            from torch.nn.parallel import DistributedDataParallel

            ids = [self.device.index] if self.device.type == "cuda" else None
            self.net = DistributedDataParallel(self.net, device_ids=ids)
        self.amp = bool(cfg.get("amp", True)) and self.device.type == "cuda"
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp)
        self.log = LossLog(self.out, resume=resume) if self.rank == 0 else None
        self._stop = False

    # ------------------------------------------------------------------------------------------
    def _loader(self) -> DataLoader:
        per_rank = max(1, int(self.cfg["batch_size"]) // self.world)
        stream = ItemStream(self.cfg, seed=int(self.cfg["seed"]) * 1_000_003 + self.step, rank=self.rank)
        workers = int(self.cfg.get("num_workers", 0))
        return DataLoader(stream, batch_size=per_rank, collate_fn=list, num_workers=workers,
                          persistent_workers=workers > 0)

    def _trained_on(self) -> list[str]:
        names = []
        for spec in self.cfg["sources"]:
            where = spec.get("name") or Path(str(spec.get("root", spec.get("images", "")))).name
            names.append(f"{spec.get('kind')}:{where}")
        return names

    def save(self, final: bool = False) -> Path | None:
        """Write ``last.pt`` and ``train_state.pt`` (and ``final.pt`` in float16 when ``final``); rank 0 only."""
        if self.rank != 0:
            return None
        self.out.mkdir(parents=True, exist_ok=True)
        metrics = {"steps": self.step, "recipe": self.cfg["name"], "processes": self.world}
        if self.log is not None:
            metrics.update(self.log.recent())
        path = save_checkpoint(self.model, self.out / "last.pt", self._trained_on(), metrics, half=False)
        state = {"optimizer": compact_optimizer_state(self.optimizer.state_dict()), "scheduler": self.scheduler.state_dict(), "step": self.step}
        tmp = self.out / "train_state.pt.tmp"
        torch.save(state, tmp)
        os.replace(tmp, self.out / "train_state.pt")
        if self.log is not None:
            self.log.plot()
        if final:
            path = save_checkpoint(self.model, self.out / "final.pt", self._trained_on(), metrics, half=True)
        return path

    def progress_fraction(self, step: int) -> float:
        """How far the run is: max(step / total steps, elapsed / time limit)."""
        fraction = step / max(1, self.total_steps)
        if self.max_seconds:
            fraction = max(fraction, (time.time() - self.started) / self.max_seconds)
        return fraction

    def _handle_signal(self, signum: int, frame: Any) -> None:
        self._stop = True

    def train_step(self, items: list) -> dict[str, float]:
        """One optimiser step on a list of items; returns the logged numbers."""
        with torch.autocast(self.device.type, dtype=torch.float16, enabled=self.amp):
            outputs, batch = self.net(items)
            outputs = {k: match_size(v, tuple(batch.target.shape[-2:])) for k, v in outputs.items()}
            losses = compute_losses(outputs, batch, self.cfg)
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(losses["total"]).backward()
        clip = float(self.cfg["optimizer"].get("grad_clip", 0.0))
        if clip > 0:
            self.scaler.unscale_(self.optimizer)
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.scheduler.step()
        numbers = {k: float(v.detach()) for k, v in losses.items()}
        numbers["iou"] = row_iou(outputs, batch)
        numbers["lr"] = self.optimizer.param_groups[0]["lr"]
        return numbers

    def run(self, steps: int | None = None, on_step: Callable[[int, dict[str, float]], None] | None = None) -> Path | None:
        """Train until ``steps`` (default the recipe's), the time limit or SIGINT/SIGTERM; checkpoint and return
        the path of the last checkpoint (rank 0)."""
        total = int(steps if steps is not None else self.cfg["steps"])
        self.total_steps = total
        start = self.started = time.time()
        last_save = start
        timed_out = False  # the time limit is the run's planned end (the schedule follows it): a final checkpoint
        previous = {s: signal.signal(s, self._handle_signal) for s in (signal.SIGINT, signal.SIGTERM)} \
            if self.rank == 0 and _main_thread() else {}
        bar = None
        if self.progress:
            from tqdm import tqdm

            bar = tqdm(total=total, initial=self.step, desc=f"train {self.cfg['name']}", unit="step")
        try:
            stream = iter(self._loader())
            while self.step < total and not self._stop:
                numbers = self.train_step(next(stream))
                self.step += 1
                if self.log is not None:
                    self.log.add(self.step, time.time() - start, numbers, every=int(self.cfg["log_every"]))
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(loss=f"{numbers['total']:.3f}", iou=f"{numbers['iou']:.2f}")
                if on_step is not None:
                    on_step(self.step, numbers)
                if not math.isfinite(numbers["total"]):
                    raise FloatingPointError(f"loss became {numbers['total']} at step {self.step}; lower the learning rate")
                now = time.time()
                if self.max_seconds is not None and now - start >= self.max_seconds:
                    timed_out = True
                    break
                if self.step % int(self.cfg["checkpoint_every_steps"]) == 0 or now - last_save >= float(self.cfg["checkpoint_every_s"]):
                    self.save()
                    last_save = now
        finally:
            if bar is not None:
                bar.close()
            for s, handler in previous.items():
                signal.signal(s, handler)
        return self.save(final=self.step >= total or timed_out)


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def train(
    cfg: dict[str, Any],
    out: str | Path,
    steps: int | None = None,
    resume: bool = False,
    init_from: str | None = None,
    device: str = "auto",
    max_minutes: float | None = None,
    progress: bool = True,
) -> Path | None:
    """Train with recipe ``cfg`` into ``out``; return the last checkpoint's path (None on ranks > 0)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "recipe.json").write_text(json.dumps(cfg, indent=2, default=str))
    trainer = Trainer(cfg, out, init_from=init_from, resume=resume, device=device, max_minutes=max_minutes, progress=progress)
    return trainer.run(steps)
