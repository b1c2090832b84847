"""Draw random synthetic text-pose samples as a captioned grid of OpenPose skeletons.

    .venv/bin/python scripts/synthetic_grid.py --out synthetic_grid.png
    .venv/bin/python scripts/synthetic_grid.py --out waving.png --action waving_left --n 16
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from posegraph.data.synthetic import ACTIONS, SyntheticPoseGenerator  # noqa: E402
from posegraph.render import draw_pose_grid  # noqa: E402


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="synthetic_grid.png", help="where to write the PNG")
    parser.add_argument("--n", type=int, default=64, help="number of samples")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--size", type=int, default=64, help="crop side in pixels")
    parser.add_argument("--action", choices=ACTIONS, default=None, help="draw only this action")
    parser.add_argument("--ncols", type=int, default=8)
    args = parser.parse_args(argv)
    samples = SyntheticPoseGenerator(size=args.size, seed=args.seed).sample(args.n, action=args.action)
    captions = [f"[{a}, {f}] {c}" for a, f, c in zip(samples.actions, samples.facings, samples.captions)]
    path = draw_pose_grid(samples.keypoints, captions, canvas_size=args.size, ncols=args.ncols, cell_size=200,
                          path=args.out)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
