"""The Gradio page and ``python -m posegraph.app``.

    python -m posegraph.app --checkpoint runs/demo              # http://127.0.0.1:7860
    python -m posegraph.app --checkpoint runs/demo --host 0.0.0.0 --port 8000
    python -m posegraph.app --checkpoint runs/demo --share      # a temporary public gradio.live link

The page: a prompt and a negative prompt, the number of poses, seed, steps, scheduler, guidance and canvas
size; a gallery of ControlNet-ready OpenPose images; the downloads (each pose's PNG and OpenPose JSON and a
zip of all of them); and, for the pose picked in the gallery, its two files and its keypoints. A progress
bar runs while it samples. One request is sampled at a time; others wait in Gradio's queue.

Whatever goes wrong in a request (an empty prompt, a count over ``--max-poses``, no checkpoint, one that
did not load, a failure while sampling) becomes a message in the page; the server keeps serving. Without
``--checkpoint`` the page says how to train one.

The picked pose is kept in the page's state (``selected``), so controls that act on one pose (keep some
joints, edit with a strength, add people) can be added next to the picked pose's panel and passed to the
pipeline with it.
"""
import argparse
import logging
import os
import sys

from posegraph.app.poses import PoseBatch, PoseMaker, RequestError, _one_line

__all__ = ["build_app", "main", "INSTALL_HINT"]

logger = logging.getLogger(__name__)

INSTALL_HINT = "the web app needs Gradio: pip install 'posegraph[app]' (or: pip install gradio)"
EXAMPLES = ["a woman waving her left hand", "a man sitting on a chair", "a person kicking with the right leg",
            "a child raising both arms"]


def _gradio():
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # nothing leaves the machine
    try:
        import gradio
    except ImportError as error:
        raise ImportError(INSTALL_HINT) from error
    return gradio


