"""Accuracy against unet forwards per pose: a teacher with guided DPM-Solver++ beside its distilled student.

    .venv/bin/python benchmarks/distill_bench.py --teacher runs/demo --student runs/demo-lcm
        [--teacher-steps 4 8 10 20] [--student-steps 1 2 4] [--per-action 20] [--side-samples 50]
        [--modes 10] [--batch 256] [--repeats 3] [--plot docs/images/distillation.png]

The teacher is a trained run or checkpoint, sampled with DPM-Solver++ and classifier-free guidance 5 over the
pipeline's guidance interval (two forwards at the steps inside it, one at the others); the student is its ``python -m posegraph.distill`` output, sampled with its own LCM scheduler
(one forward a step, no guidance), in fp32 and under bf16 autocast (``pipe.enable_autocast()``). For each row:

- the quality figures of ``benchmarks/quality_bench.py`` (its ``evaluate_pipeline``): semantic accuracy on
  ``--per-action`` held-out template prompts per action and on the free-form test set, limb-joint integrity, the
  diversity of the template poses (mean distance of random pairs, torso lengths) and the share of valid poses of
  side-free prompts;
- multimodality: ``--modes`` poses of one held-out prompt per action, the mean distance between the poses of a
  prompt (a student that collapses its modes draws one pose per prompt: 0);
- poses/s at ``--batch`` (256) synthetic captions, one pose each, text encoding included, the median of
  ``--repeats`` calls (``benchmarks/sampling_bench.py``'s timing).

The goal: the student at >= 200 poses/s with semantic accuracy within 2 points of the teacher at 20 guided steps
and diversity within 10 % of it. The section is printed (``benchmarks/run.py`` appends it to RESULTS.md) and
accuracy against forwards per pose drawn to ``--plot``, each point labelled with its poses/s.
``--tiny DIR`` instead trains a tiny teacher for 2 steps and distils it into ``DIR`` first (the tiny presets): a
check that the script runs, not a measurement.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from common import ROOT, header
from quality_bench import GUIDANCE, evaluate_pipeline
from sampling_bench import poses_per_second

from posegraph.data.synthetic import SyntheticPoseGenerator
from posegraph.demo import held_out_prompts
from posegraph.evaluation import multimodality
from posegraph.pipelines import DEFAULT_GUIDANCE_INTERVAL, PoseGraphPipeline, guided_at, make_scheduler

#: The goals for the student against the teacher at 20 guided steps.
GOAL_RATE, GOAL_POINTS, GOAL_DIVERSITY = 200.0, 2.0, 0.10


def tiny_runs(out: Path) -> tuple[Path, Path]:
    """A tiny teacher (2 training steps) and its tiny-preset student under ``out``, made when missing."""
    from posegraph.distill import main as distill_main
    from posegraph.train import main as train_main

    teacher, student = out / "teacher", out / "student"
    if not (teacher / "checkpoints").is_dir():
        train_main(["--preset", "tiny", "--out", str(teacher), "--max-steps", "2", "--checkpoint-every", "2"])
    if not (student / "checkpoints").is_dir():
        distill_main(["--preset", "tiny", "--teacher", str(teacher), "--out", str(student)])
    return teacher, student


def rows(args) -> list[dict]:
    """Every configuration measured: the teacher's step counts, then the student's, then the student's under bf16."""
    teacher = [{"model": "teacher", "steps": s, "autocast": None,
                "sampler": {"scheduler": "dpm-solver++", "num_inference_steps": s, "guidance_scale": GUIDANCE,
                            "guidance_interval": DEFAULT_GUIDANCE_INTERVAL}}
               for s in args.teacher_steps]
    student = [{"model": "student", "steps": s, "autocast": autocast,
                "sampler": {"scheduler": None, "num_inference_steps": s, "guidance_scale": 1.0,
                            "guidance_interval": None}}
               for autocast in (None, "bf16") for s in args.student_steps]
    return teacher + student


def forwards(pipe: PoseGraphPipeline, sampler: dict) -> int:
    """Unet forwards per pose: one a step, two at the steps inside the guidance interval."""
    steps = sampler["num_inference_steps"]
    if sampler["guidance_scale"] <= 1:
        return steps
    scheduler = make_scheduler(sampler["scheduler"], pipe.scheduler)
    scheduler.set_timesteps(steps)
    return steps + int(guided_at(sampler["guidance_interval"], scheduler.timesteps).sum())


def measure(pipe: PoseGraphPipeline, row: dict, args, captions: list[str]) -> dict:
    """The figures of one row (see the module docstring)."""
    if row["autocast"]:
        pipe.enable_autocast(row["autocast"])
    sampler = row["sampler"]
    figures = evaluate_pipeline(pipe, args.per_action, args.side_samples, **sampler)
    prompts, _ = held_out_prompts(1)
    modes = pipe(prompts, num_poses_per_prompt=args.modes, generator=0, canvas_size=pipe.unet.config.sample_size,
                 batch_size=args.batch, **sampler).keypoints.numpy()
    figures["multimodality"] = float(multimodality(modes.reshape(len(prompts), args.modes, *modes.shape[1:])).value)
    _, figures["rate"] = poses_per_second(pipe, captions, args.batch, sampler["num_inference_steps"],
                                          sampler["scheduler"], sampler["guidance_scale"], sampler["guidance_interval"],
                                          args.repeats)
    pipe.disable_autocast()
    return {**row, **figures, "forwards": forwards(pipe, sampler)}


