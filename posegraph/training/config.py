"""The training configuration: one dataclass, named presets, command-line overrides, JSON round trip.

A :class:`TrainConfig` travels with every checkpoint as ``train_config.json``; resuming compares the
asked-for configuration with the stored one field by field (:func:`config_mismatches`).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path

from posegraph.data.captions import example_prompts
from posegraph.pipelines import DEFAULT_GUIDANCE_SCALE

__all__ = ["JsonConfig", "TrainConfig", "PRESETS", "RUN_CONTROL_FIELDS", "RESCUE_FIELDS", "config_mismatches",
           "add_config_arguments", "config_from_arguments", "add_field_arguments", "given_fields"]

#: Actions whose example prompts the sample grids draw by default.
SAMPLE_GRID_ACTIONS = ("standing", "sitting", "squatting", "lying_down", "waving_right", "raise_both_arms",
                       "hands_on_hips", "kicking_left")


#: What the model predicts: the noise, the clean heatmaps or the velocity (diffusers' prediction types).
PREDICTION_TYPES = ("epsilon", "sample", "v_prediction")

#: ``TrainConfig.optimizer`` -> the ``torch.optim`` class it names (each takes ``lr`` and ``weight_decay``).
OPTIMIZERS = {"adamw": "AdamW", "adafactor": "Adafactor"}

#: DDPMScheduler's beta schedules.
BETA_SCHEDULES = ("linear", "scaled_linear", "squaredcos_cap_v2", "sigmoid")


class JsonConfig:
    """A dataclass config that checks itself when built (:meth:`validate`, naming the flag of a bad value) and
    round-trips through JSON (:meth:`save`, :meth:`from_json`)."""

    #: What it is called in messages, and the file a checkpoint stores it in.
    what, file_name = "config", "config.json"
    #: The named presets (field values on top of the defaults) and the one :meth:`from_preset` takes by default.
    presets: dict[str, dict] = {}
    default_preset = ""

    def __post_init__(self):
        self.validate()

    @classmethod
    def from_preset(cls, name: str | None = None, **overrides):
        """The named preset (default :attr:`default_preset`) with ``overrides`` (field names) applied."""
        name = cls.default_preset if name is None else name
        if name not in cls.presets:
            raise ValueError(f"unknown {cls.what} preset {name!r}; choose one of {', '.join(cls.presets)}")
        return cls(**{**cls.presets[name], **overrides})

    def validate(self) -> None:
        """Raise ``ValueError`` naming the flag for any out-of-range value."""

    def need(self, ok: bool, name: str, rule: str) -> None:
        """Raise ``ValueError("--NAME: RULE, got VALUE")`` unless ``ok``."""
        if not ok:
            raise ValueError(f"--{name.replace('_', '-')}: {rule}, got {getattr(self, name)!r}")

    def need_integers(self, names, minimum: int) -> None:
        """:meth:`need` each field of ``names`` to be an integer of at least ``minimum`` (1 or 0)."""
        rule = "must be a positive integer" if minimum == 1 else f"must be an integer >= {minimum}"
        for name in names:
            self.need(isinstance(getattr(self, name), int) and getattr(self, name) >= minimum, name, rule)

    @classmethod
    def from_json(cls, path: str | Path):
        """Read a config written by :meth:`save` (unknown keys are an error naming the file)."""
        path = Path(path)
        try:
            values = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as error:
            raise ValueError(f"{path}: cannot read a {cls.what} ({error})") from error
        unknown = sorted(set(values) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            raise ValueError(f"{path}: unknown {cls.what} keys {unknown}; is it a posegraph {cls.file_name}?")
        return cls(**values)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n")


@dataclass
class TrainConfig(JsonConfig):
    """Everything that defines a training run (where it writes is not part of it: see ``--out``).

    Model and text:
        preset: the GUNet preset (``GUNet.from_preset``): ``"tiny"`` (tests), ``"cpu"``, ``"paper"``.
        model: GUNet keyword overrides on top of the preset, e.g. ``{"graph_layer": "gat"}``; ``{"skeleton":
            "openpose_18"}`` (or a ``Skeleton.to_config()`` dict) trains another joint layout, the data's COCO-17
            poses converted to it by joint name.
        text_encoder: ``TextEncoder.from_pretrained`` name or path (kept frozen, never checkpointed).
        max_length: token limit of the text encoder (``None``: the encoder's own).

    Data:
        data: ``"synthetic"`` (the embedded text-pose generator) or ``"coco"``.
        synthetic_size: number of synthetic pairs (about as many distinct captions, plus their mirrored
            versions). The captions are encoded once up front; MiniLM manages only some hundreds a second
            on 2 CPU cores, so keep it to some thousands there.
        coco_keypoints, coco_captions: COCO ``person_keypoints_*.json`` and ``captions_*.json`` paths.
        sigma: heatmap Gaussian width in pixels.
        flip_prob, max_rotation, scale_range: augmentation (``PoseTextDataset``): horizontal flips (captions'
            "left"/"right" swap too), rotations up to ``max_rotation`` degrees, scaling in ``scale_range``.
        canonical_side: mirror every pose whose caption names no side into its canonical orientation
            (:mod:`posegraph.data.sides`), so the model learns one of the two mirror-image poses such a caption
            allows instead of their blend; pipelines of the run then mirror each such pose with probability
            1/2. Off for configs written before it existed; on in the ``cpu`` and ``tiny`` presets.

    Optimisation:
        seed: seeds the model, the data order and the diffusion noise.
        max_steps: optimiser steps; the cosine learning-rate decay ends here.
        batch_size: samples per step and process (the global batch is ``batch_size`` x processes).
        optimizer: ``"adamw"`` (``torch.optim.AdamW``) or ``"adafactor"`` (``torch.optim.Adafactor``: no first
            moment and second moments factored over each weight's last two axes, so its state is a fraction of
            AdamW's two copies of the weights; its ``lr`` is relative to each weight's RMS).
        lr, weight_decay, warmup_steps: the optimiser's, with linear warm-up then cosine decay to 0.
        max_grad_norm: gradient clipping by global norm.
        ema_decay, ema_power: EMA weights (diffusers ``EMAModel`` with warm-up ``1 - (1 + step)^-power``,
            capped at ``ema_decay``); checkpoints' ``unet/`` holds them. ``ema_decay=0`` keeps no EMA copy
            (one copy of the weights less in memory): ``unet/`` then holds the trained weights themselves.
        mixed_precision: accelerate's ``"no"`` | ``"bf16"`` | ``"fp16"`` (fp16 needs a GPU).
        compile: compile the unet's forward with ``torch.compile`` (pays on a GPU; the first steps compile).
        channels_last: keep the unet's convolution weights and inputs in ``torch.channels_last`` (NHWC)
            memory format, which cuDNN's tensor-core convolutions prefer.
        gradient_checkpointing: keep only each UNet unit's inputs in the forward pass and recompute the rest
            in the backward pass: far less activation memory for a quarter to a half more time per step.

    Diffusion:
        prediction_type: ``"epsilon"`` (the noise), ``"sample"`` (the clean heatmaps) or ``"v_prediction"``.
            The ``cpu`` preset predicts the clean heatmaps: its space-to-depth stem folds each 2x2 patch
            of 17 maps (68 values) into 32 channels, so it cannot reproduce per-pixel noise, which
            ``epsilon`` and (at low noise) ``v_prediction`` need; smooth clean heatmaps it can.
        num_train_timesteps, beta_schedule: the DDPM noise schedule (diffusers ``DDPMScheduler``).
        snr_gamma: weight each timestep's loss as a clean-sample error of weight ``min(SNR, snr_gamma) + 1``
            (min-SNR-gamma plus one; see ``posegraph.training.loop.min_snr_weights``); ``None``: every timestep's
            loss counts alike in the units of ``prediction_type``.
        cond_dropout: fraction of samples trained with the null text embedding (classifier-free guidance).
        token_dropout: chance that each token of a caption after the first is hidden from the model in a
            step (word dropout). The encoder's token states carry the whole sentence, so the text still
            reaches the model, but never through one word alone: what it learns holds for other wordings.

    ``lr``, ``warmup_steps`` and ``max_grad_norm`` may change when resuming, to rescue a run whose loss
    diverged (:data:`RESCUE_FIELDS`).

    Run control (may change when resuming; see :data:`RUN_CONTROL_FIELDS`):
        checkpoint_every, keep_last: save every N steps (and at the end), keeping the newest few.
        log_every: TensorBoard scalars every N steps.
        sample_every, sample_prompts, sample_steps, sample_guidance: a grid of poses drawn with the EMA
            weights every N steps (0 turns it off), DPM-Solver++ with guidance.
    """

    preset: str = "cpu"
    model: dict = field(default_factory=dict)
    text_encoder: str = "default"
    max_length: int | None = None

    data: str = "synthetic"
    synthetic_size: int = 10_000
    coco_keypoints: str | None = None
    coco_captions: str | None = None
    sigma: float = 2.0
    flip_prob: float = 0.5
    max_rotation: float = 10.0
    scale_range: list[float] = field(default_factory=lambda: [0.9, 1.1])
    canonical_side: bool = False

    seed: int = 0
    max_steps: int = 2500
    batch_size: int = 64
    optimizer: str = "adamw"
    lr: float = 2e-3
    weight_decay: float = 1e-2
    warmup_steps: int = 100
    max_grad_norm: float = 1.0
    ema_decay: float = 0.999
    ema_power: float = 0.75
    mixed_precision: str = "no"
    compile: bool = False
    channels_last: bool = False
    gradient_checkpointing: bool = False

    prediction_type: str = "epsilon"
    num_train_timesteps: int = 1000
    beta_schedule: str = "squaredcos_cap_v2"
    snr_gamma: float | None = None
    cond_dropout: float = 0.1
    token_dropout: float = 0.0

    checkpoint_every: int = 500
    keep_last: int = 3
    log_every: int = 10
    sample_every: int = 500
    sample_prompts: list[str] = field(default_factory=lambda: example_prompts(SAMPLE_GRID_ACTIONS))
    sample_steps: int = 10
    sample_guidance: float = DEFAULT_GUIDANCE_SCALE

    what, file_name, default_preset = "training config", "train_config.json", "cpu"

    def validate(self) -> None:
        need = self.need
        self.need_integers(("synthetic_size", "max_steps", "batch_size", "num_train_timesteps", "keep_last",
                            "checkpoint_every", "log_every", "sample_steps"), 1)
        self.need_integers(("warmup_steps", "sample_every", "seed"), 0)
        need(self.optimizer in OPTIMIZERS, "optimizer", f"must be one of {', '.join(OPTIMIZERS)}")
        need(self.lr > 0, "lr", "must be positive")
        need(self.weight_decay >= 0, "weight_decay", "must be >= 0")
        need(self.max_grad_norm > 0, "max_grad_norm", "must be positive")
        need(0 <= self.ema_decay < 1, "ema_decay", "must be in [0, 1)")
        need(self.ema_power > 0, "ema_power", "must be positive")
        need(0 <= self.cond_dropout < 1, "cond_dropout", "must be in [0, 1)")
        need(0 <= self.token_dropout < 1, "token_dropout", "must be in [0, 1)")
        need(self.snr_gamma is None or self.snr_gamma > 0, "snr_gamma", "must be positive or none")
        need(self.mixed_precision in ("no", "bf16", "fp16"), "mixed_precision", "must be one of no, bf16, fp16")
        for name in ("compile", "channels_last", "gradient_checkpointing"):
            need(isinstance(getattr(self, name), bool), name, "must be true or false")
        need(self.prediction_type in PREDICTION_TYPES, "prediction_type",
             f"must be one of {', '.join(PREDICTION_TYPES)}")
        need(self.beta_schedule in BETA_SCHEDULES, "beta_schedule", f"must be one of {', '.join(BETA_SCHEDULES)}")
        need(self.data in ("synthetic", "coco"), "data", "must be synthetic or coco")
        need(isinstance(self.model, dict), "model", "must be a JSON object of GUNet keyword arguments")
        need(self.max_length is None or self.max_length >= 1, "max_length", "must be a positive integer or none")
        need(self.sigma > 0, "sigma", "must be positive")
        need(0 <= self.flip_prob <= 1, "flip_prob", "must be in [0, 1]")
        need(self.max_rotation >= 0, "max_rotation", "must be >= 0")
        need(len(self.scale_range) == 2 and 0 < self.scale_range[0] <= self.scale_range[1], "scale_range",
             "must be two numbers LOW HIGH with 0 < LOW <= HIGH")
        if self.data == "coco" and not (self.coco_keypoints and self.coco_captions):
            raise ValueError("--data coco needs both --coco-keypoints FILE and --coco-captions FILE")


#: Training presets: field values on top of the :class:`TrainConfig` defaults.
PRESETS: dict[str, dict] = {
    # Seconds on a CPU: the test suite's runs.
    "tiny": dict(preset="tiny", prediction_type="sample", canonical_side=True, synthetic_size=32, max_steps=8,
                 batch_size=4, warmup_steps=2, checkpoint_every=4, keep_last=2, log_every=1, sample_every=0,
                 sample_steps=2),
    # The demo: minutes on 2 CPU cores. Predicts the clean heatmaps (see ``prediction_type``).
    "cpu": dict(preset="cpu", prediction_type="sample", canonical_side=True),
    # The paper's setting: COCO keypoints + captions on a GPU.
    "paper": dict(preset="paper", data="coco", synthetic_size=100_000, max_steps=200_000, batch_size=64,
                  lr=1e-4, warmup_steps=1000, ema_decay=0.9999, ema_power=2 / 3, mixed_precision="bf16",
                  beta_schedule="linear", checkpoint_every=5000, log_every=50, sample_every=5000,
                  sample_steps=20),
}

TrainConfig.presets = PRESETS

#: Fields that say how a run is watched or how fast it runs, not what it computes: they may differ when resuming.
RUN_CONTROL_FIELDS = frozenset(
    {"checkpoint_every", "keep_last", "log_every", "sample_every", "sample_prompts", "sample_steps", "sample_guidance",
     "compile", "channels_last", "gradient_checkpointing"}
)

#: Fields that change what a run computes but may change when resuming, to rescue a run whose loss diverged:
#: the peak learning rate, the warm-up and the gradient clipping. The resumed run follows the new values from
#: its checkpoint's step on (the LR schedule is recomputed there) and records the change in ``RUN_DIR/history.jsonl``.
RESCUE_FIELDS = frozenset({"lr", "warmup_steps", "max_grad_norm"})


def config_mismatches(stored: JsonConfig, asked: JsonConfig,
                      free: frozenset = RUN_CONTROL_FIELDS | RESCUE_FIELDS) -> dict[str, tuple]:
    """Fields (outside ``free``: by default :data:`RUN_CONTROL_FIELDS` and :data:`RESCUE_FIELDS`) whose values
    differ: ``{name: (stored, asked)}``."""
    stored_values, asked_values = stored.to_dict(), asked.to_dict()
    return {
        name: (stored_values[name], asked_values[name])
        for name in stored_values
        if name not in free and stored_values[name] != asked_values[name]
    }


def _parser_type(hint):
    """argparse ``type`` and ``nargs`` for a field's type hint."""
    args = typing.get_args(hint)
    if isinstance(hint, types.UnionType) and type(None) in args:
        inner = next(a for a in args if a is not type(None))
        return (lambda text: None if text.lower() in ("none", "") else inner(text)), None
    if hint is dict:
        return _json_object, None
    if typing.get_origin(hint) is list:
        return typing.get_args(hint)[0], "+"
    return hint, None


def _json_object(text: str) -> dict:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise argparse.ArgumentTypeError(f"not JSON ({error}): {text!r}") from error
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"expected a JSON object like '{{\"graph_layer\": \"gat\"}}', got {text!r}")
    return value


