"""Text-pose retrieval precision from a small contrastive evaluator, as the text-to-motion field does.

:class:`PoseTextEvaluator` embeds a pose (its body-frame coordinates and joint presence, through an
MLP) and a text (a projection of the pooled embedding of a frozen text encoder) in one space where
matching pairs are close. :func:`train_evaluator` fits it on real (pose, text) pairs with a symmetric
InfoNCE loss; pairs that share the same text are all positives of one another, so repeated captions
are not pushed apart. :func:`retrieval_precision` then asks, for each pose, where its own text ranks
among a pool of 32: the text plus 31 others drawn at random among texts of *other* groups (other
texts, or other actions when ``groups`` is given). Top-1 / top-3 precision is the fraction of poses
whose text ranks first / in the first three. The evaluator's own precision on held-out real pairs
(``evaluator.metadata["validation"]``) is the ceiling to read generated figures against.

The evaluator is stored as ``config.json`` (constructor arguments + training metadata) and
``model.safetensors`` in a directory.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch import nn

from posegraph.evaluation.body import NUM_JOINTS, as_keypoints, normalize_poses
from posegraph.evaluation.intervals import Estimate, bootstrap_mean

__all__ = [
    "PoseTextEvaluator",
    "pose_inputs",
    "pool_text_embeddings",
    "train_evaluator",
    "retrieval_precision",
]

CONFIG_NAME, WEIGHTS_NAME = "config.json", "model.safetensors"
POSE_INPUT_DIM = NUM_JOINTS * 3


def pose_inputs(keypoints) -> np.ndarray:
    """``(n, 17, 3)`` keypoints -> ``(n, 51)`` evaluator input: 34 body-frame coordinates (0 where missing) + 17 presence flags."""
    coords, ok, _ = normalize_poses(as_keypoints(keypoints, "pose_inputs: keypoints", ndim=3))
    return np.concatenate([np.nan_to_num(coords, nan=0.0).reshape(len(coords), -1), ok.astype(np.float64)], axis=1)


def pool_text_embeddings(hidden_states: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
    """Masked mean over tokens: ``(batch, tokens, dim)`` (+ ``(batch, tokens)`` mask) -> ``(batch, dim)``."""
    if hidden_states.dim() != 3:
        raise ValueError(f"pool_text_embeddings: expected (batch, tokens, dim), got {tuple(hidden_states.shape)}")
    if attention_mask is None:
        return hidden_states.mean(1)
    mask = attention_mask.to(hidden_states.dtype)[..., None]
    return (hidden_states * mask).sum(1) / mask.sum(1).clamp(min=1)


def _as_text_array(text_embeddings, n: int, caller: str) -> np.ndarray:
    if isinstance(text_embeddings, torch.Tensor):
        text_embeddings = text_embeddings.detach().cpu().numpy()
    array = np.asarray(text_embeddings, dtype=np.float32)
    if array.ndim != 2 or len(array) != n:
        raise ValueError(
            f"{caller}: expected pooled text embeddings (n={n}, dim), got {array.shape}; "
            "pool token embeddings with pool_text_embeddings(hidden_states, attention_mask)"
        )
    return array


class PoseTextEvaluator(nn.Module):
    r"""Pose and text encoders into one unit-norm embedding space (CLIP-style).

    Args:
        text_dim: width of the pooled frozen text embeddings it reads.
        embed_dim: width of the shared space.
        hidden_dim: width of the hidden layers.
        dropout: dropout in the pose MLP during training.

    Shapes:
        keypoints ``(batch, 17, 3)`` in pixels (any frame size), text embeddings ``(batch, text_dim)``
        -> embeddings ``(batch, embed_dim)``; ``forward`` gives logits ``(batch, batch)``.
    """

    def __init__(self, text_dim: int, embed_dim: int = 128, hidden_dim: int = 256, dropout: float = 0.1):
        super().__init__()
        self.config = {"text_dim": text_dim, "embed_dim": embed_dim, "hidden_dim": hidden_dim, "dropout": dropout}
        self.metadata: dict = {}
        self.pose_encoder = nn.Sequential(
            nn.Linear(POSE_INPUT_DIM, hidden_dim), nn.GELU(), nn.Dropout(dropout),
            nn.Linear(hidden_dim, hidden_dim), nn.GELU(),
            nn.Linear(hidden_dim, embed_dim),
        )
        self.text_projection = nn.Sequential(
            nn.LayerNorm(text_dim), nn.Linear(text_dim, hidden_dim), nn.GELU(), nn.Linear(hidden_dim, embed_dim)
        )
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))

    def __repr__(self) -> str:
        c = self.config
        return f"{type(self).__name__}(text_dim={c['text_dim']}, embed_dim={c['embed_dim']}, hidden_dim={c['hidden_dim']})"

    @property
    def device(self) -> torch.device:
        return self.logit_scale.device

    def encode_pose_inputs(self, inputs: torch.Tensor) -> torch.Tensor:
        """``(batch, 51)`` from :func:`pose_inputs` -> ``(batch, embed_dim)`` unit vectors."""
        return F.normalize(self.pose_encoder(inputs), dim=-1)

    def encode_poses(self, keypoints) -> torch.Tensor:
        """``(batch, 17, 3)`` keypoints -> ``(batch, embed_dim)`` unit vectors."""
        inputs = torch.as_tensor(pose_inputs(keypoints), dtype=torch.float32, device=self.device)
        return self.encode_pose_inputs(inputs)

    def encode_texts(self, text_embeddings: torch.Tensor) -> torch.Tensor:
        """``(batch, text_dim)`` pooled text embeddings -> ``(batch, embed_dim)`` unit vectors."""
        text_embeddings = torch.as_tensor(text_embeddings, dtype=torch.float32, device=self.device)
        if text_embeddings.dim() != 2 or text_embeddings.shape[1] != self.config["text_dim"]:
            raise ValueError(
                f"{self!r}.encode_texts: expected (batch, {self.config['text_dim']}) pooled embeddings, "
                f"got {tuple(text_embeddings.shape)}; was it trained with another text encoder?"
            )
        return F.normalize(self.text_projection(text_embeddings), dim=-1)

    def forward(self, inputs: torch.Tensor, text_embeddings: torch.Tensor) -> torch.Tensor:
        """Scaled cosine similarities ``(batch poses, batch texts)`` of :func:`pose_inputs` rows and texts."""
        scale = self.logit_scale.clamp(max=math.log(100)).exp()
        return scale * self.encode_pose_inputs(inputs) @ self.encode_texts(text_embeddings).T

    def save_pretrained(self, directory: str | Path) -> None:
        """Write ``config.json`` (constructor arguments + ``metadata``) and ``model.safetensors``."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / CONFIG_NAME).write_text(json.dumps({**self.config, "metadata": self.metadata}, indent=2))
        save_file({k: v.detach().cpu().contiguous() for k, v in self.state_dict().items()}, directory / WEIGHTS_NAME)

    @classmethod
    def from_pretrained(cls, directory: str | Path, device: str | torch.device = "cpu") -> "PoseTextEvaluator":
        """Load an evaluator written by :meth:`save_pretrained`."""
        directory = Path(directory)
        for name in (CONFIG_NAME, WEIGHTS_NAME):
            if not (directory / name).is_file():
                raise FileNotFoundError(
                    f"PoseTextEvaluator.from_pretrained: {directory / name} not found; train an evaluator with "
                    "`python -m posegraph.evaluate train-evaluator` (or train_evaluator(...).save_pretrained(dir))"
                )
        config = json.loads((directory / CONFIG_NAME).read_text())
        metadata = config.pop("metadata", {})
        evaluator = cls(**config)
        evaluator.load_state_dict(load_file(directory / WEIGHTS_NAME))
        evaluator.metadata = metadata
        return evaluator.to(device).eval()


