"""The training loop: accelerate, per-sample timesteps, classifier-free text dropout, EMA, checkpoints, logs.

:func:`train` is the program behind ``python -m posegraph.train``. Every source of randomness (model
init, data order, diffusion noise, text dropout, augmentation) is seeded from the config and
checkpointed, so a resumed run continues exactly as if it had never stopped.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

import torch
from accelerate import Accelerator
from accelerate.state import AcceleratorState
from accelerate.utils import gather_object, set_seed
from diffusers import DDPMScheduler
from diffusers.optimization import get_cosine_schedule_with_warmup
from diffusers.training_utils import EMAModel, compute_snr
from diffusers.utils.constants import SAFETENSORS_WEIGHTS_NAME as WEIGHTS_NAME
from safetensors.torch import load_file
from tqdm.auto import tqdm

from posegraph.heatmaps import normalize_heatmaps
from posegraph.models import GUNet
from posegraph.models.state_dict_keys import convert_state_dict, older_parameter_order
from posegraph.pipelines.checkpoints import corrupt_checkpoint_error
from posegraph.pipelines.schedulers import predicted_clean
from posegraph.text import TextEncoder
from posegraph.training.checkpoint import (STATE_NAMES, clean_partial_saves, complete_checkpoints, prune_checkpoints,
                                           resolve_resume, write_checkpoint)
from posegraph.training.config import OPTIMIZERS, RESCUE_FIELDS, TrainConfig, config_mismatches
from posegraph.training.data import SEED_STRIDE, CaptionEmbeddings, IndexStream, build_dataset
from posegraph.training.state import capture_rng, load_state, restore_rng

__all__ = ["train", "Trainer", "NonFiniteLossError", "diffusion_loss", "diffusion_target", "min_snr_weights"]

logger = logging.getLogger(__name__)


class NonFiniteLossError(RuntimeError):
    """The loss became NaN or infinite; the message names the step and the last good checkpoint."""


def diffusion_loss(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error per sample: ``(batch, K, S, S)`` twice -> ``(batch,)``."""
    return (prediction.float() - target.float()).pow(2).flatten(1).mean(1)


def diffusion_target(scheduler: DDPMScheduler, clean: torch.Tensor, noise: torch.Tensor,
                     timesteps: torch.Tensor) -> torch.Tensor:
    """What the model learns to predict under ``scheduler.config.prediction_type``: the noise
    (``"epsilon"``), the clean heatmaps (``"sample"``) or the velocity
    ``sqrt(alpha_bar_t) noise - sqrt(1 - alpha_bar_t) clean`` (``"v_prediction"``)."""
    kind = scheduler.config.prediction_type
    if kind == "epsilon":
        return noise
    if kind == "sample":
        return clean
    return scheduler.get_velocity(clean, noise, timesteps)


def min_snr_weights(scheduler: DDPMScheduler, timesteps: torch.Tensor, gamma: float) -> torch.Tensor:
    """Loss weights ``(batch,)`` that count each timestep as a clean-sample error of weight ``min(SNR, gamma) + 1``.

    This is min-SNR-gamma (Hang et al. 2023) plus one: the easy low-noise steps, whose weight grows with the SNR
    under noise or velocity prediction, are capped at ``gamma + 1``, while the high-noise steps (SNR near 0),
    where the model chooses the pose, keep the weight 1 that clean-sample prediction gives them rather than
    min-SNR's 0, which leaves the model's early predictions untrained and their noise in the samples.
    """
    snr = compute_snr(scheduler, timesteps)
    clean_weight = snr.clamp(max=gamma) + 1
    kind = scheduler.config.prediction_type
    if kind == "epsilon":
        return clean_weight / (snr + 1e-8)
    if kind == "v_prediction":
        return clean_weight / (snr + 1)
    return clean_weight


