"""Look inside sampling: the model's clean-heatmap prediction along the DPM-Solver++ trajectory, and the final
map of the weakest limb joint, for a few prompts and checkpoints side by side.

    .venv/bin/python scripts/sampling_trajectory.py --checkpoint runs/demo --prompt "a person standing on one leg" \\
        --prompt "A man next to a fence." --show 1 5 10 20 --out trajectory.png

Each row is one pose (checkpoint, prompt, seed). Its first columns are the predicted clean heatmaps
(the guided prediction turned into ``x0``) at the ``--show`` steps, the 12 limb joints drawn in colour
(left joints warm, right joints cool, the brightest map wins each pixel); then the decoded skeleton; then
the final map of the limb joint with the lowest peak, titled with that peak (the decoder drops a joint under
0.2). The terminal gets, per row, the lost joints with their peaks and their maps' local maxima above 0.05,
and, per checkpoint, a round trip: real synthetic poses noised to a few timesteps and denoised in one model
call; the mean peak of their limb joints' predicted clean maps (1 is a perfect copy of a peak).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from posegraph.evaluation.integrity import LIMB_JOINTS  # noqa: E402
from posegraph.heatmaps import denormalize_heatmaps, heatmaps_to_keypoints  # noqa: E402
from posegraph.pipelines import PoseGraphPipeline  # noqa: E402
from posegraph.pipelines.schedulers import make_scheduler, predicted_clean  # noqa: E402
from posegraph.render import draw_openpose  # noqa: E402
from posegraph.skeleton import COCO_17  # noqa: E402


@torch.inference_mode()
def trajectory(pipeline: PoseGraphPipeline, prompt: str, seeds: list[int], steps: int, guidance: float,
               show: list[int]) -> tuple[dict[int, torch.Tensor], torch.Tensor]:
    """Guided DPM-Solver++ sampling of ``len(seeds)`` poses; ``({step: x0 heatmaps}, final heatmaps)`` in [0, 1]."""
    unet, config = pipeline.unet, pipeline.unet.config
    scheduler = make_scheduler("dpm-solver++", pipeline.scheduler)
    text, mask = pipeline.text_encoder.encode([prompt])
    null, null_mask = pipeline.text_encoder.null_embedding(1)
    length = max(text.shape[1], null.shape[1])
    pad = lambda e, m: (torch.nn.functional.pad(e, (0, 0, 0, length - e.shape[1])),  # noqa: E731
                        torch.nn.functional.pad(m, (0, length - m.shape[1])))
    (text, mask), (null, null_mask) = pad(text, mask), pad(null, null_mask)
    n = len(seeds)
    texts = torch.cat([null.expand(n, -1, -1), text.expand(n, -1, -1)])
    masks = torch.cat([null_mask.expand(n, -1), mask.expand(n, -1)])
    shape = (config.in_channels, config.sample_size, config.sample_size)
    sample = torch.stack([torch.randn(shape, generator=torch.Generator().manual_seed(s)) for s in seeds])
    scheduler.set_timesteps(steps)
    sample = sample * scheduler.init_noise_sigma
    to_heatmaps = lambda x: denormalize_heatmaps(x, config.heatmap_scale, config.heatmap_shift)  # noqa: E731
    seen, estimate = {}, None  # estimate: what a self-conditioned unet reads, as the pipeline feeds it
    for i, t in enumerate(scheduler.timesteps, start=1):
        model_input = torch.cat([scheduler.scale_model_input(sample, t)] * 2)
        extra = {"self_cond": estimate} if getattr(config, "self_condition", False) else {}
        output = unet(model_input, t.expand(2 * n), texts, masks, **extra).sample
        estimate = predicted_clean(scheduler, output, model_input, t.expand(2 * n))
        uncond, cond = output.chunk(2)
        prediction = uncond + guidance * (cond - uncond)
        if i in show:
            seen[i] = to_heatmaps(predicted_clean(scheduler, prediction, sample, t.expand(n)))
        sample = scheduler.step(prediction, t, sample).prev_sample
    return seen, to_heatmaps(sample)


@torch.inference_mode()
def round_trip(pipeline: PoseGraphPipeline, timesteps=(20, 100, 300, 600), n: int = 64) -> dict[int, float]:
    """Mean limb-joint peak of the clean maps predicted from real poses noised to each timestep (one call)."""
    from posegraph.data.dataset import PoseTextDataset
    from posegraph.heatmaps import normalize_heatmaps

    unet, config = pipeline.unet, pipeline.unet.config
    data = PoseTextDataset.synthetic(n, seed=123, size=config.sample_size, flip_prob=0.0, max_rotation=0.0,
                                     scale_range=(1.0, 1.0))
    batch = data.collate([data[i] for i in range(n)])
    clean = normalize_heatmaps(batch["heatmaps"], config.heatmap_scale, config.heatmap_shift)
    text, mask = pipeline.text_encoder.encode(batch["caption"])
    present = batch["keypoints"][:, LIMB_JOINTS, 2] > 0
    peaks = {}
    for t in timesteps:
        noise = torch.randn(clean.shape, generator=torch.Generator().manual_seed(t))
        steps = torch.full((n,), t)
        noisy = pipeline.scheduler.add_noise(clean, noise, steps)
        x0 = predicted_clean(pipeline.scheduler, unet(noisy, steps, text, mask).sample, noisy, steps)
        maps = denormalize_heatmaps(x0, config.heatmap_scale, config.heatmap_shift)[:, LIMB_JOINTS]
        peaks[t] = float(maps.flatten(2).amax(-1)[present].mean())
    return peaks


def colour_map(heatmaps: torch.Tensor) -> np.ndarray:
    """``(17, S, S)`` -> an ``(S, S, 3)`` image of the limb joints: left joints warm, right joints cool."""
    colours = {"left": np.array([1.0, 0.35, 0.1]), "right": np.array([0.1, 0.55, 1.0])}
    maps = heatmaps[LIMB_JOINTS].numpy()
    sides = [COCO_17.names[k].split("_")[0] for k in LIMB_JOINTS]
    strongest = maps.argmax(0)
    value = maps.max(0)[..., None]
    palette = np.stack([colours[s] for s in sides])
    return np.clip(palette[strongest] * value, 0, 1)


def local_maxima(heatmap: torch.Tensor, floor: float = 0.05) -> int:
    """How many pixels of ``(S, S)`` are above ``floor`` and at least their 8 neighbours."""
    pooled = torch.nn.functional.max_pool2d(heatmap[None, None], 3, stride=1, padding=1)[0, 0]
    return int(((heatmap == pooled) & (heatmap > floor)).sum())


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", action="append", required=True, help="a run, checkpoint or pipeline (repeat)")
    parser.add_argument("--label", action="append", help="a name per --checkpoint (default: the path)")
    parser.add_argument("--prompt", action="append", required=True, help="a prompt (repeat)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--guidance-scale", type=float, default=5.0)
    parser.add_argument("--show", type=int, nargs="+", default=[1, 5, 10, 20])
    parser.add_argument("--out", type=Path, default=Path("trajectory.png"))
    args = parser.parse_args(argv)
    labels = args.label or args.checkpoint
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = []
    for label, checkpoint in zip(labels, args.checkpoint):
        pipeline = PoseGraphPipeline.from_pretrained(checkpoint)
        print(f"{label} | round trip, mean limb peak by timestep: {round_trip(pipeline)}")
        for prompt in args.prompt:
            seen, final = trajectory(pipeline, prompt, args.seeds, args.steps, args.guidance_scale, args.show)
            keypoints, confidence = heatmaps_to_keypoints(final, return_confidence=True)
            for j, seed in enumerate(args.seeds):
                limb_conf = confidence[j, LIMB_JOINTS]
                weakest = LIMB_JOINTS[int(limb_conf.argmin())]
                lost = [(COCO_17.names[k], float(confidence[j, k]), local_maxima(final[j, k]))
                        for k in LIMB_JOINTS if confidence[j, k] < 0.2]
                print(f"{label} | {prompt} | seed {seed}: lost {lost or 'none'}")
                rows.append((f"{label}\n{prompt[:38]}\nseed {seed}", [colour_map(seen[s][j]) for s in args.show],
                             keypoints[j], final[j, weakest], COCO_17.names[weakest], float(confidence[j, weakest])))
    size = final.shape[-1]
    columns = len(args.show) + 2
    fig, axes = plt.subplots(len(rows), columns, figsize=(1.9 * columns, 1.9 * len(rows)), squeeze=False)
    for r, (title, images, keypoints, weak_map, weak_name, weak_peak) in enumerate(rows):
        for c, (image, step) in enumerate(zip(images, args.show)):
            axes[r, c].imshow(image)
            axes[r, c].set_title(f"x0 at step {step}" if r == 0 else "", fontsize=8)
        axes[r, columns - 2].imshow(draw_openpose(keypoints, size, out_size=256))
        axes[r, columns - 2].set_title("decoded" if r == 0 else "", fontsize=8)
        axes[r, columns - 1].imshow(weak_map.numpy(), vmin=0, vmax=1, cmap="magma")
        axes[r, columns - 1].set_title(f"{weak_name} peak {weak_peak:.2f}", fontsize=7)
        axes[r, 0].set_ylabel(title, fontsize=6, rotation=0, ha="right", va="center")
        for ax in axes[r]:
            ax.set_xticks([])
            ax.set_yticks([])
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=100)
    print(f"wrote {args.out}")
    return args.out


if __name__ == "__main__":
    main()
