"""Speed of the heatmap codec: encode and decode many poses at S=64, sigma 2.

    .venv/bin/python benchmarks/heatmaps_bench.py [--poses 10000] [--chunk 500] [--repeats 5]

Poses are processed in chunks so memory stays bounded (a chunk of 500 poses is 500 x 17 x 64 x 64
float32 = 139 MB). Prints a Markdown section with the machine, the command, the git commit and the
median poses/s over the repeats.
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch

from common import header

from posegraph.heatmaps import heatmaps_to_keypoints, keypoints_to_heatmaps


def time_once(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(argv=None) -> str:
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

    workload = (f"{args.poses:,} poses x 17 joints, S={args.size}, sigma={args.sigma}, chunks of {args.chunk}, "
                f"median of {args.repeats} runs")
    lines = header("Heatmap codec (posegraph.heatmaps)", "heatmaps_bench.py", argv, workload)
    section = "\n".join([*lines, "| step | seconds | poses/s |", "|---|---:|---:|", *rows])
    print(section)
    return section

if __name__ == "__main__":
    main()
