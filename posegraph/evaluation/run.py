"""Evaluating a pipeline on held-out captions: the evaluation set, sampling, every metric, repeats.

``python -m posegraph.evaluate`` is the command line around :func:`evaluate_pipeline`. The evaluation set
(:class:`EvaluationSet`) holds held-out captions, the pose each was written for, and held-out real poses:

* synthetic: captions and poses drawn by :class:`~posegraph.data.synthetic.SyntheticPoseGenerator` from
  :data:`HELD_OUT_SEED`, a seed no training run uses (training draws its data from ``TrainConfig.seed``);
  the real poses are ``samples_per_caption`` further poses of each caption's action from the same stream,
  so real and generated sets have the same size and the same mix of actions;
* coco: the test part of :func:`~posegraph.data.coco.load_coco_pairs` (or a whole val file), one entry per
  caption of each kept image; the real poses are every pose of that split.

Figures computed for the generated poses (see docs/evaluation.md): the paper's protocol, semantic accuracy
(synthetic), structure rates, limb integrity (the share of whole bodies, over the poses of full-body actions
on synthetic data), diversity and multimodality, Frechet pose distance to the real poses and,
with an evaluator, retrieval precision. The real poses get the same semantic, structure, integrity, diversity
and retrieval figures, as the reference each generated figure is read against, and on synthetic data the
paper's protocol too (``real_distance``...: other real poses of each caption's action against its pose).

With ``repeats`` > 1 the whole sampling is repeated with fresh seeds, as the text-to-motion field does,
and each generated figure becomes the mean over repeats with a Student-t 95 % interval; with one repeat
each figure keeps its bootstrap interval over the evaluation set.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
from scipy import stats
from tqdm.auto import tqdm

from posegraph.evaluation.diversity import diversity, multimodality
from posegraph.evaluation.fpd import frechet_pose_distance
from posegraph.evaluation.integrity import full_body, limb_integrity
from posegraph.evaluation.intervals import Estimate, bootstrap_mean
from posegraph.evaluation.paper import paper_protocol
from posegraph.evaluation.retrieval import PoseTextEvaluator, pool_text_embeddings, retrieval_precision
from posegraph.evaluation.semantic import SemanticResult, semantic_accuracy
from posegraph.evaluation.structure import StructureResult, structure_metrics
from posegraph.pipelines import DEFAULT_SCHEDULER
from posegraph.skeleton import COCO_17, convert_keypoints, missing_joints

__all__ = [
    "HELD_OUT_SEED",
    "EvaluationSet",
    "synthetic_evaluation_set",
    "coco_evaluation_set",
    "caption_embeddings",
    "retrieval_pool_size",
    "combine_repeats",
    "evaluate_pipeline",
]

#: Seed of the synthetic generator's held-out stream (training data comes from ``TrainConfig.seed``).
HELD_OUT_SEED = 20_240_917
#: Texts per retrieval pool when the evaluation set has enough distinct ones (the text-to-motion convention).
POOL_SIZE = 32


@dataclass
class EvaluationSet:
    """Held-out captions with their ground-truth poses, and held-out real poses.

    Attributes:
        name: ``"synthetic"`` or ``"coco"``.
        captions: the ``C`` evaluation captions.
        ground_truth: ``(C, 17, 3)`` the pose each caption was written for, in pixels of a ``size`` frame.
        groups: ``(C,)`` labels of captions that describe the same thing (synthetic: the action; coco: the
            image); retrieval draws its negative texts from other groups.
        actions: ``(C,)`` action ids (synthetic), else ``None``.
        real: ``(m, 17, 3)`` held-out real poses (FPD and the real-pose reference figures).
        real_actions: ``(m,)`` their action ids (synthetic), else ``None``.
        real_per_caption: ``real`` as ``(C, s, 17, 3)``, ``s`` real poses of each caption's action
            (synthetic), else ``None``.
        size: side of the keypoints' frame.
        description: facts about where the set comes from, for the report.
    """

    name: str
    captions: list[str]
    ground_truth: np.ndarray
    groups: np.ndarray
    actions: np.ndarray | None
    real: np.ndarray
    real_actions: np.ndarray | None
    real_per_caption: np.ndarray | None
    size: int
    description: dict

    def __len__(self) -> int:
        return len(self.captions)


def synthetic_evaluation_set(num_captions: int, size: int, samples_per_caption: int = 10,
                             seed: int = HELD_OUT_SEED) -> EvaluationSet:
    """``num_captions`` held-out synthetic captions, their poses, and ``samples_per_caption`` real poses each."""
    from posegraph.data.synthetic import SyntheticPoseGenerator

    if num_captions < 1:
        raise ValueError(f"synthetic_evaluation_set: num_captions must be positive, got {num_captions}")
    generator = SyntheticPoseGenerator(size=size, seed=seed)
    held_out = generator.sample(num_captions)
    real_actions = np.repeat(held_out.actions, samples_per_caption)
    real = generator.sample(len(real_actions), action=real_actions).keypoints
    return EvaluationSet(
        name="synthetic", captions=list(held_out.captions), ground_truth=held_out.keypoints,
        groups=np.asarray(held_out.actions), actions=np.asarray(held_out.actions), real=real,
        real_actions=real_actions, real_per_caption=real.reshape(num_captions, samples_per_caption, 17, 3),
        size=size, description={"generator_seed": seed, "real_poses": len(real)},
    )


def coco_evaluation_set(keypoints_file, captions_file, size: int, num_captions: int | None = None,
                        split: str = "test", seed: int = 0) -> EvaluationSet:
    """COCO evaluation captions (every caption of the split's images, or ``num_captions`` drawn with ``seed``)."""
    from posegraph.data.coco import load_coco_pairs

    pairs = load_coco_pairs(keypoints_file, captions_file, size=size, split=split)
    if len(pairs) == 0:
        raise ValueError(f"{keypoints_file}: no single-person pairs in the {split!r} split ({pairs.summary})")
    pose_of = np.array([i for i, captions in enumerate(pairs.captions) for _ in captions])
    captions = [caption for captions in pairs.captions for caption in captions]
    if num_captions is not None and num_captions < len(captions):
        rows = np.sort(np.random.default_rng(seed).choice(len(captions), num_captions, replace=False))
        pose_of, captions = pose_of[rows], [captions[i] for i in rows]
    return EvaluationSet(
        name="coco", captions=captions, ground_truth=pairs.keypoints[pose_of], groups=pairs.image_ids[pose_of],
        actions=None, real=pairs.keypoints, real_actions=None, real_per_caption=None, size=size,
        description={"coco_keypoints": str(keypoints_file), "coco_captions": str(captions_file), "coco_split": split,
                     "images": len(pairs), "real_poses": len(pairs)},
    )


def caption_embeddings(text_encoder, captions: Sequence[str]) -> np.ndarray:
    """``(len(captions), D)`` pooled embeddings; every distinct caption encoded once, so repeats are identical."""
    embeddings, mask, rows = text_encoder.encode_unique(list(captions))
    return pool_text_embeddings(embeddings, mask).float().cpu().numpy()[rows.numpy()]


def retrieval_pool_size(captions: Sequence[str], groups: Sequence, limit: int = POOL_SIZE) -> int:
    """The largest pool (at most ``limit``) every caption can fill with distinct texts of other groups."""
    texts = dict(zip(captions, np.asarray(groups).tolist()))  # distinct text -> its group
    labels, counts = np.unique(list(texts.values()), return_counts=True)
    return int(min(limit, len(texts) - counts.max() + 1)) if len(labels) > 1 else 1


def _t_interval(values: Sequence[float]) -> Estimate:
    """Mean over repeats with a Student-t 95 % interval (NaN repeats dropped; one repeat has no interval)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    method = f"Student-t interval over {v.size} repeats of the sampling"
    if v.size == 0:
        return Estimate(np.nan, np.nan, np.nan, 0, method)
    half = stats.t.ppf(0.975, v.size - 1) * v.std(ddof=1) / np.sqrt(v.size) if v.size > 1 else np.nan
    return Estimate(float(v.mean()), float(v.mean() - half), float(v.mean() + half), int(v.size), method)


def combine_repeats(results: Sequence[Any]) -> Any:
    """One result of the same kind from the results of several repeats (Estimates -> t intervals over them).

    Works on an :class:`Estimate`, a mapping of results, a :class:`SemanticResult` (confusion averaged) or a
    :class:`StructureResult` (per-joint missing rates averaged, per-sample flags concatenated).
    """
    first = results[0]
    if isinstance(first, Estimate):
        return _t_interval([r.value for r in results])
    if isinstance(first, SemanticResult):
        return SemanticResult(
            overall=_t_interval([r.overall.value for r in results]),
            per_action=combine_repeats([r.per_action for r in results]),
            confusion=np.mean([r.confusion for r in results], axis=0), actions=first.actions,
            predicates=first.predicates,
        )
    if isinstance(first, StructureResult):
        return StructureResult(
            rates=combine_repeats([r.rates for r in results]),
            mean_asymmetry=_t_interval([r.mean_asymmetry.value for r in results]),
            missing_fraction=_t_interval([r.missing_fraction.value for r in results]),
            missing_per_joint={k: float(np.mean([r.missing_per_joint[k] for r in results]))
                               for k in first.missing_per_joint},
            per_sample={k: np.concatenate([r.per_sample[k] for r in results]) for k in first.per_sample},
        )
    if isinstance(first, Mapping):
        return {key: combine_repeats([r[key] for r in results]) for key in first}
    raise TypeError(f"combine_repeats: cannot combine results of type {type(first).__name__}")


def _sample(pipeline, captions: list[str], samples_per_caption: int, size: int, seed: int, desc: str,
            **options) -> np.ndarray:
    """``(C, s, 17, 3)`` COCO-17 keypoints in heatmap pixels (the canvas is the heatmap frame), converted from
    the model's layout."""
    pipeline.set_progress_bar_config(desc=desc)
    output = pipeline(captions, num_poses_per_prompt=samples_per_caption, generator=seed, canvas_size=size,
                      return_heatmaps=False, **options)
    keypoints = convert_keypoints(output.keypoints, pipeline.skeleton, COCO_17)
    return keypoints.numpy().reshape(len(captions), samples_per_caption, 17, 3)


def _generated_sections(generated: np.ndarray, data: EvaluationSet, evaluator, texts, pool_size: int,
                        n_resamples: int) -> dict[str, Any]:
    """Every figure of the generated poses ``(C, s, 17, 3)``."""
    s = generated.shape[1]
    flat = generated.reshape(-1, 17, 3)
    boot = dict(n_resamples=n_resamples)
    sections = {"paper_protocol": paper_protocol(generated, data.ground_truth, data.size, **boot)}
    if data.actions is not None:
        sections["semantic_accuracy"] = semantic_accuracy(flat, np.repeat(data.actions, s), **boot)
    sections["structure_generated"] = structure_metrics(flat, **boot)
    sections["limb_integrity"] = {"whole": _whole_bodies(flat, np.repeat(data.actions, s) if data.actions is not None
                                                         else None, n_resamples)}
    sections["diversity"] = {"diversity": diversity(flat, **boot), "multimodality": multimodality(generated, **boot)}
    sections["frechet_pose_distance"] = {"fpd": frechet_pose_distance(flat, data.real)}
    if evaluator is not None and pool_size >= 2:
        sections["retrieval"] = retrieval_precision(evaluator, flat, np.repeat(texts, s, axis=0),
                                                    groups=np.repeat(data.groups, s), pool_size=pool_size, **boot)
    return sections


def _whole_bodies(keypoints: np.ndarray, actions, n_resamples: int) -> Estimate:
    """The fraction of ``(n, 17, 3)`` poses with all 12 limb joints in place (:func:`limb_integrity`), over the
    poses of full-body actions where ``actions`` are known."""
    keep = full_body(actions) if actions is not None else slice(None)
    return bootstrap_mean(limb_integrity(keypoints[keep]).astype(float), n_resamples=n_resamples, unit="poses")


def _real_sections(data: EvaluationSet, evaluator, texts, pool_size: int, n_resamples: int) -> dict[str, Any]:
    """The same figures for the held-out real poses (the reference)."""
    boot = dict(n_resamples=n_resamples)
    sections = {"structure_real": structure_metrics(data.real, **boot),
                "diversity": {"real_diversity": diversity(data.real, **boot)},
                "limb_integrity": {"real_whole": _whole_bodies(data.real, data.real_actions, n_resamples)}}
    if data.real_actions is not None:
        sections["semantic_accuracy_real"] = semantic_accuracy(data.real, data.real_actions, **boot)
    if data.real_per_caption is not None:
        sections["diversity"]["real_multimodality"] = multimodality(data.real_per_caption, **boot)
        real = paper_protocol(data.real_per_caption, data.ground_truth, data.size, **boot)
        sections["paper_protocol"] = {f"real_{name}": estimate for name, estimate in real.items()}
    if evaluator is not None and pool_size >= 2:
        real = retrieval_precision(evaluator, data.ground_truth, texts, groups=data.groups, pool_size=pool_size,
                                   **boot)
        sections["retrieval"] = {f"real_{name}": estimate for name, estimate in real.items()}
    return sections


#: Section order in the report.
SECTION_ORDER = ("paper_protocol", "semantic_accuracy", "semantic_accuracy_real", "structure_generated",
                 "structure_real", "limb_integrity", "diversity", "frechet_pose_distance", "retrieval")


def evaluate_pipeline(
    pipeline,
    data: EvaluationSet,
    *,
    samples_per_caption: int = 10,
    num_inference_steps: int | None = None,
    scheduler: str | None = DEFAULT_SCHEDULER,
    guidance_scale: float | None = None,
    seed: int = 0,
    repeats: int = 1,
    batch_size: int = 64,
    evaluator: PoseTextEvaluator | None = None,
    n_resamples: int = 1000,
) -> tuple[dict[str, Any], dict[str, Any], np.ndarray]:
    """Sample ``samples_per_caption`` poses per caption of ``data`` and compute every figure.

    Args:
        pipeline: a :class:`~posegraph.pipelines.PoseGraphPipeline` whose heatmap side is ``data.size``.
        data: the evaluation set.
        samples_per_caption: poses per caption (the paper's protocol uses 10); at least 2.
        num_inference_steps, scheduler, guidance_scale, batch_size: passed to the pipeline (``None`` steps or
            guidance: the pipeline's defaults; a distilled checkpoint needs ``scheduler=None``).
        seed: repeat ``r`` draws pose ``i`` with seed ``seed + r * C * samples_per_caption + i``.
        repeats: independent samplings; above 1, generated figures get Student-t intervals over them.
        evaluator: a trained :class:`PoseTextEvaluator` for retrieval precision (``None``: no retrieval).
        n_resamples: bootstrap resamples of the per-figure intervals.

    Returns:
        ``(sections, info, generated)``: the sections for :func:`~posegraph.evaluation.write_report` (in report
        order), facts for its ``meta`` (pose counts, the retrieval pool size) and the poses,
        ``(repeats, C, samples_per_caption, 17, 3)`` COCO-17 keypoints in the set's frame.
    """
    missing = missing_joints(pipeline.skeleton, COCO_17)
    if missing:
        raise ValueError(f"evaluate_pipeline: the metrics (the paper's protocol, the synthetic semantic checker, "
                         f"structure, diversity, FPD, retrieval) are defined on the 17 COCO joints, and the model's "
                         f"{pipeline.skeleton.name} layout has no {', '.join(missing)}; only layouts that hold every "
                         "COCO-17 joint (such as openpose_18) are evaluated, converted to COCO-17")
    if pipeline.unet.heatmap_size != data.size:
        raise ValueError(f"evaluate_pipeline: the evaluation set is in a {data.size}-pixel frame but the model "
                         f"draws {pipeline.unet.heatmap_size}-pixel heatmaps; build the set at that size")
    if samples_per_caption < 2 or repeats < 1:
        raise ValueError(f"evaluate_pipeline: need samples_per_caption >= 2 (variance, multimodality) and "
                         f"repeats >= 1, got {samples_per_caption} and {repeats}")
    texts = pool_size = None
    if evaluator is not None:
        texts = caption_embeddings(pipeline.text_encoder, data.captions)
        pool_size = retrieval_pool_size(data.captions, data.groups)
    options = dict(num_inference_steps=num_inference_steps, scheduler=scheduler, guidance_scale=guidance_scale,
                   batch_size=batch_size)
    num_poses = len(data) * samples_per_caption
    runs, generated = [], []
    for r in range(repeats):
        generated.append(_sample(pipeline, data.captions, samples_per_caption, data.size, seed + r * num_poses,
                                 f"sampling {r + 1}/{repeats}", **options))
        with tqdm(total=1, desc=f"metrics {r + 1}/{repeats}", leave=False) as bar:
            runs.append(_generated_sections(generated[-1], data, evaluator, texts, pool_size, n_resamples))
            bar.update()
    sections = runs[0] if repeats == 1 else combine_repeats(runs)
    for name, real in _real_sections(data, evaluator, texts, pool_size, n_resamples).items():
        sections[name] = {**sections.get(name, {}), **real} if isinstance(real, dict) else real
    info = {"captions": len(data), "samples_per_caption": samples_per_caption, "generated_poses": num_poses,
            "repeats": repeats, **data.description}
    if evaluator is not None:
        info["retrieval_pool_size"] = pool_size
        if pool_size < 2:
            info["retrieval"] = "not computed: every caption belongs to one group, so no pool can be drawn"
    return {name: sections[name] for name in SECTION_ORDER if name in sections}, info, np.stack(generated)