def build_app(maker: PoseMaker):
    """The Gradio ``Blocks`` page serving ``maker``; launch it with ``.queue().launch()`` (see :func:`main`).

    Element ids the browser test and scripts rely on: ``prompt``, ``negative-prompt``, ``num-poses``,
    ``seed``, ``steps``, ``generate``, ``status``, ``answers`` (requests answered), ``gallery``, ``downloads``, ``selected-files``, ``notice``.
    """
    gr = _gradio()

    def generate(prompt, negative_prompt, num_poses, seed, steps, scheduler, guidance_scale, width, height, answers,
                 progress=gr.Progress(track_tqdm=True)):
        answers = int(answers or 0) + 1
        try:
            batch = maker.make(prompt, negative_prompt, num_poses, seed, steps, scheduler, guidance_scale, width,
                               height)
        except RequestError as error:
            return *_failed(str(error)), answers
        except Exception as error:  # noqa: BLE001 - a failure while sampling is a message, not a dead server
            logger.exception("sampling failed")
            return *_failed(f"Sampling failed: {_one_line(error)} (the server log has the details)."), answers
        seeds = [record["seed"] for record in batch.records]
        drawn = (f"seed {seeds[0]}" if len(seeds) == 1 else f"seeds {seeds[0]}–{seeds[-1]}"
                 if seeds == list(range(seeds[0], seeds[0] + len(seeds))) else "random seeds")
        status = (f"{len(batch.images)} poses for “{batch.records[0]['prompt']}” ({drawn}) in {batch.seconds:.1f} s. "
                  "Pick a pose for its PNG and OpenPose JSON; poses.zip holds them all.")
        gallery = [(str(path), batch.caption(i)) for i, path in enumerate(batch.images)]
        downloads = [str(batch.archive)] + [str(p) for pair in zip(batch.images, batch.jsons) for p in pair]
        return gallery, status, downloads, *_picked(batch, 0), batch, answers

    def _failed(message: str):
        return [], f"⚠️ {message}", None, None, "", None

    def _picked(batch: PoseBatch | None, index: int):
        if batch is None or not 0 <= index < len(batch.images):
            return None, ""
        record = batch.records[index]
        info = (f"Pose {batch.caption(index)}, {record['width']}x{record['height']} px: "
                f"`{batch.images[index].name}` (ControlNet OpenPose image) and `{batch.jsons[index].name}` "
                f"(OpenPose JSON). `python -m posegraph.sample --prompt \"{record['prompt']}\" --seed {record['seed']} "
                f"--num-samples 1` draws it again.")
        return [str(batch.images[index]), str(batch.jsons[index])], info

    def pick(batch: PoseBatch | None, event: gr.SelectData):
        return *_picked(batch, event.index), event.index

    with gr.Blocks(title="posegraph: text to pose", analytics_enabled=False, delete_cache=(3600, 3600)) as app:
        batch = gr.State(None)
        selected = gr.State(0)  # the picked pose's index: where per-pose controls will read it
        # requests answered in this page (poses or a message): scripts driving the page wait for it to grow
        answers = gr.Number(0, precision=0, visible="hidden", elem_id="answers")
        gr.Markdown("## posegraph: text → pose\nDescribe a pose; get OpenPose skeletons ready for ControlNet.")
        gr.Markdown(f"⚠️ {maker.problem}", elem_id="notice", visible=maker.problem is not None)
        with gr.Row():
            with gr.Column(scale=2, min_width=280):
                prompt = gr.Textbox(label="Prompt", placeholder=EXAMPLES[0], lines=2, elem_id="prompt")
                negative_prompt = gr.Textbox(label="Negative prompt", placeholder="what to steer away from (optional)",
                                             elem_id="negative-prompt")
                with gr.Row():
                    num_poses = gr.Number(8, precision=0, label=f"Poses (1–{maker.max_poses})", elem_id="num-poses")
                    seed = gr.Number(0, precision=0, label="Seed (−1: random)", elem_id="seed")
                with gr.Row():
                    steps = gr.Number(maker.default_steps, precision=0, label=f"Steps (1–{maker.max_steps})",
                                      elem_id="steps")
                    scheduler = gr.Dropdown(maker.schedulers, value=maker.default_scheduler, label="Scheduler",
                                            elem_id="scheduler")
                guidance_scale = gr.Slider(0, 15, value=maker.default_guidance, step=0.5, label="Guidance",
                                           interactive=not maker.distilled, elem_id="guidance")
                with gr.Accordion("Canvas size", open=False):
                    width = gr.Slider(64, maker.max_canvas, value=512, step=8, label="Width (px)", elem_id="width")
                    height = gr.Slider(64, maker.max_canvas, value=512, step=8, label="Height (px)", elem_id="height")
                button = gr.Button("Generate poses", variant="primary", elem_id="generate")
                gr.Examples(EXAMPLES, inputs=prompt)
            with gr.Column(scale=3, min_width=320):
                status = gr.Markdown(elem_id="status")
                # a click picks a pose (its files below) rather than opening a preview; fullscreen shows them large
                gallery = gr.Gallery(label="Poses (ControlNet OpenPose images): click one to pick it", columns=4,
                                     object_fit="contain", allow_preview=False,
                                     buttons=["download", "fullscreen"], elem_id="gallery")
                with gr.Row():
                    selected_files = gr.File(label="Picked pose: PNG and OpenPose JSON", file_count="multiple",
                                             interactive=False, height=240, elem_id="selected-files")
                    downloads = gr.File(label="All poses: poses.zip, then each PNG and JSON", file_count="multiple",
                                        interactive=False, height=240, elem_id="downloads")
                selected_info = gr.Markdown(elem_id="selected-info")

        inputs = [prompt, negative_prompt, num_poses, seed, steps, scheduler, guidance_scale, width, height, answers]
        outputs = [gallery, status, downloads, selected_files, selected_info, batch, answers]
        for trigger in (button.click, prompt.submit):
            trigger(generate, inputs, outputs, api_name="generate" if trigger == button.click else False,
                    concurrency_limit=1, show_progress="full", show_progress_on=[gallery]) \
                .then(lambda: 0, None, selected, api_name=False)
        gallery.select(pick, [batch], [selected_files, selected_info, selected], api_name=False)
    return app


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m posegraph.app", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--checkpoint", default=None,
                        help="training run directory, checkpoint directory or saved pipeline (e.g. runs/demo)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (0.0.0.0: every interface of this machine)")
    parser.add_argument("--port", type=int, default=None,
                        help="port (default: $GRADIO_SERVER_PORT or 7860, the next free one if taken)")
    parser.add_argument("--share", action="store_true", help="also serve a temporary public link through gradio.live")
    parser.add_argument("--device", default=None, help="torch device (default: cuda when available, else cpu)")
    parser.add_argument("--autocast", choices=["bf16", "fp16"], default=None, help="run the unet in half precision")
    parser.add_argument("--max-poses", type=int, default=64, help="the most poses one request may ask for")
    parser.add_argument("--max-steps", type=int, default=100, help="the most denoising steps one request may ask for")
    parser.add_argument("--no-warm-up", action="store_true",
                        help="skip drawing one pose at start-up (the first request then pays for lazy initialisation)")
    return parser


def main(argv: list[str] | None = None) -> None:
    """Load the checkpoint (or note why not), build the page and serve it until interrupted."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # gradio's own start-up requests
    try:
        _gradio()
    except ImportError as error:
        sys.exit(f"python -m posegraph.app: {error}")
    import torch

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    maker = PoseMaker.from_checkpoint(args.checkpoint, device=device, autocast=args.autocast,
                                      max_poses=args.max_poses, max_steps=args.max_steps)
    if maker.problem:
        print(f"python -m posegraph.app: {maker.problem}\nServing the page anyway; it shows this message.",
              file=sys.stderr, flush=True)
    elif not args.no_warm_up:
        maker.warm_up()
    app = build_app(maker)
    try:
        app.queue(default_concurrency_limit=1).launch(server_name=args.host, server_port=args.port, share=args.share,
                                                      show_error=False, allowed_paths=[str(maker.out_dir)])
    finally:
        maker.close()