def _soft_info_nce(logits: torch.Tensor, same_text: torch.Tensor) -> torch.Tensor:
    """Symmetric InfoNCE where every pair sharing a text is a positive (targets spread evenly over them)."""
    targets = same_text / same_text.sum(1, keepdim=True)
    to_text = -(targets * logits.log_softmax(1)).sum(1).mean()
    to_pose = -(targets * logits.T.log_softmax(1)).sum(1).mean()
    return (to_text + to_pose) / 2


def train_evaluator(
    keypoints,
    text_embeddings,
    *,
    embed_dim: int = 128,
    hidden_dim: int = 256,
    dropout: float = 0.1,
    epochs: int = 40,
    batch_size: int = 256,
    lr: float = 1e-3,
    weight_decay: float = 1e-4,
    validation_fraction: float = 0.1,
    pool_size: int = 32,
    seed: int = 0,
    device: str | torch.device = "cpu",
    progress: bool = False,
) -> PoseTextEvaluator:
    """Fit a :class:`PoseTextEvaluator` on real pairs and measure it on a held-out part of them.

    Args:
        keypoints: ``(n, 17, 3)`` real poses (training split).
        text_embeddings: ``(n, text_dim)`` pooled frozen embeddings of their captions.
        validation_fraction: share of the pairs held out to measure the evaluator's own precision.
        pool_size: retrieval pool for that measure (capped by the distinct held-out texts).
        seed: seeds the split, the initialisation and the batches (global RNG state is left alone).
        progress: show a progress bar over epochs.

    Returns:
        the trained evaluator in eval mode; ``evaluator.metadata`` holds the pair counts, the loss per
        epoch and ``validation`` (top-1 / top-3 on held-out real pairs, with intervals).
    """
    keypoints = as_keypoints(keypoints, "train_evaluator: keypoints", ndim=3)
    texts = _as_text_array(text_embeddings, len(keypoints), "train_evaluator")
    if not 0 < validation_fraction < 1:
        raise ValueError(f"train_evaluator: validation_fraction must lie in (0, 1), got {validation_fraction}")
    n = len(keypoints)
    num_val = max(2, round(n * validation_fraction))
    if n - num_val < 2:
        raise ValueError(f"train_evaluator: {n} pairs are too few to train and validate; give at least a few hundred")
    rng = np.random.default_rng(seed)
    order = rng.permutation(n)
    val, train = order[:num_val], order[num_val:]
    if len(np.unique(texts[val], axis=0)) < 2:
        raise ValueError(
            "train_evaluator: the held-out pairs share a single caption, so retrieval cannot be measured; "
            "give pairs with more distinct captions or a larger validation_fraction"
        )
    text_ids = torch.as_tensor(np.unique(texts, axis=0, return_inverse=True)[1].ravel(), device=device)
    inputs = torch.as_tensor(pose_inputs(keypoints), dtype=torch.float32, device=device)
    text_tensor = torch.as_tensor(texts, device=device)

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        evaluator = PoseTextEvaluator(texts.shape[1], embed_dim, hidden_dim, dropout).to(device)
        optimizer = torch.optim.AdamW(evaluator.parameters(), lr=lr, weight_decay=weight_decay)
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(1, epochs))
        losses = []
        epoch_iter = range(epochs)
        if progress:
            from tqdm.auto import tqdm

            epoch_iter = tqdm(epoch_iter, desc="train-evaluator")
        evaluator.train()
        for _ in epoch_iter:
            batches = torch.as_tensor(rng.permutation(train), device=device).split(batch_size)
            total = 0.0
            for batch in batches:
                logits = evaluator(inputs[batch], text_tensor[batch])
                loss = _soft_info_nce(logits, (text_ids[batch, None] == text_ids[None, batch]).float())
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                total += loss.item() * len(batch)
            schedule.step()
            losses.append(total / len(train))
    evaluator.eval()
    val_pool = min(pool_size, len(np.unique(texts[val], axis=0)))
    validation = retrieval_precision(evaluator, keypoints[val], texts[val], pool_size=val_pool, seed=seed)
    evaluator.metadata = {
        "train_pairs": int(len(train)),
        "validation_pairs": int(len(val)),
        "epochs": epochs,
        "loss": losses,
        "validation_pool_size": val_pool,
        "validation": {k: v.to_dict() for k, v in validation.items()},
    }
    return evaluator