def add_field_arguments(group, config_class, defaults: dict, label: str, skip: frozenset = frozenset()) -> None:
    """One ``--field-name`` flag per field of the dataclass ``config_class`` (but ``skip``), typed by its hint, its
    help ``"LABEL: value"`` from ``defaults`` (``{name: value}``; a field not in it is required); unset flags stay
    out of the namespace."""
    hints = typing.get_type_hints(config_class)
    for f in dataclasses.fields(config_class):
        if f.name in skip:
            continue
        flag = "--" + f.name.replace("_", "-")
        text = f"{label}: {defaults[f.name]!r}" if f.name in defaults else "required"
        if hints[f.name] is bool:
            group.add_argument(flag, action=argparse.BooleanOptionalAction, default=argparse.SUPPRESS, help=text)
            continue
        kind, nargs = _parser_type(hints[f.name])
        group.add_argument(flag, type=kind, nargs=nargs, default=argparse.SUPPRESS, metavar=f.name.upper(), help=text)


def given_fields(args: argparse.Namespace, config_class) -> dict:
    """The fields of the dataclass ``config_class`` whose flags were given (see :func:`add_field_arguments`)."""
    return {f.name: getattr(args, f.name) for f in dataclasses.fields(config_class) if hasattr(args, f.name)}


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    """One ``--field-name`` flag per :class:`TrainConfig` field; unset flags stay out of the namespace."""
    group = parser.add_argument_group("training config (defaults: the --preset, or the resumed checkpoint's)")
    group.add_argument("--preset", choices=list(PRESETS), default=argparse.SUPPRESS,
                       help="training preset, also the GUNet preset (default: cpu)")
    add_field_arguments(group, TrainConfig, TrainConfig.from_preset("cpu").to_dict(), "cpu preset", skip={"preset"})


def config_from_arguments(args: argparse.Namespace, base: TrainConfig | None = None) -> TrainConfig:
    """``base`` (else the ``--preset``, default ``cpu``) with the flags that were given applied."""
    given = given_fields(args, TrainConfig)
    if base is None:
        return TrainConfig.from_preset(given.pop("preset", "cpu"), **given)
    return dataclasses.replace(base, **given)
