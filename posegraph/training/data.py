"""What the training loop feeds on: the dataset, a resumable shuffled index stream, and the caption table."""
from __future__ import annotations

import torch
from tqdm.auto import tqdm

from posegraph.training.config import TrainConfig

__all__ = ["build_dataset", "IndexStream", "CaptionTable"]


def build_dataset(config: TrainConfig, size: int):
    """The training dataset of ``config.data`` with heatmaps of side ``size``."""
    from posegraph.data.dataset import PoseTextDataset

    if config.data == "synthetic":
        return PoseTextDataset.synthetic(config.synthetic_size, size=size, seed=config.seed)
    return PoseTextDataset.coco(config.coco_keypoints, config.coco_captions, size=size)


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
            generator = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
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


class CaptionTable:
    """The token embeddings of every distinct caption, encoded once, with the null embedding in row 0.

    Args:
        embeddings: ``(num_captions + 1, length, hidden)``.
        mask: ``(num_captions + 1, length)`` bool, padding on the right.
        rows: caption -> row.
    """

    def __init__(self, embeddings: torch.Tensor, mask: torch.Tensor, rows: dict[str, int]):
        self.embeddings, self.mask, self.rows = embeddings, mask, rows

    @classmethod
    def build(cls, text_encoder, captions, device=None, chunk_size: int = 512,
              show_progress: bool = True) -> "CaptionTable":
        """Encode the distinct ``captions`` with ``text_encoder`` in chunks, with a progress bar."""
        unique = list(dict.fromkeys(captions))
        parts = [text_encoder.null_embedding(1)]
        with tqdm(total=len(unique), desc="encoding captions", unit="caption", disable=not show_progress) as bar:
            for start in range(0, len(unique), chunk_size):
                parts.append(text_encoder.encode_cached(unique[start:start + chunk_size]))
                bar.update(len(parts[-1][0]))
        length = max(embeddings.shape[1] for embeddings, _ in parts)
        embeddings = torch.cat([torch.nn.functional.pad(e, (0, 0, 0, length - e.shape[1])) for e, _ in parts])
        mask = torch.cat([torch.nn.functional.pad(m.bool(), (0, length - m.shape[1])) for _, m in parts])
        rows = {caption: row for row, caption in enumerate(unique, start=1)}
        return cls(embeddings.to(device), mask.to(device), rows)

    def lookup(self, captions: list[str], dropped: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Embeddings ``(batch, L, hidden)`` and mask ``(batch, L)`` of ``captions``; ``dropped`` ones get
        the null embedding. ``L`` is trimmed to the batch's longest caption."""
        try:
            rows = torch.tensor([self.rows[caption] for caption in captions], device=dropped.device)
        except KeyError as error:
            raise KeyError(f"caption {error.args[0]!r} was not among the dataset's captions encoded up front") from None
        rows = torch.where(dropped, 0, rows)
        mask = self.mask[rows]
        length = int(mask.sum(1).max())
        return self.embeddings[rows, :length], mask[:, :length]
