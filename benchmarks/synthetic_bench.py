"""Speed of the synthetic text-pose generator and of the semantic checker.

    .venv/bin/python benchmarks/synthetic_bench.py [--samples 100000] [--repeats 3]

Times ``SyntheticPoseGenerator(size=64).sample(n)`` (poses, labels and captions; the goal is
100,000 in under 30 s on a CPU) and ``check_action`` of every pose against its own action. Prints a
Markdown section with the machine, the command, the git commit and the median over the repeats.
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from common import header

from posegraph.data.checker import check_action
from posegraph.data.synthetic import SyntheticPoseGenerator


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main(argv=None) -> str:
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
    workload = (f"{args.samples:,} samples at size {args.size}, numpy {np.__version__}, median of {args.repeats} runs "
                f"(target: under 30 s to generate); the last run's poses pass their own check {passed.mean():.1%}")
    lines = header("Synthetic text-pose data (posegraph.data.synthetic, posegraph.data.checker)", "synthetic_bench.py",
                   argv, workload)
    section = "\n".join([*lines, "| step | seconds | samples/s |", "|---|---:|---:|", *rows])
    print(section)
    return section

if __name__ == "__main__":
    main()
