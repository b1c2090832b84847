"""Speed of the synthetic text-pose generator and of the semantic checker.

    .venv/bin/python benchmarks/synthetic_bench.py [--samples 100000] [--repeats 3]

Times ``SyntheticPoseGenerator(size=64).sample(n)`` (poses, labels and captions; the issue asks for
100,000 in under 30 s on a CPU) and ``check_action`` of every pose against its own action. Prints a
Markdown section with the machine, the command, the git commit and the median over the repeats.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from posegraph.data.checker import check_action  # noqa: E402
from posegraph.data.synthetic import SyntheticPoseGenerator  # noqa: E402


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if line.startswith("model name")]
        cpu = names[0] if names else cpu
    return (f"{cpu}, {os.cpu_count()} logical CPUs, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}, numpy {np.__version__}")


def git_commit() -> str:
    def git(*args):
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return commit + (" (with uncommitted changes)" if git("status", "--porcelain", "--untracked-files=no") else "")


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--size", type=int, default=64)
    args = parser.parse_args(argv)

    SyntheticPoseGenerator(size=args.size, seed=0).sample(1000)  # warm-up
    generate, check = [], []
    for repeat in range(args.repeats):
        seconds, samples = timed(lambda: SyntheticPoseGenerator(size=args.size, seed=repeat).sample(args.samples))
        generate.append(seconds)
        seconds, passed = timed(lambda: check_action(samples.keypoints, samples.actions))
        check.append(seconds)
    rows = [
        f"| generate (poses + labels + captions) | {statistics.median(generate):.2f} | "
        f"{args.samples / statistics.median(generate):,.0f} |",
        f"| check_action (own action) | {statistics.median(check):.2f} | {args.samples / statistics.median(check):,.0f} |",
    ]
    command = "python benchmarks/synthetic_bench.py " + " ".join(argv if argv is not None else sys.argv[1:])
    print("\n".join([
        "## Synthetic text-pose data (posegraph.data.synthetic, posegraph.data.checker)",
        "",
        f"- machine: {machine()}",
        f"- command: `{command.strip()}`",
        f"- git commit: {git_commit()}",
        f"- workload: {args.samples:,} samples at size {args.size}, median of {args.repeats} runs "
        f"(target: under 30 s to generate); the last run's poses pass their own check {passed.mean():.1%}",
        "",
        "| step | seconds | samples/s |",
        "|---|---:|---:|",
        *rows,
    ]))


if __name__ == "__main__":
    main()
