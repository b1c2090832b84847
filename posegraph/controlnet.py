"""Hand posegraph's poses to an OpenPose ControlNet: diffusers' Stable Diffusion (1.x / 2.x) and SDXL pipelines.

    from posegraph.controlnet import load_controlnet_pipeline, run_controlnet

    sd = load_controlnet_pipeline("lllyasviel/control_v11p_sd15_openpose", "stable-diffusion-v1-5/stable-diffusion-v1-5")
    image = run_controlnet(sd, "an astronaut dancing on the moon", out.keypoints[0], canvas_size=512)[0]

:func:`load_controlnet_pipeline` takes the OpenPose ControlNet and the base model the user chooses (hub ids,
local folders, or for the ControlNet an already loaded ``ControlNetModel``) and builds a
``StableDiffusionControlNetPipeline``, or a ``StableDiffusionXLControlNetPipeline`` for an SDXL ControlNet.
:func:`control_image` turns what posegraph gives (keypoints, a ``pose_NNNN.png``, an OpenPose JSON file)
into the conditioning image, drawn the way ControlNet's OpenPose annotator draws
(:func:`posegraph.render.draw_openpose`), and :func:`run_controlnet` runs the pipeline at that image's size.

Nothing is downloaded unless a hub id is given; set ``HF_HUB_OFFLINE=1`` to make sure. diffusers is a
dependency of posegraph already; the model weights are the user's choice and are not part of posegraph.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import torch

from posegraph.render import draw_openpose

__all__ = ["control_image", "load_controlnet_pipeline", "run_controlnet", "is_sdxl_controlnet"]

#: Stable Diffusion's latents are 1/8 of the image side, so images must be multiples of 8 pixels.
SIZE_MULTIPLE = 8


def control_image(pose, canvas_size=None, size=None):
    """The OpenPose conditioning image of a pose, as a ``PIL.Image`` (RGB, black background).

    Args:
        pose: one of
            - keypoints ``(17, 3)`` or ``(people, 17, 3)`` (torch or numpy) in canvas pixels, e.g.
              ``PoseGraphPipelineOutput.keypoints[i]`` (several people share one image);
            - the path of an OpenPose JSON file (``pose_NNNN_keypoints.json`` from ``python -m posegraph.sample``
              or the app), whose canvas size is in the file;
            - the path of a pose image (``pose_NNNN.png``), a ``PIL.Image`` or a ``(height, width, 3)`` uint8 array,
              used as drawn.
        canvas_size: the keypoints' canvas, ``S`` or ``(height, width)`` (what the posegraph pipeline got as
            ``canvas_size``); needed for keypoints only.
        size: the image's ``(height, width)`` or side; default the canvas (or image) size rounded down to a
            multiple of 8 (what Stable Diffusion accepts). The pose is stretched to it.

    Raises:
        ValueError: keypoints without ``canvas_size``, or a size that is not a positive multiple of 8.
    """
    from PIL import Image

    if isinstance(pose, (str, os.PathLike)) and Path(pose).suffix.lower() == ".json":
        from posegraph.io import read_openpose_json

        content = json.loads(Path(pose).read_text())
        canvas_size = (int(content["canvas_height"]), int(content["canvas_width"]))
        pose = read_openpose_json(pose)
    if isinstance(pose, (str, os.PathLike)):
        pose = Image.open(pose)
    if isinstance(pose, Image.Image) or (isinstance(pose, np.ndarray) and pose.dtype == np.uint8 and pose.ndim == 3):
        image = pose.convert("RGB") if isinstance(pose, Image.Image) else Image.fromarray(pose[..., :3])
        height, width = _size(size, (image.height, image.width))
        return image if image.size == (width, height) else image.resize((width, height), Image.NEAREST)

    if canvas_size is None:
        raise ValueError("control_image: keypoints need canvas_size, the (height, width) the posegraph pipeline drew "
                         "them on (its canvas_size argument)")
    canvas = (canvas_size, canvas_size) if np.isscalar(canvas_size) else tuple(canvas_size)
    height, width = _size(size, canvas)
    return Image.fromarray(draw_openpose(pose, canvas, (height, width)))


def _size(size, default: tuple[int, int]) -> tuple[int, int]:
    if size is None:
        height, width = (max(SIZE_MULTIPLE, int(side) // SIZE_MULTIPLE * SIZE_MULTIPLE) for side in default)
        return height, width
    height, width = (size, size) if np.isscalar(size) else tuple(size)
    if min(height, width) <= 0 or height % SIZE_MULTIPLE or width % SIZE_MULTIPLE:
        raise ValueError(f"control_image: size must be positive multiples of {SIZE_MULTIPLE} (height, width) for "
                         f"Stable Diffusion, got {size!r}")
    return int(height), int(width)


def is_sdxl_controlnet(controlnet) -> bool:
    """Whether a ControlNet (a ``ControlNetModel`` or its config) belongs to SDXL: its time embedding takes
    SDXL's added size conditioning (``addition_embed_type="text_time"``)."""
    config = getattr(controlnet, "config", controlnet)
    return dict(config).get("addition_embed_type") == "text_time"


