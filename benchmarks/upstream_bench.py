"""The paper authors' released GUNet through posegraph's pipeline against the release's own sampling recipe.

    .venv/bin/python benchmarks/upstream_bench.py [--poses 8] [--batch-size 8] [--upstream-poses 2] [--repeats 1]
    .venv/bin/python benchmarks/upstream_bench.py --small      # tiny widths: checks the script, measures nothing

The model is :class:`posegraph.models.UpstreamGUNet` in the release's configuration (diffusers'
UNet2DConditionModel, 320/640/1280/1280 channels, 2 layers per block, 17 heatmap channels, 32x32 heatmaps,
CLIP-L cross-attention, the spatial block after the middle block: 860 M parameters) with random weights,
a CLIP-L-sized text model (12 layers, 768 wide, every prompt padded to 77 tokens) with random weights
and a letter-level vocabulary written here, and the release's PNDM schedule (Stable Diffusion 1.5's).
The speed does not depend on the weights.

Two ways to draw poses, timed in turns:

* **posegraph**: ``pipe(prompts, scheduler="dpm-solver++", num_inference_steps=20, guidance_scale=5,
  batch_size=B)``: ``--poses`` distinct prompts, one pose each, ``B`` poses denoised together.
* **the release's recipe**: what its own code does per pose, run through posegraph's pipeline because that
  code runs only on CUDA: one pose per call (batch 2 under guidance), its stored PNDM scheduler, 27 steps,
  guidance 7.5, ``--upstream-poses`` calls.

Prints Markdown: seconds per pose and poses/s of each, and the ratio.
"""
from __future__ import annotations

import argparse
import json
import tempfile
import warnings
from pathlib import Path

import torch
from diffusers import PNDMScheduler
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

from common import header, seconds

from posegraph.data.synthetic import SyntheticPoseGenerator
from posegraph.models import UpstreamGUNet
from posegraph.pipelines import PoseGraphPipeline
from posegraph.text import TextEncoder

