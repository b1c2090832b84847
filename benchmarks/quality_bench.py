"""Time to quality: train the cpu preset and measure, along the way, whether its poses follow their prompts.

    .venv/bin/python benchmarks/quality_bench.py [--recipes before cpu] [--max-steps 2500]
        [--eval-at 500 1000 1500 2000 2500] [--per-action 8] [--side-samples 100] [--out runs/quality]
        [--plot docs/images/time_to_quality.png]

Each recipe trains in its own Python process (this script with ``--worker``) from the ``cpu`` training
preset with the recipe's overrides, stopping at each ``--eval-at`` step to checkpoint. The x axis is the
wall time since that process started: building the dataset, encoding its captions and training, not the
evaluation, which runs after training on every checkpoint:

- **template accuracy**: ``--per-action`` held-out caption-generator prompts for each of the 25 actions (the
  demo's held-out seed), one pose each, judged by the synthetic checker; also the weakest action's rate;
- **free-form accuracy**: the frozen free-form prompt set (``posegraph.evaluation.freeform``, the figure to
  report), one pose each; beside it the same for the free-form development set (``dev_*``), the one to
  choose recipes by, so that the reported set is never tuned on;
- **limb integrity**: the share of poses with all 12 limb joints, on the template prompts of full-body
  actions (not the arm gestures, whose training crops may cut the legs) and on each free-form set;
- **side shares**: ``--side-samples`` poses of a side-free prompt per action whose side the checker can
  tell (``a person standing on one leg``, ...): the share done with each side and the share valid at all.

Sampling is the demo's: 20 DPM-Solver++ steps, guidance 5, seed 0. A recipe whose run directory already
holds its results is not trained again (delete it to re-run); an interrupted one resumes. The section is
printed (``benchmarks/run.py`` appends it to RESULTS.md) and the curves drawn to ``--plot``.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from common import ROOT, header, run_worker

#: Training overrides of the ``cpu`` preset, by name. ``before`` is the recipe the project used until the
#: heatmaps were scaled to unit variance: clean-heatmap prediction on ``[-1, 1]`` maps, token states only.
RECIPES: dict[str, dict] = {
    "before": {"prediction_type": "sample", "snr_gamma": None,
               "model": {"pooled_text": False, "heatmap_scale": 2.0, "heatmap_shift": -1.0}},
    "cpu": {},
}

#: The free-form sets evaluated, by the prefix of their result keys: the frozen test set (reported) and the
#: development set (for choosing recipes), splits of ``posegraph.evaluation.freeform.load_freeform_prompts``.
FREEFORM_SETS = {"freeform": "test", "dev": "dev"}

#: One side-free prompt per action whose side the checker tells (``posegraph.data.checker.SIDE_CHECKS``).
SIDE_PROMPTS = {"one_leg": "a person standing on one leg", "throwing": "a person throwing a ball",
                "punching": "a person punching"}

STEPS, GUIDANCE = 20, 5.0


def parse_recipe(text: str) -> tuple[str, dict]:
    """``NAME`` (one of :data:`RECIPES`) or ``NAME=JSON`` (overrides of the cpu preset)."""
    name, _, overrides = text.partition("=")
    if overrides:
        return name, json.loads(overrides)
    if name not in RECIPES:
        raise argparse.ArgumentTypeError(f"unknown recipe {name!r}: use one of {list(RECIPES)} or NAME='{{json}}'")
    return name, RECIPES[name]


def train_worker(options: dict) -> dict:
    """Train one recipe, checkpointing at each evaluation step; ``{step: seconds since start}``."""
    started = time.perf_counter()
    from posegraph.training import Trainer, TrainConfig
    from posegraph.training.checkpoint import complete_checkpoints

    run_dir = Path(options["run_dir"])
    times_file = run_dir / "times.json"
    times = json.loads(times_file.read_text()) if times_file.exists() else {}
    if all(str(step) in times for step in options["eval_at"]):
        return times
    config = TrainConfig.from_preset(options["preset"], max_steps=options["max_steps"], sample_every=0, keep_last=1000,
                                     checkpoint_every=options["max_steps"], **options["overrides"])
    trainer = Trainer(config, run_dir)
    saved = complete_checkpoints(run_dir)
    offset = 0.0
    if saved:
        trainer.load(saved[-1])
        offset = times[str(trainer.step)] - (time.perf_counter() - started)  # carry the earlier wall time on
    for step in options["eval_at"]:
        if step > trainer.step:
            trainer.run(until=step)
            times[str(step)] = time.perf_counter() - started + offset
            times_file.write_text(json.dumps(times, indent=1))
    return times


def evaluate_checkpoint(checkpoint: Path, per_action: int, side_samples: int) -> dict:
    """The quality figures of one checkpoint (see the module docstring), sampled as the demo samples."""
    from posegraph.pipelines import PoseGraphPipeline

    pipeline = PoseGraphPipeline.from_pretrained(checkpoint)
    pipeline.set_progress_bar_config(disable=True)
    return evaluate_pipeline(pipeline, per_action, side_samples, guidance_scale=GUIDANCE, num_inference_steps=STEPS,
                             scheduler="dpm-solver++")


def evaluate_pipeline(pipeline, per_action: int, side_samples: int, **sampler) -> dict:
    """The quality figures of ``pipeline``'s poses (see the module docstring), and the diversity of its template
    poses (:func:`posegraph.evaluation.diversity`, in torso lengths), the poses drawn from seed 0 on with the
    pipeline's ``sampler`` arguments (``scheduler``, ``num_inference_steps``, ``guidance_scale``)."""
    import numpy as np

    from posegraph.data.checker import check_action
    from posegraph.data.synthetic import ACTIONS
    from posegraph.demo import held_out_prompts
    from posegraph.evaluation import diversity
    from posegraph.evaluation.freeform import load_freeform_prompts
    from posegraph.evaluation.integrity import full_body, limb_integrity, side_shares

    size = pipeline.unet.config.sample_size

    def poses(prompts):
        return pipeline(prompts, generator=0, canvas_size=size, batch_size=256, return_heatmaps=False,
                        **sampler).keypoints.numpy()

    prompts, actions = held_out_prompts(per_action)
    template = poses(prompts)
    passed = check_action(template, actions)
    per = {a: float(passed[np.asarray(actions) == a].mean()) for a in ACTIONS}
    free_form = {}
    for key, split in FREEFORM_SETS.items():
        free_prompts, free_actions = load_freeform_prompts(split=split)
        free = poses(free_prompts)
        free_form[f"{key}_accuracy"] = float(check_action(free, free_actions).mean())
        free_form[f"{key}_integrity"] = float(limb_integrity(free).mean())
    sides = {action: side_shares(poses([prompt] * side_samples), action) for action, prompt in SIDE_PROMPTS.items()}
    return {
        "template_accuracy": float(passed.mean()), "per_action": per, "weakest_action": min(per, key=per.get),
        "template_integrity": float(limb_integrity(template[full_body(actions)]).mean()), **free_form, "sides": sides,
        "template_diversity": float(diversity(template).value),
    }


