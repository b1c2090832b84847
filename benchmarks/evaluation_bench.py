"""Speed of the evaluation metrics on sets of the size `python -m posegraph.evaluate` uses.

    .venv/bin/python benchmarks/evaluation_bench.py [--captions 1000] [--poses 10000] [--repeats 3]

Random poses around a standing pose stand in for generated and real ones (the figures do not depend
on the poses' content). Prints a Markdown section with the machine, the command, the git commit and
the median seconds per metric call (with its interval computation) over the repeats.
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from common import header

from posegraph.evaluation import (
    diversity,
    frechet_pose_distance,
    multimodality,
    paper_protocol,
    retrieval_precision,
    structure_metrics,
    train_evaluator,
)

STANDING = np.array(
    [[32, 10], [34, 8], [30, 8], [36, 9], [28, 9], [38, 16], [26, 16], [40, 25], [24, 25], [41, 33], [23, 33],
     [36, 34], [28, 34], [36, 45], [28, 45], [36, 56], [28, 56]],
    dtype=float,
)


def poses(rng: np.random.Generator, *shape: int) -> np.ndarray:
    xy = STANDING + rng.normal(0, 3, (*shape, 17, 2))
    return np.concatenate([xy, np.full((*shape, 17, 1), 2.0)], axis=-1)


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--captions", type=int, default=1000, help="captions of the paper protocol (x 10 samples)")
    parser.add_argument("--poses", type=int, default=10_000, help="generated and real poses for the other metrics")
    parser.add_argument("--evaluator-pairs", type=int, default=5000)
    parser.add_argument("--evaluator-epochs", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    generated = poses(rng, args.captions, 10)
    truth = poses(rng, args.captions)
    flat, real = poses(rng, args.poses), poses(rng, args.poses)
    texts = rng.normal(size=(args.evaluator_pairs // 10, 64)).astype(np.float32).repeat(10, axis=0)
    pairs = poses(rng, len(texts))
    evaluator = train_evaluator(pairs, texts, epochs=1)

    cases = {
        f"paper_protocol ({args.captions} captions x 10)": lambda: paper_protocol(generated, truth),
        f"structure_metrics ({args.poses} poses)": lambda: structure_metrics(flat),
        "diversity (2000 pairs)": lambda: diversity(flat),
        f"multimodality ({args.captions} prompts x 10)": lambda: multimodality(generated),
        f"frechet_pose_distance ({args.poses} vs {args.poses}, 200 resamples)": lambda: frechet_pose_distance(flat, real),
        f"train_evaluator ({len(texts)} pairs, {args.evaluator_epochs} epochs)": lambda: train_evaluator(
            pairs, texts, epochs=args.evaluator_epochs
        ),
        f"retrieval_precision ({len(texts)} poses, pools of 32, 10 draws)": lambda: retrieval_precision(
            evaluator, pairs, texts
        ),
    }
    rows = []
    for name, fn in cases.items():
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        rows.append(f"| {name} | {statistics.median(times):.3f} |")

    lines = header("Evaluation metrics (posegraph.evaluation)", "evaluation_bench.py", argv,
                   f"random poses around a standing pose, median of {args.repeats} runs")
    section = "\n".join([*lines, "| metric call | seconds |", "|---|---:|", *rows])
    print(section)
    return section

if __name__ == "__main__":
    main()
