"""Training speed and peak memory per GUNet preset and batch size, each configuration in its own process.

    .venv/bin/python benchmarks/train_bench.py [--presets cpu] [--batch-sizes 16 64 256] [--steps 10] [--repeats 5]
        [--paper-batch 17 | --skip-paper] [--mixed-precision bf16] [--compile] [--channels-last]
        [--gradient-checkpointing] [--optimizer adafactor] [--ema-decay 0]

Each configuration runs in a fresh Python process (this script with ``--worker``), so its peak resident
memory (RSS high-water mark; on CUDA also ``torch.cuda.max_memory_allocated``) is its own. The worker
builds the trainer on a small synthetic set (the caption encoding up front is not timed), runs one
warm-up step, then times ``--steps`` optimiser steps (data, forward, backward, clipping, optimiser, EMA)
``--repeats`` times, and one checkpoint save after each. Memory: the RSS once the trainer is built
(Python, torch, the text encoder, the dataset, the model) and the peak over the whole run.

The paper preset is measured at batch ``--paper-batch`` (upstream GUNet needed 20 GB at batch 17) with
one timed step and no save; on a CPU it is skipped with a note when the machine has too little free
memory for its weights, gradients, optimiser state and EMA copy. The text encoder is MiniLM, so the paper
preset's cross-attention reads 384-wide tokens here, not 768. The memory savers (TrainConfig's
``gradient_checkpointing``, ``optimizer="adafactor"``, ``ema_decay=0``) apply to every configuration.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

from common import GB, current_rss_bytes, header, peak_cuda_bytes, peak_rss_bytes, run_worker

from posegraph.models import GUNet
from posegraph.training import Trainer, TrainConfig
from posegraph.training.config import OPTIMIZERS
from posegraph.training.data import IndexStream

MINILM_WIDTH = 384


def bytes_per_parameter(optimizer: str, ema_decay: float) -> int:
    """float32 weights and gradients, two AdamW moments (Adafactor's factored ones: counted as none), the EMA."""
    return 4 * (2 + 2 * (optimizer == "adamw") + (ema_decay > 0))


def worker(options: dict) -> dict:
    """Train one configuration; its figures as a dict (printed as JSON by ``--worker``)."""
    config = TrainConfig.from_preset("tiny", preset=options["preset"], batch_size=options["batch_size"],
                                     synthetic_size=4 * options["batch_size"], max_steps=10_000,
                                     **options["config"])
    with tempfile.TemporaryDirectory() as run_dir:
        trainer = Trainer(config, Path(run_dir))
        built = current_rss_bytes()
        stream = IndexStream(len(trainer.dataset), config.batch_size, seed=0)
        batches = iter(torch.utils.data.DataLoader(trainer.dataset, collate_fn=trainer.dataset.collate,
                                                   batch_sampler=stream))
        trainer.train_step(next(batches))  # warm-up (and compilation)
        step_times, save_times = [], []
        for _ in range(options["repeats"]):
            start = time.perf_counter()
            for _ in range(options["steps"]):
                trainer.train_step(next(batches))
            step_times.append((time.perf_counter() - start) / options["steps"])
            if options["save"]:
                start = time.perf_counter()
                trainer.save()
                save_times.append(time.perf_counter() - start)
    return {"parameters": sum(p.numel() for p in trainer.unet.parameters()),
            "sample_size": trainer.unet.config.sample_size, "step": statistics.median(step_times),
            "save": statistics.median(save_times) if save_times else None, "built_rss": built,
            "peak_rss": peak_rss_bytes(), "peak_cuda": peak_cuda_bytes()}


def available_bytes() -> int | None:
    """MemAvailable from /proc/meminfo, or ``None`` where there is none."""
    meminfo = Path("/proc/meminfo")
    if not meminfo.exists():
        return None
    for line in meminfo.read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    return None


def fits_in_memory(preset: str, config: dict) -> tuple[bool, str]:
    """Whether training ``preset`` with TrainConfig overrides ``config`` on the CPU should fit in the free
    memory, and a note saying why not."""
    if torch.cuda.is_available():
        return True, ""
    with torch.device("meta"):
        parameters = sum(p.numel() for p in GUNet.from_preset(preset, cross_attention_dim=MINILM_WIDTH).parameters())
    need = parameters * bytes_per_parameter(config["optimizer"], config["ema_decay"])
    free = available_bytes()
    if free is None or free > 1.25 * need:
        return True, ""
    return False, (f"skipped: its {parameters / 1e6:,.0f} M parameters need about {need / GB:.1f} GB for weights, "
                   f"gradients, optimiser state and EMA before any activation, and only {free / GB:.1f} GB are free")


def row(preset: str, batch: int, figures: dict) -> str:
    def gb(value):
        return "-" if value is None else f"{value / GB:.2f}"

    save = "-" if figures["save"] is None else f"{figures['save']:.3f}"
    return (f"| {preset} | {figures['parameters'] / 1e6:,.2f} M | {figures['sample_size']} | {batch} | "
            f"{1 / figures['step']:.2f} | {batch / figures['step']:,.1f} | {gb(figures['built_rss'])} | "
            f"{gb(figures['peak_rss'])} | {gb(figures['peak_cuda'])} | {save} |")


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--presets", nargs="+", default=["cpu"])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[16, 64, 256])
    parser.add_argument("--steps", type=int, default=10, help="optimiser steps per timed run")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--paper-batch", type=int, default=17)
    parser.add_argument("--skip-paper", action="store_true", help="leave out the paper preset")
    parser.add_argument("--mixed-precision", choices=["no", "bf16", "fp16"], default="no")
    parser.add_argument("--compile", action="store_true", help="TrainConfig.compile")
    parser.add_argument("--channels-last", action="store_true", help="TrainConfig.channels_last")
    parser.add_argument("--gradient-checkpointing", action="store_true", help="TrainConfig.gradient_checkpointing")
    parser.add_argument("--optimizer", choices=list(OPTIMIZERS), default="adamw", help="TrainConfig.optimizer")
    parser.add_argument("--ema-decay", type=float, default=TrainConfig.ema_decay,
                        help="TrainConfig.ema_decay (0: no EMA copy)")
    parser.add_argument("--worker", metavar="JSON", help=argparse.SUPPRESS)  # one configuration, in this process
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return ""

    common = dict(mixed_precision=args.mixed_precision, compile=args.compile, channels_last=args.channels_last,
                  gradient_checkpointing=args.gradient_checkpointing, optimizer=args.optimizer,
                  ema_decay=args.ema_decay)
    plan = [(preset, batch, dict(steps=args.steps, repeats=args.repeats, save=True))
            for preset in args.presets for batch in args.batch_sizes]
    if not args.skip_paper:
        plan.append(("paper", args.paper_batch, dict(steps=1, repeats=1, save=False)))
    rows, notes = [], []
    for preset, batch, timing in plan:
        fits, note = fits_in_memory(preset, common)
        if not fits:
            notes.append(f"- {preset} preset at batch {batch}: {note}")
            continue
        options = dict(preset=preset, batch_size=batch, config=common, **timing)
        try:
            figures = run_worker("train_bench.py", ["--worker", json.dumps(options)])
        except RuntimeError as error:  # e.g. killed for memory: the other configurations still count
            lines = [line for line in str(error).splitlines() if line.strip()]
            notes.append(f"- {preset} preset at batch {batch}: {lines[0]} ... {lines[-1]}")
            continue
        rows.append(row(preset, batch, figures))

    flags = ", ".join(f"{name}={value}" for name, value in common.items())
    device = "cuda" if torch.cuda.is_available() else "cpu"  # where accelerate puts the model
    workload = (f"optimiser steps on {device}, synthetic data, one process per configuration ({flags}); "
                f"median of {args.repeats} runs of {args.steps} steps after a warm-up step (paper preset: 1 step)")
    lines = header("Training speed and peak memory (posegraph.training)", "train_bench.py", argv, workload)
    lines += ["| preset | parameters | S | batch | steps/s | samples/s | RSS built (GB) | peak RSS (GB) | "
              "peak CUDA (GB) | checkpoint save (s) |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
              *rows, *([""] + notes if notes else [])]
    section = "\n".join(lines)
    print(section)
    return section


if __name__ == "__main__":
    main()