def worker(options: dict) -> dict:
    """Train (or finish) one recipe, then evaluate every checkpoint; the curve as a list of points."""
    times = train_worker(options)
    from posegraph.training.checkpoint import complete_checkpoints

    results_file = Path(options["run_dir"]) / "quality.json"
    done = {p["step"]: p for p in json.loads(results_file.read_text())} if results_file.exists() else {}
    for checkpoint in complete_checkpoints(Path(options["run_dir"])):
        step = int(checkpoint.name.split("_")[-1])
        # a point evaluated before the development set existed lacks its figures: evaluate it again
        if step in options["eval_at"] and (step not in done or "dev_accuracy" not in done[step]):
            done[step] = {"step": step, "seconds": times[str(step)],
                          **evaluate_checkpoint(checkpoint, options["per_action"], options["side_samples"])}
            results_file.write_text(json.dumps(sorted(done.values(), key=lambda p: p["step"]), indent=1))
    return {"points": sorted(done.values(), key=lambda p: p["step"])}


def plot(curves: dict[str, list[dict]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [("template_accuracy", "held-out template accuracy"),
              ("freeform_accuracy", "free-form accuracy (test)"), ("dev_accuracy", "free-form accuracy (dev)"),
              ("template_integrity", "limb integrity (template, full body)"),
              ("freeform_integrity", "limb integrity (free-form test)")]
    fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 3.4), sharex=True)
    for ax, (key, title) in zip(axes, panels):
        for name, points in curves.items():
            points = [p for p in points if key in p]
            ax.plot([p["seconds"] / 60 for p in points], [100 * p[key] for p in points], "o-", label=name)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("training wall time (min)")
        ax.set_ylim(0, 100)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("%")
    axes[0].legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _percent(point: dict, key: str, unit: str = " %") -> str:
    """``point[key]`` as a percentage; a dash for a point evaluated before that figure existed."""
    return f"{100 * point[key]:.1f}{unit}" if key in point else "–"