#: The released unet's configuration (diffusers' UNet2DConditionModel keys).
RELEASE_UNET = dict(
    sample_size=32, in_channels=17, out_channels=17, layers_per_block=2, block_out_channels=(320, 640, 1280, 1280),
    down_block_types=("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
    up_block_types=("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3,
    cross_attention_dim=768, attention_head_dim=8, norm_num_groups=32, flip_sin_to_cos=True, freq_shift=0,
)
#: CLIP-L's text model (openai/clip-vit-large-patch14), less its 49,408-token vocabulary.
RELEASE_TEXT = dict(hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12,
                    max_position_embeddings=77)
#: Tiny widths for --small: the same layout, seconds to run.
SMALL_UNET = {**RELEASE_UNET, "layers_per_block": 1, "block_out_channels": (8, 8, 16, 16), "cross_attention_dim": 16,
              "attention_head_dim": 2, "norm_num_groups": 4}
SMALL_TEXT = dict(hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2,
                  max_position_embeddings=77)
#: The release's training and sampling schedule: Stable Diffusion 1.5's PNDM scheduler.
RELEASE_SCHEDULE = dict(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", skip_prk_steps=True,
                        set_alpha_to_one=False, steps_offset=1)


def release_pipeline(small: bool, folder: Path) -> PoseGraphPipeline:
    """The release's components with random weights; the tokenizer's letter-level vocabulary goes into ``folder``."""
    letters = list("abcdefghijklmnopqrstuvwxyz")
    tokens = letters + [c + "</w>" for c in letters] + ["<|startoftext|>", "<|endoftext|>"]
    (folder / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(tokens)}))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    tokenizer = CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"), model_max_length=77)
    text_config = CLIPTextConfig(vocab_size=len(tokens), bos_token_id=len(tokens) - 2, eos_token_id=len(tokens) - 1,
                                 pad_token_id=len(tokens) - 1, **(SMALL_TEXT if small else RELEASE_TEXT))
    torch.manual_seed(0)
    encoder = TextEncoder(CLIPTextModel(text_config), tokenizer, "random CLIP-L", max_length=77)
    unet = UpstreamGUNet(**(SMALL_UNET if small else RELEASE_UNET)).eval()
    pipe = PoseGraphPipeline(unet=unet, scheduler=PNDMScheduler(**RELEASE_SCHEDULE), text_encoder=encoder)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--poses", type=int, default=8, help="poses posegraph draws per timed call (distinct prompts)")
    parser.add_argument("--batch-size", type=int, default=8, help="poses posegraph denoises together")
    parser.add_argument("--steps", type=int, default=20, help="posegraph's DPM-Solver++ steps")
    parser.add_argument("--upstream-poses", type=int, default=2, help="poses drawn with the release's recipe per repeat")
    parser.add_argument("--upstream-steps", type=int, default=27, help="the release's PNDM steps")
    parser.add_argument("--repeats", type=int, default=1, help="timed rounds (median)")
    parser.add_argument("--small", action="store_true", help="tiny widths: check that the script runs, measure nothing")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", message=".*exceed the limit.*")  # letter-level tokens: long prompts truncate

    with tempfile.TemporaryDirectory() as folder:
        pipe = release_pipeline(args.small, Path(folder))
    captions = list(SyntheticPoseGenerator(size=32, seed=0).sample(args.poses + args.upstream_poses).captions)
    ours_prompts, theirs_prompts = captions[: args.poses], captions[args.poses:]

    def ours():
        pipe(ours_prompts, scheduler="dpm-solver++", num_inference_steps=args.steps, guidance_scale=5.0,
             batch_size=args.batch_size, generator=0, return_heatmaps=False)

    def theirs():
        for i, prompt in enumerate(theirs_prompts):
            pipe(prompt, scheduler=None, num_inference_steps=args.upstream_steps, guidance_scale=7.5, batch_size=1,
                 generator=i, return_heatmaps=False)

    with torch.inference_mode():
        pipe(captions[:1], scheduler="dpm-solver++", num_inference_steps=1, batch_size=1)  # warm-up
        rounds = [(seconds(ours), seconds(theirs)) for _ in range(args.repeats)]
    ours_s = sorted(r[0] for r in rounds)[len(rounds) // 2] / args.poses
    theirs_s = sorted(r[1] for r in rounds)[len(rounds) // 2] / args.upstream_poses

    parameters = sum(p.numel() for p in pipe.unet.parameters())
    workload = (f"{'TINY widths (--small)' if args.small else 'the release configuration'}, random weights: unet "
                f"{parameters / 1e6:,.1f} M parameters, {pipe.unet.heatmap_size}x{pipe.unet.heatmap_size} heatmaps, "
                f"CLIP text model {sum(p.numel() for p in pipe.text_encoder.model.parameters()) / 1e6:,.1f} M "
                f"parameters padded to 77 tokens; text encoding included; median of {args.repeats} round(s), "
                "the two ways timed in turns after a warm-up")
    lines = header("The released GUNet through posegraph (posegraph.models.UpstreamGUNet)", "upstream_bench.py", argv,
                   workload) + [
        "| how | scheduler | steps | guidance | poses per unet call | s per pose | poses/s |",
        "|---|---|---:|---:|---:|---:|---:|",
        f"| posegraph pipeline | DPM-Solver++ | {args.steps} | 5 | {args.batch_size} | {ours_s:,.2f} | {1 / ours_s:,.3f} |",
        f"| the release's recipe (one pose per call) | PNDM (stored) | {args.upstream_steps} | 7.5 | 1 | "
        f"{theirs_s:,.2f} | {1 / theirs_s:,.3f} |",
        "",
        f"posegraph draws poses {theirs_s / ours_s:,.1f}x as fast as the release's recipe on this machine "
        f"({args.poses} poses vs {args.upstream_poses}). The release's own code runs only on CUDA and only at batch "
        "sizes 2, 17 and 34, so its recipe is run here through posegraph's pipeline (same model function, scheduler "
        "and text encoding).",
    ]
    section = "\n".join(lines)
    print(section)
    return section


if __name__ == "__main__":
    main()