class _LossLog:
    """TensorBoard scalars: mean loss overall and per timestep quartile since the last write, and the LR."""

    def __init__(self, directory: Path, num_train_timesteps: int):
        from torch.utils.tensorboard import SummaryWriter

        self.writer, self.num_train_timesteps = SummaryWriter(str(directory)), num_train_timesteps
        self.quartile_sums, self.quartile_counts = torch.zeros(4), torch.zeros(4)
        self.total, self.count = 0.0, 0

    def add(self, losses: torch.Tensor, timesteps: torch.Tensor) -> None:
        """Accumulate ``(n,)`` losses at ``(n,)`` timesteps."""
        losses, quartile = losses.float().cpu(), (timesteps.cpu() * 4 // self.num_train_timesteps).clamp(0, 3)
        self.quartile_sums.index_add_(0, quartile, losses)
        self.quartile_counts.index_add_(0, quartile, torch.ones_like(losses))
        self.total += losses.sum().item()
        self.count += len(losses)

    def write(self, step: int, lr: float) -> None:
        self.writer.add_scalar("loss/all", self.total / self.count, step)
        means = self.quartile_sums / self.quartile_counts
        for q in range(4):
            if self.quartile_counts[q] > 0:  # an empty quartile is not written
                self.writer.add_scalar(f"loss/t_quartile_{q + 1}", means[q].item(), step)
        self.writer.add_scalar("lr", lr, step)
        self.quartile_sums.zero_()
        self.quartile_counts.zero_()
        self.total, self.count = 0.0, 0

    def close(self) -> None:
        self.writer.close()


def train(config: TrainConfig, out: str | Path, resume: str | None = None, stop_at: int | None = None) -> Path | None:
    """Train a GUNet as ``config`` says; checkpoints, TensorBoard logs and sample grids land in ``out``.

    Args:
        config: the training configuration.
        out: the run directory.
        resume: ``"latest"`` (the newest checkpoint in ``out`` that reads back, or a fresh start when there is
            none), a checkpoint directory or a run directory. Its stored config must equal ``config`` except for
            the run-control fields and the rescue fields (``lr``, ``warmup_steps``, ``max_grad_norm``), whose
            changes are recorded in ``out/history.jsonl``.
        stop_at: stop after this step (checkpointing it), as if interrupted; the learning-rate schedule
            still runs to ``config.max_steps``, so ``--resume latest`` later continues seamlessly.

    Returns:
        the newest complete checkpoint (``None`` if there is none).

    Raises:
        FileExistsError: ``out`` already holds checkpoints and ``resume`` is not given.
        FileNotFoundError / ValueError: the checkpoint to resume is missing, truncated or from another config.
        NonFiniteLossError: the loss became NaN or infinite (nothing is saved for that step).
    """
    run_dir = Path(out)
    checkpoint = _checkpoint_to_resume(config, run_dir, resume)
    trainer = Trainer(config, run_dir, checkpoint)
    if checkpoint is not None:
        _record_rescue(run_dir, checkpoint, config, trainer)
    trainer.run(until=config.max_steps if stop_at is None else min(stop_at, config.max_steps))
    newest = complete_checkpoints(run_dir)
    return newest[-1] if newest else None


def _parameter_names(weights_file: Path) -> list[str]:
    """The parameter names a safetensors file holds (its header only), or none when it does not read back
    (:meth:`Trainer.load` then names the damage)."""
    from safetensors import safe_open

    try:
        with safe_open(weights_file, "pt") as handle:
            return list(handle.keys())
    except Exception:  # OSError, or safetensors' SafetensorError (an Exception)
        return []


def _checkpoint_to_resume(config: TrainConfig, run_dir: Path, resume: str | None) -> Path | None:
    if resume is None:
        existing = complete_checkpoints(run_dir)
        if existing:
            raise FileExistsError(f"{run_dir} already holds checkpoints (newest {existing[-1].name}); pass "
                                  "--resume latest to continue that run, or choose another --out")
        return None
    checkpoint = resolve_resume(resume, run_dir)
    if checkpoint is not None:
        stored = TrainConfig.from_json(checkpoint / "train_config.json")
        mismatches = config_mismatches(stored, config)
        if mismatches:
            listed = "; ".join(f"{name}: {old!r} there, {new!r} asked" for name, (old, new) in mismatches.items())
            raise ValueError(f"{checkpoint} was trained with a different config ({listed}); resume with the "
                             "same settings (leave the flags out to reuse the stored ones) or start a new --out")
    return checkpoint


def _record_rescue(run_dir: Path, checkpoint: Path, config: TrainConfig, trainer: "Trainer") -> None:
    """Append the rescue fields a resume changed to ``run_dir/history.jsonl`` (and say so on the log)."""
    stored = TrainConfig.from_json(checkpoint / "train_config.json").to_dict()
    changed = {name: [stored[name], value] for name, value in config.to_dict().items()
               if name in RESCUE_FIELDS and stored[name] != value}
    if not changed or not trainer.is_main:
        return
    listed = ", ".join(f"{name} {old!r} -> {new!r}" for name, (old, new) in changed.items())
    logger.warning("resuming %s at step %d with %s; recorded in %s", checkpoint, trainer.step, listed,
                   run_dir / "history.jsonl")
    run_dir.mkdir(parents=True, exist_ok=True)
    with (run_dir / "history.jsonl").open("a", encoding="utf-8") as history:
        history.write(json.dumps({"step": trainer.step, "resumed_from": str(checkpoint), "changed": changed}) + "\n")


def _in_current_order(optimizer_state: dict, unet: GUNet) -> dict:
    """An optimiser state saved with the older GUNet layout, its per-parameter entries moved to where the
    parameters sit now (the optimiser holds ``unet.parameters()`` in one group)."""
    names = [name for name, _ in unet.named_parameters()]
    position = {name: index for index, name in enumerate(names)}
    moved = {position[name]: optimizer_state["state"][index]
             for index, name in enumerate(older_parameter_order(names)) if index in optimizer_state["state"]}
    return {**optimizer_state, "state": moved}


class Trainer:
    """One training run's state: model, EMA, optimiser, schedules, data stream and RNGs.

    Build it (fresh weights from ``config.seed``, the weights of a ``unet/`` folder ``init_from``, or a
    ``checkpoint`` to resume: the model is built to its layout before the optimiser and then :meth:`load` ed), then
    :meth:`run`. Subclasses change what a step computes (:meth:`losses`) and what a checkpoint stores
    (:attr:`sampling_scheduler`, :attr:`extra_configs`).
    """

    #: The progress bar's label.
    label = "train"
    #: How the NaN message says to continue a run from its last good checkpoint.
    continue_with = "--resume latest"

    def __init__(self, config: TrainConfig, run_dir: Path, checkpoint: Path | None = None,
                 init_from: Path | None = None):
        self.config, self.run_dir = config, Path(run_dir)
        # A process may train several configs in turn (notebooks, ablation runners): forget the previous
        # run's mixed precision. The distributed set-up (PartialState) is kept.
        AcceleratorState._reset_state(reset_partial_state=False)
        self.accelerator = Accelerator(mixed_precision=config.mixed_precision)
        self.is_main = self.accelerator.is_main_process
        device = self.accelerator.device

        set_seed(config.seed)  # the same initial weights on every process
        self.text_encoder = TextEncoder.from_pretrained(config.text_encoder, max_length=config.max_length,
                                                        device=device)
        unet = GUNet.from_preset(config.preset, **{"cross_attention_dim": self.text_encoder.hidden_size,
                                                   **config.model})
        weights = checkpoint / "unet_raw" if checkpoint is not None else init_from
        if weights is not None:  # graph blocks as the weights have them (older ones: a residual layer)
            unet.match_checkpoint_layout(_parameter_names(weights / WEIGHTS_NAME))
        if checkpoint is None and init_from is not None:
            unet.load_state_dict(load_file(init_from / WEIGHTS_NAME))
        # Samplers start from this config: "trailing" spacing makes their first step the last training timestep
        # (pure noise, as sampling starts), and DDPM/DDIM clip the clean prediction to the model's value range.
        low, high = unet.config.heatmap_shift, unet.config.heatmap_scale + unet.config.heatmap_shift
        self.noise_scheduler = DDPMScheduler(num_train_timesteps=config.num_train_timesteps,
                                             beta_schedule=config.beta_schedule,
                                             prediction_type=config.prediction_type, timestep_spacing="trailing",
                                             clip_sample_range=max(abs(low), abs(high)))
        self.dataset = build_dataset(config, size=unet.config.sample_size, skeleton=unet.skeleton)
        self.captions = CaptionEmbeddings(self.text_encoder, self.dataset.captions, show_progress=self.is_main)
        self.memory_format = torch.channels_last if config.channels_last else torch.contiguous_format
        unet.to(memory_format=self.memory_format)
        if config.gradient_checkpointing:
            unet.enable_gradient_checkpointing()
        if config.compile:
            unet.compile()  # in place: the module, its parameter names and checkpoints stay those of a GUNet

        optimizer_class = getattr(torch.optim, OPTIMIZERS[config.optimizer])
        optimizer = optimizer_class(unet.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        self.lr_scheduler = get_cosine_schedule_with_warmup(optimizer, config.warmup_steps, config.max_steps)
        self.model, self.optimizer = self.accelerator.prepare(unet, optimizer)
        self.unet = self.accelerator.unwrap_model(self.model)
        self.ema = EMAModel(self.unet.parameters(), decay=config.ema_decay, use_ema_warmup=True,
                            power=config.ema_power) if config.ema_decay > 0 else None

        # From here on each process draws its own noise, text dropout and augmentations.
        set_seed(config.seed, device_specific=True)
        rank = self.accelerator.process_index
        self.generator = torch.Generator(device).manual_seed(config.seed + SEED_STRIDE * rank)
        self.step, self.samples_seen = 0, 0
        if checkpoint is not None:
            self.load(checkpoint)

    # -- one optimisation step -------------------------------------------------------------------------

    def losses(self, batch: dict) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-sample diffusion losses ``(batch,)`` and the timesteps drawn ``(batch,)``."""
        config, g, device = self.config, self.generator, self.accelerator.device
        unet = self.unet.config
        clean = normalize_heatmaps(batch["heatmaps"].to(device), unet.heatmap_scale, unet.heatmap_shift)
        size = len(clean)
        timesteps = torch.randint(0, config.num_train_timesteps, (size,), generator=g, device=device)
        noise = torch.randn(clean.shape, generator=g, device=device)
        dropped = torch.rand(size, generator=g, device=device) < config.cond_dropout
        text, mask = self.captions(batch["caption"], dropped)
        if config.token_dropout > 0:
            kept = torch.rand(mask.shape, generator=g, device=device) >= config.token_dropout
            kept[:, 0] = True
            mask = mask & kept
        noisy = self.noise_scheduler.add_noise(clean, noise, timesteps).contiguous(memory_format=self.memory_format)
        target = diffusion_target(self.noise_scheduler, clean, noise, timesteps)
        self_cond = self._self_condition(noisy, timesteps, text, mask) if unet.self_condition else None
        prediction = self.model(noisy, timesteps, encoder_hidden_states=text, encoder_attention_mask=mask,
                                self_cond=self_cond).sample
        losses = diffusion_loss(prediction, target)
        if config.snr_gamma is not None:
            losses = losses * min_snr_weights(self.noise_scheduler, timesteps, config.snr_gamma)
        return losses, timesteps

    def _self_condition(self, noisy: torch.Tensor, timesteps: torch.Tensor, text: torch.Tensor,
                        mask: torch.Tensor) -> torch.Tensor:
        """Self-conditioning's input ``(batch, K, S, S)``: for a random half of the samples the model's own
        estimate of the clean sample (a forward pass without gradients), zeros for the others, as sampling
        starts without an estimate and then feeds each step's to the next."""
        chosen = torch.rand(len(noisy), generator=self.generator, device=noisy.device) < 0.5
        estimate = torch.zeros_like(noisy)
        if chosen.any():
            with torch.no_grad():
                output = self.model(noisy[chosen], timesteps[chosen], encoder_hidden_states=text[chosen],
                                    encoder_attention_mask=mask[chosen]).sample
            clean = predicted_clean(self.noise_scheduler, output.float(), noisy[chosen], timesteps[chosen])
            estimate[chosen] = clean.to(estimate.dtype)
        return estimate

    def train_step(self, batch: dict) -> tuple[torch.Tensor, torch.Tensor]:
        """One optimiser step; returns every process's losses and timesteps (gathered)."""
        losses, timesteps = self.losses(batch)
        all_losses, all_timesteps = self.accelerator.gather((losses.detach(), timesteps))
        if not torch.isfinite(all_losses).all():
            raise NonFiniteLossError(self._non_finite_message())
        self.accelerator.backward(losses.mean())
        self.accelerator.clip_grad_norm_(self.model.parameters(), self.config.max_grad_norm)
        self.optimizer.step()
        self.lr_scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        if self.ema is not None:
            self.ema.step(self.unet.parameters())
        self.step += 1
        self.samples_seen += len(batch["caption"]) * self.accelerator.num_processes
        return all_losses, all_timesteps

    def _non_finite_message(self) -> str:
        config, saved = self.config, complete_checkpoints(self.run_dir)
        gentler = (f"--lr {config.lr / 10:g} (or --warmup-steps {max(2 * config.warmup_steps, 100)}, "
                   f"--max-grad-norm {config.max_grad_norm / 2:g})")
        if not saved:
            return (f"the loss became NaN/inf at step {self.step + 1}, before any checkpoint was written; start "
                    f"again with a gentler setting: {gentler}")
        return (f"the loss became NaN/inf at step {self.step + 1}; training stopped without saving that step, the "
                f"last good checkpoint is {saved[-1]}. Continue from it with a gentler setting: "
                f"{self.continue_with} {gentler}; the change is recorded in {self.run_dir / 'history.jsonl'}")

    # -- the loop --------------------------------------------------------------------------------------

    def run(self, until: int) -> None:
        """Train from the current step to step ``until``, logging, checkpointing and sampling on the way."""
        config = self.config
        stream = IndexStream(len(self.dataset), config.batch_size, seed=config.seed,
                             rank=self.accelerator.process_index, num_processes=self.accelerator.num_processes,
                             start=self.samples_seen)
        # Its own generator: making the iterator must not draw from the (checkpointed) global RNG.
        batches = iter(torch.utils.data.DataLoader(self.dataset, batch_sampler=stream, collate_fn=self.dataset.collate,
                                                   generator=torch.Generator()))
        if self.is_main:
            clean_partial_saves(self.run_dir)
            self.run_dir.mkdir(parents=True, exist_ok=True)
        logs = _LossLog(self.run_dir / "logs", config.num_train_timesteps) if self.is_main else None
        progress = tqdm(total=config.max_steps, initial=self.step, desc=self.label, disable=not self.is_main,
                        dynamic_ncols=True)
        self.model.train()
        try:
            while self.step < until:
                losses, timesteps = self.train_step(next(batches))
                lr = self.lr_scheduler.get_last_lr()[0]
                if self.is_main:
                    progress.update()
                    progress.set_postfix(loss=f"{losses.mean().item():.4f}", lr=f"{lr:.2e}")
                    logs.add(losses, timesteps)
                    if self.step % config.log_every == 0 or self.step == until:
                        logs.write(self.step, lr)
                if self.step % config.checkpoint_every == 0 or self.step == until:
                    self.save()
                if config.sample_every and self.is_main and (self.step % config.sample_every == 0
                                                             or self.step == config.max_steps):
                    self.sample_grid()
                self.accelerator.wait_for_everyone()
        finally:
            progress.close()
            if logs is not None:
                logs.close()

    # -- checkpoints ----------------------------------------------------------------------------------

    def save(self) -> None:
        """Write a checkpoint of the current step (all processes call it; the main one writes)."""
        state = {
            "optimizer": self.optimizer.state_dict(),
            "lr_scheduler": self.lr_scheduler.state_dict(),
            "ema": {} if self.ema is None else self.ema.state_dict() | {"shadow_params": None},  # weights: unet/
            "rng": {f"rank{rank}": rng for rank, rng in enumerate(gather_object([capture_rng(self.generator)]))},
            "progress": {"step": self.step, "samples_seen": self.samples_seen,
                         "num_processes": self.accelerator.num_processes},
        }
        if self.accelerator.scaler is not None:
            state["grad_scaler"] = self.accelerator.scaler.state_dict()
        if self.is_main:
            write_checkpoint(self.run_dir, self.step, unet=self.ema_unet(), raw_unet=self.unet,
                             scheduler=self.sampling_scheduler, text_encoder_config=self.text_encoder.to_config(),
                             config=self.config, training_state=state, extra_configs=self.extra_configs)
            prune_checkpoints(self.run_dir, self.config.keep_last)
        self.accelerator.wait_for_everyone()

    def load(self, checkpoint: Path) -> None:
        """Restore weights, EMA, optimiser, LR schedule, RNG states and progress from ``checkpoint``.

        Every file is read before anything is changed; one that cannot be read, or that does not fit this
        run's model and optimiser, is a ``CorruptCheckpointError`` naming it and the earlier checkpoint to use.
        The rescue fields (``lr``, ``warmup_steps``) of this run's config apply from the checkpoint's step on.
        """
        raw_file = checkpoint / "unet_raw" / WEIGHTS_NAME
        ema_file = checkpoint / "unet" / WEIGHTS_NAME
        state_dir = checkpoint / "training_state"
        current = raw_file
        try:
            raw_weights = load_file(raw_file)
            current = ema_file
            ema_weights = load_file(ema_file) if self.ema is not None else None
            states = {}
            for name in STATE_NAMES:
                current = state_dir / f"{name}.safetensors"
                states[name] = load_state(state_dir, name)
            current = raw_file
            renamed = convert_state_dict(dict(raw_weights))
            older = set(raw_weights) != set(renamed)  # written before the blocks
            if any(".layer.proj." in key for key in set(renamed) - set(self.unet.state_dict())):
                raise ValueError("its graph blocks have the older residual layer, which this model lacks; build the "
                                 "Trainer with checkpoint= (as train() does) to give the model the checkpoint's layout")
            self.unet.load_state_dict(raw_weights)
            if self.ema is not None:
                current = ema_file
                ema_weights = convert_state_dict(ema_weights)
                self.ema.load_state_dict({**states["ema"], "shadow_params": [
                    ema_weights[n].to(self.accelerator.device) for n, _ in self.unet.named_parameters()]})
            current = state_dir / "optimizer.safetensors"
            self.optimizer.load_state_dict(_in_current_order(states["optimizer"], self.unet) if older
                                           else states["optimizer"])
            current = state_dir / "lr_scheduler.json"
            self.lr_scheduler.load_state_dict(states["lr_scheduler"])
        except Exception as error:  # SafetensorError, ValueError, RuntimeError (shapes), KeyError (names)
            first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise corrupt_checkpoint_error(current, checkpoint, first[:300], kind="unreadable or mismatched") from None
        self._apply_rescue_fields()
        if self.accelerator.scaler is not None and (checkpoint / "training_state" / "grad_scaler.json").is_file():
            self.accelerator.scaler.load_state_dict(load_state(checkpoint / "training_state", "grad_scaler"))
        progress = states["progress"]
        self.step, self.samples_seen = progress["step"], progress["samples_seen"]
        rng = states["rng"].get(f"rank{self.accelerator.process_index}")
        if progress["num_processes"] != self.accelerator.num_processes or rng is None:
            logger.warning("%s was written by %d processes, this run has %d: the data order carries on but the "
                           "random draws differ from an uninterrupted run", checkpoint, progress["num_processes"],
                           self.accelerator.num_processes)
        if rng is not None:
            restore_rng(rng, self.generator)

    def _apply_rescue_fields(self) -> None:
        """Make the loaded LR schedule follow this run's ``lr`` and ``warmup_steps`` from the current step on
        (nothing changes when they are the checkpoint's own: the schedule computes the same values)."""
        scheduler = self.lr_scheduler
        values = [self.config.lr * f(scheduler.last_epoch) for f in scheduler.lr_lambdas]
        if scheduler.base_lrs == [self.config.lr] * len(values) and scheduler.get_last_lr() == values:
            return
        scheduler.base_lrs = [self.config.lr] * len(values)
        for group, value in zip(self.optimizer.param_groups, values):
            group["initial_lr"], group["lr"] = self.config.lr, value
        scheduler._last_lr = values

    @property
    def sampling_scheduler(self):
        """The scheduler a checkpoint stores, which its pipeline samples with: the training noise schedule."""
        return self.noise_scheduler

    @property
    def extra_configs(self) -> dict:
        """``{file name: JSON object}`` a checkpoint stores beside ``train_config.json``: none."""
        return {}

    def ema_unet(self) -> GUNet:
        """A fresh GUNet holding the EMA weights (the trained weights themselves when ``ema_decay`` is 0)."""
        with torch.random.fork_rng(devices=[]):  # its throw-away initial weights must not move the training RNG
            unet = GUNet.from_config(self.unet.config)
            unet.match_checkpoint_layout(name for name, _ in self.unet.named_parameters())
        if self.ema is None:
            unet.load_state_dict(self.unet.state_dict())
        else:
            self.ema.copy_to(unet.parameters())
        return unet.to(self.accelerator.device)

    # -- sample grids ---------------------------------------------------------------------------------

    def sample_grid(self) -> Path:
        """Draw the config's prompts with the EMA weights and write ``samples/step_N.png``."""
        from posegraph.pipelines import PoseGraphPipeline
        from posegraph.render import draw_pose_grid

        config = self.config
        pipeline = PoseGraphPipeline(unet=self.ema_unet().eval(), scheduler=self.noise_scheduler,
                                     text_encoder=self.text_encoder, heatmap_sigma=config.sigma,
                                     canonical_side=config.canonical_side)
        pipeline.set_progress_bar_config(disable=True)
        output = pipeline(config.sample_prompts, guidance_scale=config.sample_guidance,
                          num_inference_steps=config.sample_steps, scheduler="dpm-solver++", generator=0,
                          canvas_size=256)
        path = self.run_dir / "samples" / f"step_{self.step:06d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        return draw_pose_grid(output.keypoints, output.prompts, canvas_size=256, path=path, skeleton=pipeline.skeleton)
