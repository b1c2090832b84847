"""Speed of the heatmap codec: encode and decode many poses at S=64, sigma 2.

    .venv/bin/python benchmarks/heatmaps_bench.py [--poses 10000] [--chunk 500] [--repeats 5]

Poses are processed in chunks so memory stays bounded (a chunk of 500 poses is 500 x 17 x 64 x 64
float32 = 139 MB). Prints a Markdown section with the machine, the command, the git commit and the
median poses/s over the repeats.
"""
from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from posegraph.heatmaps import heatmaps_to_keypoints, keypoints_to_heatmaps  # noqa: E402


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if line.startswith("model name")]
        cpu = names[0] if names else cpu
    return (
        f"{cpu}, {torch.get_num_threads()} torch threads, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, torch {torch.__version__}"
    )


def git_commit() -> str:
    def git(*args):
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return commit + (" (with uncommitted changes)" if git("status", "--porcelain", "--untracked-files=no") else "")


def time_once(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--poses", type=int, default=10_000)
    parser.add_argument("--chunk", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--sigma", type=float, default=2.0)
    args = parser.parse_args(argv)

    g = torch.Generator().manual_seed(0)
    xy = torch.rand(args.poses, 17, 2, generator=g) * (args.size - 1)
    keypoints = torch.cat([xy, torch.full((args.poses, 17, 1), 2.0)], dim=-1)
    chunks = keypoints.split(args.chunk)
    first = keypoints_to_heatmaps(chunks[0], args.size, args.sigma)  # all 10k would not fit in memory

    def encode():
        for c in chunks:
            keypoints_to_heatmaps(c, args.size, args.sigma)

    def decode():  # the first chunk's heatmaps stand in for every chunk
        for c in chunks:
            heatmaps_to_keypoints(first[: len(c)])

    def round_trip():
        for c in chunks:
            heatmaps_to_keypoints(keypoints_to_heatmaps(c, args.size, args.sigma))

    encode(), decode()  # warm-up
    rows = []
    for name, fn in (("encode", encode), ("decode", decode), ("encode + decode", round_trip)):
        seconds = statistics.median(time_once(fn) for _ in range(args.repeats))
        rows.append(f"| {name} | {seconds:.3f} | {args.poses / seconds:,.0f} |")

    command = "python benchmarks/heatmaps_bench.py " + " ".join(argv if argv is not None else sys.argv[1:])
    print(
        "\n".join(
            [
                "## Heatmap codec (posegraph.heatmaps)",
                "",
                f"- machine: {machine()}",
                f"- command: `{command.strip()}`",
                f"- git commit: {git_commit()}",
                f"- workload: {args.poses:,} poses x 17 joints, S={args.size}, sigma={args.sigma}, "
                f"chunks of {args.chunk}, median of {args.repeats} runs",
                "",
                "| step | seconds | poses/s |",
                "|---|---:|---:|",
                *rows,
            ]
        )
    )


if __name__ == "__main__":
    main()
