"""Blending overlapping windows' latents over a frame stream.

Each window's latents are first renormalised to the per-channel mean and standard deviation of the
previous window's latents over their shared frames, then blended with weights that fall off from the
window centre. For every frame the weights of the windows covering it sum to one.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np
import torch


def centre_weights(length: int) -> np.ndarray:
    """Positive weights over a window, highest in the middle, falling off to its ends."""
    i = np.arange(length, dtype=np.float64)
    return np.minimum(i + 1, length - i)


def match_statistics(latents: torch.Tensor, reference: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """Affinely map `latents` so that `latents[:len(reference)]` has `reference`'s per-channel mean/std."""
    dims = (0, 2, 3)
    head = latents[: reference.shape[0]]
    mean, std = head.mean(dim=dims, keepdim=True), head.std(dim=dims, keepdim=True, unbiased=False)
    ref_mean, ref_std = reference.mean(dim=dims, keepdim=True), reference.std(dim=dims, keepdim=True, unbiased=False)
    scale = torch.where(std > eps, ref_std / std.clamp_min(eps), torch.ones_like(std))
    return (latents - mean) * scale + ref_mean


class LatentBlender:
    """Streaming blend of overlapping windows' latents; yields each frame's latent once it is final."""

    def __init__(self, overlap: int, renormalize: bool = True) -> None:
        self.overlap = overlap
        self.renormalize = renormalize
        self._sum: dict[int, torch.Tensor] = {}
        self._weight: dict[int, float] = {}

    def add(self, start: int, latents: torch.Tensor, final: bool) -> Iterator[tuple[int, torch.Tensor]]:
        """Add a window starting at frame `start`; yield (frame, latent) for frames no later window touches."""
        shared = [i for i in range(start, start + latents.shape[0]) if i in self._sum]
        if self.renormalize and shared:
            reference = torch.stack([self._sum[i] / self._weight[i] for i in shared])
            latents = match_statistics(latents, reference)
        for offset, weight in enumerate(centre_weights(latents.shape[0])):
            index = start + offset
            self._sum[index] = self._sum.get(index, 0) + float(weight) * latents[offset]
            self._weight[index] = self._weight.get(index, 0.0) + float(weight)
        last_final = start + latents.shape[0] - (0 if final else self.overlap)
        yield from self._release(lambda index: index < last_final)

    def flush(self) -> Iterator[tuple[int, torch.Tensor]]:
        """Yield every frame still held (a crop change, a gap without masks, the end of the stream)."""
        yield from self._release(lambda index: True)

    def _release(self, done) -> Iterator[tuple[int, torch.Tensor]]:
        for index in sorted(i for i in self._sum if done(i)):
            yield index, self._sum.pop(index) / self._weight.pop(index)
