"""What the training loop feeds on: the dataset, a resumable shuffled index stream, and the caption table."""
from __future__ import annotations

import torch
from tqdm.auto import tqdm

from posegraph.data.dataset import PoseTextDataset
from posegraph.skeleton import COCO_17, Skeleton
from posegraph.text import pad_tokens
from posegraph.training.config import TrainConfig

__all__ = ["build_dataset", "IndexStream", "CaptionEmbeddings", "SEED_STRIDE"]

#: How far apart the seeds derived from one run seed lie (a prime): epoch ``e`` of the data order draws from
#: ``seed * SEED_STRIDE + e``, process ``r``'s noise from ``seed + SEED_STRIDE * r``.
SEED_STRIDE = 1_000_003


def build_dataset(config: TrainConfig, size: int, skeleton: Skeleton = COCO_17) -> PoseTextDataset:
    """The training dataset ``config.data`` names, with heatmaps of side ``size`` for the joints of ``skeleton``
    (the model's) and the config's augmentation."""
    options = dict(size=size, sigma=config.sigma, flip_prob=config.flip_prob, max_rotation=config.max_rotation,
                   scale_range=tuple(config.scale_range), canonical_side=config.canonical_side, skeleton=skeleton)
    if config.data == "synthetic":
        return PoseTextDataset.synthetic(config.synthetic_size, seed=config.seed, **options)
    return PoseTextDataset.coco(config.coco_keypoints, config.coco_captions, **options)


class IndexStream:
    """Endless, resumable batches of dataset indices (a ``batch_sampler``).

    The sample order is one stream: epoch ``e`` is a permutation of ``range(n)`` drawn from seed
    ``(seed, e)`` alone. Step ``k`` consumes positions ``[k B P, (k + 1) B P)`` of it, ``B`` the batch
    size and ``P`` the number of processes, and process ``r`` takes the ``r``-th slice of ``B``. The
    order therefore depends only on the position, so starting at ``start`` (samples consumed so far)
    continues a stopped run exactly.
    """

    def __init__(self, n: int, batch_size: int, seed: int, rank: int = 0, num_processes: int = 1, start: int = 0):
        if n < 1:
            raise ValueError("IndexStream: the dataset is empty")
        self.n, self.batch_size, self.seed = n, batch_size, seed
        self.rank, self.num_processes, self.start = rank, num_processes, start
        self._epoch, self._permutation = None, None

    def permutation(self, epoch: int) -> torch.Tensor:
        if epoch != self._epoch:
            generator = torch.Generator().manual_seed(self.seed * SEED_STRIDE + epoch)
            self._epoch, self._permutation = epoch, torch.randperm(self.n, generator=generator)
        return self._permutation

    def take(self, position: int, count: int) -> torch.Tensor:
        """Dataset indices at stream positions ``[position, position + count)``."""
        positions = torch.arange(position, position + count)
        epochs = positions // self.n
        indices = torch.empty(count, dtype=torch.long)
        for epoch in epochs.unique().tolist():
            here = epochs == epoch
            indices[here] = self.permutation(epoch)[positions[here] % self.n]
        return indices

    def __iter__(self):
        position = self.start + self.rank * self.batch_size
        while True:
            yield self.take(position, self.batch_size).tolist()
            position += self.batch_size * self.num_processes


class CaptionEmbeddings:
    """Text conditioning of training batches: every caption encoded once up front, the null embedding for
    the samples whose text is dropped (classifier-free guidance).

    The embeddings live in the text encoder's own per-caption cache (:meth:`TextEncoder.encode_cached`),
    unpadded, so memory grows with the captions' total length, not with the longest one.

    Args:
        text_encoder: a :class:`posegraph.text.TextEncoder`.
        captions: every caption a batch can hold (e.g. ``dataset.captions``).
        chunk_size: captions encoded per progress-bar update.
        show_progress: show the progress bar.
    """

    def __init__(self, text_encoder, captions, chunk_size: int = 1024, show_progress: bool = True):
        self.text_encoder = text_encoder
        unique = list(dict.fromkeys(captions))
        with tqdm(total=len(unique), desc="encoding captions", unit="caption", disable=not show_progress) as bar:
            for start in range(0, len(unique), chunk_size):
                text_encoder.encode_cached(unique[start:start + chunk_size])
                bar.update(len(unique[start:start + chunk_size]))
        self.null, self.null_mask = text_encoder.null_embedding(1)

    def __call__(self, captions: list[str], dropped: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Embeddings ``(batch, L, hidden)`` and mask ``(batch, L)`` of ``captions``, the null embedding
        where ``dropped`` ``(batch,)`` is set; ``L`` is the batch's longest caption."""
        embeddings, mask = self.text_encoder.encode_cached(captions)
        length = max(embeddings.shape[1], self.null.shape[1])
        embeddings, mask = pad_tokens(embeddings, mask, length)
        null, null_mask = pad_tokens(self.null, self.null_mask, length)
        dropped = dropped.to(embeddings.device)
        return torch.where(dropped[:, None, None], null, embeddings), torch.where(dropped[:, None], null_mask, mask)