def load_controlnet_pipeline(controlnet, base_model, *, sdxl: bool | None = None, torch_dtype: torch.dtype | None = None,
                             device: str | torch.device | None = None, **kwargs):
    """A diffusers ControlNet pipeline around the user's OpenPose ControlNet and base model.

    Args:
        controlnet: the OpenPose ControlNet: a hub id (``"lllyasviel/control_v11p_sd15_openpose"``,
            ``"thibaud/controlnet-openpose-sdxl-1.0"``), a local folder, or a loaded ``ControlNetModel``.
        base_model: the Stable Diffusion pipeline it was trained for, by hub id or local folder
            (``"stable-diffusion-v1-5/stable-diffusion-v1-5"``, ``"stabilityai/stable-diffusion-xl-base-1.0"``).
        sdxl: build the SDXL pipeline; default: decided by the ControlNet (:func:`is_sdxl_controlnet`).
        torch_dtype: e.g. ``torch.float16`` on a GPU.
        device: where to run (default: where ``from_pretrained`` leaves it, the CPU).
        kwargs: passed to the pipeline's ``from_pretrained`` (``variant="fp16"``, ``safety_checker=None``, ...).

    Returns:
        ``StableDiffusionControlNetPipeline`` or ``StableDiffusionXLControlNetPipeline``.
    """
    from diffusers import ControlNetModel, StableDiffusionControlNetPipeline, StableDiffusionXLControlNetPipeline

    dtype = {} if torch_dtype is None else {"torch_dtype": torch_dtype}
    if not isinstance(controlnet, ControlNetModel):
        controlnet = ControlNetModel.from_pretrained(controlnet, **dtype)
    elif torch_dtype is not None:
        controlnet = controlnet.to(dtype=torch_dtype)
    sdxl = is_sdxl_controlnet(controlnet) if sdxl is None else sdxl
    cls = StableDiffusionXLControlNetPipeline if sdxl else StableDiffusionControlNetPipeline
    pipeline = cls.from_pretrained(base_model, controlnet=controlnet, **dtype, **kwargs)
    return pipeline.to(device) if device is not None else pipeline


def run_controlnet(pipeline, prompt: str | list[str], pose, canvas_size=None, size=None, **kwargs) -> list:
    """Generate images of ``prompt`` in the pose, at the pose image's size.

    Args:
        pipeline: from :func:`load_controlnet_pipeline` (or any diffusers ControlNet text-to-image pipeline).
        prompt: the image prompt (what the picture shows; the pose comes from ``pose``).
        pose, canvas_size, size: as :func:`control_image` takes them.
        kwargs: passed to the pipeline: ``negative_prompt``, ``num_inference_steps``, ``guidance_scale``,
            ``controlnet_conditioning_scale``, ``generator``, ``num_images_per_prompt``, ...

    Returns:
        the generated ``PIL.Image`` list.
    """
    image = control_image(pose, canvas_size, size)
    return pipeline(prompt, image=image, height=image.height, width=image.width, **kwargs).images