def table(results: list[dict]) -> list[str]:
    lines = ["| model | sampler | steps | forwards / pose | template acc. | free-form acc. | integrity template / "
             "free-form | one leg / throwing / punching valid | diversity | multimodality | poses/s |",
             "|---|---|---:|---:|---:|---:|---:|---|---:|---:|---:|"]
    for r in results:
        sampler = ("DPM-Solver++, guidance 5" if r["model"] == "teacher" else "LCM") + (
            f", {r['autocast']} autocast" if r["autocast"] else "")
        valid = " / ".join(f"{100 * side['valid']:.0f} %" for side in r["sides"].values())
        lines.append(f"| {r['model']} | {sampler} | {r['steps']} | {r['forwards']} | {100 * r['template_accuracy']:.1f} % "
                     f"| {100 * r['freeform_accuracy']:.1f} % | {100 * r['template_integrity']:.1f} / "
                     f"{100 * r['freeform_integrity']:.1f} % | {valid} | {r['template_diversity']:.3f} | "
                     f"{r['multimodality']:.3f} | {r['rate']:,.1f} |")
    return lines


def verdict(results: list[dict]) -> list[str]:
    """One line per student row held against the goals, measured against the teacher's most-step row."""
    reference = max((r for r in results if r["model"] == "teacher"), key=lambda r: r["steps"])
    lines = [f"Against the teacher at {reference['steps']} guided steps ({100 * reference['template_accuracy']:.1f} %, "
             f"diversity {reference['template_diversity']:.3f}, multimodality {reference['multimodality']:.3f}, "
             f"{reference['rate']:,.1f} poses/s); goals: >= {GOAL_RATE:g} poses/s, accuracy within {GOAL_POINTS:g} "
             f"points, diversity within {100 * GOAL_DIVERSITY:g} %:", ""]
    for r in (r for r in results if r["model"] == "student"):
        points = 100 * (r["template_accuracy"] - reference["template_accuracy"])
        spread = r["template_diversity"] / reference["template_diversity"] - 1
        met = r["rate"] >= GOAL_RATE and points >= -GOAL_POINTS and abs(spread) <= GOAL_DIVERSITY
        lines.append(f"- student, {r['steps']} step(s){', ' + r['autocast'] if r['autocast'] else ''}: "
                     f"{r['rate']:,.1f} poses/s ({r['rate'] / reference['rate']:.1f}x), accuracy {points:+.1f} points, "
                     f"diversity {100 * spread:+.0f} %: {'goal met' if met else 'goal not met'}")
    return lines


def plot(results: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    curves = {"teacher (DPM-Solver++, guidance 5)": ("teacher", None), "student (LCM)": ("student", None),
              "student (LCM, bf16 autocast)": ("student", "bf16")}
    for label, (model, autocast) in curves.items():
        points = sorted((r for r in results if r["model"] == model and r["autocast"] == autocast),
                        key=lambda r: r["forwards"])
        ax.plot([r["forwards"] for r in points], [100 * r["template_accuracy"] for r in points], "o-", label=label)
        for r in points:
            ax.annotate(f"{r['rate']:,.0f}/s", (r["forwards"], 100 * r["template_accuracy"]), fontsize=7,
                        textcoords="offset points", xytext=(4, 4))
    ax.set_xscale("log", base=2)
    ax.set_xlabel("unet forwards per pose")
    ax.set_ylabel("held-out template accuracy (%)")
    ax.set_ylim(0, 100)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title("accuracy against forwards per pose (labels: poses/s)", fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--teacher", type=Path, help="the trained run or checkpoint")
    parser.add_argument("--student", type=Path, help="its distilled student (python -m posegraph.distill --out)")
    parser.add_argument("--tiny", type=Path, metavar="DIR", help="make a tiny teacher and student in DIR instead")
    parser.add_argument("--teacher-steps", type=int, nargs="+", default=[4, 8, 10, 20])
    parser.add_argument("--student-steps", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--per-action", type=int, default=20, help="held-out template prompts per action")
    parser.add_argument("--side-samples", type=int, default=50, help="poses per side-free prompt")
    parser.add_argument("--modes", type=int, default=10, help="poses per prompt for multimodality")
    parser.add_argument("--batch", type=int, default=256, help="poses per timed call (and per sampling batch)")
    parser.add_argument("--repeats", type=int, default=3, help="timed calls per figure (median)")
    parser.add_argument("--plot", type=Path, default=ROOT / "docs" / "images" / "distillation.png")
    args = parser.parse_args(argv)
    if args.tiny is not None:
        args.teacher, args.student = tiny_runs(args.tiny)
    if args.teacher is None or args.student is None:
        parser.error("give --teacher and --student (or --tiny DIR)")
    pipes = {name: PoseGraphPipeline.from_pretrained(path) for name, path in
             (("teacher", args.teacher), ("student", args.student))}
    for pipe in pipes.values():
        pipe.set_progress_bar_config(disable=True)
    captions = SyntheticPoseGenerator(size=64, seed=0).sample(args.batch).captions
    results = []
    for row in rows(args):
        print(f"distill_bench: {row['model']}, {row['steps']} steps, autocast {row['autocast']}", file=sys.stderr)
        results.append(measure(pipes[row["model"]], row, args, captions))
    plot(results, args.plot)
    lines = header("Few-step sampling: teacher and distilled student", "distill_bench.py", argv,
                   f"teacher {args.teacher} (guided DPM-Solver++), student {args.student} (LCM, distilled for "
                   f"{pipes['student'].config.distilled_steps} steps); {args.per_action} template prompts per action, "
                   f"the free-form test set, {args.side_samples} poses per side-free prompt, {args.modes} poses per "
                   f"prompt for multimodality; poses/s at batch {args.batch}, text encoding included, median of "
                   f"{args.repeats}")
    lines += [*table(results), "", *verdict(results), "",
              f"Plot: `{args.plot.relative_to(ROOT) if args.plot.is_relative_to(ROOT) else args.plot}`"]
    section = "\n".join(lines)
    print(section)
    return section


if __name__ == "__main__":
    main()
