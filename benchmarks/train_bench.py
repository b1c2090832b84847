"""Speed of training: optimiser steps per second and checkpoint writes, per GUNet preset.

    .venv/bin/python benchmarks/train_bench.py [--presets tiny cpu] [--batch-size 64] [--steps 10] [--repeats 5]

Builds the trainer of each preset on a small synthetic set (the caption encoding up front is not
timed), then times ``--steps`` optimiser steps (data, forward, backward, clipping, AdamW, EMA) and
one checkpoint save, ``--repeats`` times after one warm-up step. Prints a Markdown section with the
machine, the command, the git commit and the medians.
"""
from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from posegraph.training import Trainer, TrainConfig  # noqa: E402
from posegraph.training.data import IndexStream  # noqa: E402


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                 if line.startswith("model name")]
        cpu = names[0] if names else cpu
    if torch.cuda.is_available():
        cpu += f", {torch.cuda.get_device_name()}"
    return (f"{cpu}, {torch.get_num_threads()} torch threads, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}, torch {torch.__version__}")


def git_commit() -> str:
    def git(*args):
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return commit + (" (with uncommitted changes)" if git("status", "--porcelain", "--untracked-files=no") else "")


def bench_preset(preset: str, batch_size: int, steps: int, repeats: int) -> str:
    config = TrainConfig.from_preset("tiny", preset=preset, batch_size=batch_size, synthetic_size=4 * batch_size,
                                     max_steps=10_000)
    with tempfile.TemporaryDirectory() as run_dir:
        trainer = Trainer(config, Path(run_dir))
        batches = iter(torch.utils.data.DataLoader(trainer.dataset, collate_fn=trainer.dataset.collate,
                                                   batch_sampler=IndexStream(len(trainer.dataset), batch_size, 0)))
        trainer.train_step(next(batches))  # warm-up
        step_times, save_times = [], []
        for _ in range(repeats):
            start = time.perf_counter()
            for _ in range(steps):
                trainer.train_step(next(batches))
            step_times.append((time.perf_counter() - start) / steps)
            start = time.perf_counter()
            trainer.save()
            save_times.append(time.perf_counter() - start)
    parameters = sum(p.numel() for p in trainer.unet.parameters())
    step = statistics.median(step_times)
    return (f"| {preset} | {parameters / 1e6:.2f} M | {trainer.unet.config.sample_size} | {batch_size} | "
            f"{1 / step:.2f} | {batch_size / step:.0f} | {statistics.median(save_times):.3f} |")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--presets", nargs="+", default=["tiny", "cpu"])
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=10, help="optimiser steps per timed run")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    rows = [bench_preset(preset, args.batch_size, args.steps, args.repeats) for preset in args.presets]

    print("## Training (posegraph.training)\n")
    print(f"- machine: {machine()}")
    print(f"- command: `.venv/bin/python benchmarks/train_bench.py "
          f"{' '.join(argv if argv is not None else sys.argv[1:])}`")
    print(f"- commit: {git_commit()}")
    print(f"- median of {args.repeats} runs of {args.steps} steps (fp32, synthetic data, one process)\n")
    print("| preset | parameters | S | batch | steps/s | samples/s | checkpoint save (s) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