@torch.no_grad()
def retrieval_precision(
    evaluator: PoseTextEvaluator,
    keypoints,
    text_embeddings,
    *,
    groups: Sequence | None = None,
    pool_size: int = 32,
    top_k: Sequence[int] = (1, 3),
    repeats: int = 10,
    seed: int = 0,
    n_resamples: int = 1000,
) -> dict[str, Estimate]:
    """Top-k precision of finding each pose's own text in a pool of ``pool_size`` texts.

    Args:
        evaluator: a trained :class:`PoseTextEvaluator`.
        keypoints: ``(n, 17, 3)`` poses (generated, or real for the ceiling).
        text_embeddings: ``(n, text_dim)`` pooled embeddings of the text each pose belongs to.
        groups: ``(n,)`` labels (e.g. action ids); negatives come from other groups. Default: other texts.
        pool_size: texts per pool, the pose's own included.
        top_k: ranks to report.
        repeats: pools drawn per pose; a pose's hit rate is averaged over them.
        seed, n_resamples: of the pool draws and of the bootstrap over poses.

    Returns:
        ``{"top1": ..., "top3": ...}`` (one key per ``k``), intervals bootstrapped over poses. The
        evaluator is put in eval mode.
    """
    keypoints = as_keypoints(keypoints, "retrieval_precision: keypoints", ndim=3)
    texts = _as_text_array(text_embeddings, len(keypoints), "retrieval_precision")
    if pool_size < 2:
        raise ValueError(f"retrieval_precision: pool_size must be at least 2 (the own text and a negative), got {pool_size}")
    unique_texts, text_of = np.unique(texts, axis=0, return_inverse=True)
    text_of = text_of.ravel()
    group_of = text_of if groups is None else np.unique(np.asarray(groups), return_inverse=True)[1].ravel()
    if len(group_of) != len(keypoints):
        raise ValueError(f"retrieval_precision: {len(group_of)} groups for {len(keypoints)} poses")
    group_of_text = np.empty(len(unique_texts), dtype=group_of.dtype)
    group_of_text[text_of] = group_of
    evaluator.eval()
    sims = (evaluator.encode_poses(keypoints) @ evaluator.encode_texts(torch.as_tensor(unique_texts)).T).cpu().numpy()
    own = sims[np.arange(len(sims)), text_of]

    rng = np.random.default_rng(seed)
    hits = np.zeros((len(top_k), len(sims)))
    chunk = max(1, 2**22 // len(unique_texts))
    for start in range(0, len(sims), chunk):
        rows = slice(start, start + chunk)
        eligible = group_of_text[None, :] != group_of[rows, None]
        fewest = int(eligible.sum(1).min())
        if fewest < pool_size - 1:
            raise ValueError(
                f"retrieval_precision: a pose has only {fewest} texts of other groups to draw negatives from, "
                f"a pool of {pool_size} needs {pool_size - 1}; pass a smaller pool_size or more distinct texts"
            )
        for _ in range(repeats):
            keys = np.where(eligible, rng.random(eligible.shape), np.inf)
            negatives = np.argpartition(keys, pool_size - 2, axis=1)[:, : pool_size - 1]
            rank = (np.take_along_axis(sims[rows], negatives, axis=1) > own[rows, None]).sum(1)
            hits[:, rows] += rank[None, :] < np.asarray(top_k)[:, None]
    hits /= repeats
    return {
        f"top{k}": bootstrap_mean(h, n_resamples=n_resamples, seed=seed, unit="poses") for k, h in zip(top_k, hits)
    }