def table(name: str, points: list[dict]) -> list[str]:
    sets = list(FREEFORM_SETS)
    lines = [f"### {name}", "", "| step | minutes | template acc. | weakest action | free-form acc. "
             "| dev free-form acc. | integrity template / free-form / dev | one leg L / R / valid "
             "| throwing L / R / valid | punching L / R / valid |",
             "|---:|---:|---:|---|---:|---:|---:|---|---|---|"]
    for p in points:
        sides = [" / ".join(f"{100 * p['sides'][a][k]:.0f}" for k in ("left", "right", "valid"))
                 for a in SIDE_PROMPTS]
        weakest = p["weakest_action"]
        accuracy = " | ".join(_percent(p, f"{key}_accuracy") for key in sets)
        integrity = " / ".join(_percent(p, f"{key}_integrity", "") for key in ["template", *sets])
        lines.append(f"| {p['step']} | {p['seconds'] / 60:.1f} | {100 * p['template_accuracy']:.1f} % | {weakest} "
                     f"{100 * p['per_action'][weakest]:.0f} % | {accuracy} | {integrity} % | "
                     + " | ".join(sides) + " |")
    return lines + [""]


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipes", nargs="+", type=parse_recipe, default=[parse_recipe(n) for n in RECIPES])
    parser.add_argument("--preset", default="cpu", help="the training preset the recipes override")
    parser.add_argument("--max-steps", type=int, default=2500)
    parser.add_argument("--eval-at", type=int, nargs="+", default=[500, 1000, 1500, 2000, 2500])
    parser.add_argument("--per-action", type=int, default=8, help="held-out template prompts per action")
    parser.add_argument("--side-samples", type=int, default=100, help="poses per side-free prompt")
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "quality")
    parser.add_argument("--plot", type=Path, default=ROOT / "docs" / "images" / "time_to_quality.png")
    parser.add_argument("--worker", type=json.loads, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker is not None:
        print(json.dumps(worker(args.worker)))
        return ""
    eval_at = sorted({s for s in args.eval_at if s <= args.max_steps} | {args.max_steps})
    curves = {}
    for name, overrides in args.recipes:
        print(f"quality_bench: {name}: training {args.max_steps} steps, evaluating at {eval_at}", file=sys.stderr)
        options = {"run_dir": str(args.out / name), "preset": args.preset, "overrides": overrides, "max_steps": args.max_steps,
                   "eval_at": eval_at, "per_action": args.per_action, "side_samples": args.side_samples}
        curves[name] = run_worker("quality_bench.py", ["--worker", json.dumps(options)])["points"]
    plot(curves, args.plot)
    lines = header(f"Time to quality ({args.preset} preset)", "quality_bench.py", argv,
                   f"train each recipe {args.max_steps} steps, evaluate at {eval_at}; 20 DPM-Solver++ steps, "
                   f"guidance 5; {args.per_action} template prompts per action, the free-form test and dev sets, "
                   f"{args.side_samples} poses per side-free prompt")
    for name, overrides in args.recipes:
        lines += [f"- recipe `{name}`: {args.preset} preset + `{json.dumps(overrides)}`"]
    lines.append("")
    for name, points in curves.items():
        lines += table(name, points)
    lines.append(f"Curves: `{args.plot.relative_to(ROOT) if args.plot.is_relative_to(ROOT) else args.plot}`")
    section = "\n".join(lines)
    print(section)
    return section


if __name__ == "__main__":
    main()
