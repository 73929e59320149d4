"""The window streamer: cuts a stream of render items into overlapping windows and puts it back in order.

It owns the stream's state (the crop windows are rendered in, the anchor frame, items waiting for their
final latent, what was already emitted, the latent blender) in one typed object. What a window's
latents are, and how a latent becomes a frame, is the renderer's business (`WindowRenderer`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Iterator, Protocol

import numpy as np
import torch

from ...masks.shapes import bounding_box
from ..contract import RenderItem
from .windows import LatentBlender

Crop = tuple[int, int, int, int]


class WindowRenderer(Protocol):
    """What the streamer needs from an engine."""

    def crop_for(self, union: np.ndarray, first: RenderItem) -> Crop:
        """The region (x0, y0, x1, y1) a window whose masks' union is `union` is rendered in."""
        ...

    def denoise(self, items: list[RenderItem], crop: Crop, anchor: RenderItem | None) -> torch.Tensor:
        """Final latents (one per item, anchor excluded) of a window."""
        ...

    def finish(self, item: RenderItem, latent: torch.Tensor, crop: Crop) -> np.ndarray:
        """The output frame of `item` from its final latent (decoded and pasted back)."""
        ...


@dataclass
class StreamState:
    """Everything the streamer carries from one window to the next."""

    blender: LatentBlender
    crop: Crop | None = None
    anchor: RenderItem | None = None
    pending: dict[int, RenderItem] = field(default_factory=dict)
    emitted: set[int] = field(default_factory=set)

    def new_crop(self, crop: Crop | None) -> None:
        """A new crop also starts a new anchor: the old one was rendered in other coordinates."""
        self.crop, self.anchor = crop, None


def mask_of(item: RenderItem) -> np.ndarray:
    """The item's mask; an all-zero mask for items that pass through."""
    if item.mask is None:
        return np.zeros(item.frame.shape[:2], dtype=np.uint8)
    return item.mask


def _inside(box: Crop | None, crop: Crop) -> bool:
    if box is None:
        return True
    return box[0] >= crop[0] and box[1] >= crop[1] and box[2] <= crop[2] and box[3] <= crop[3]


class WindowStreamer:
    """Windows of `window` items sharing `overlap` with the next; outputs come back in input order."""

    def __init__(self, renderer: WindowRenderer, window: int, overlap: int, consistency: bool) -> None:
        self.renderer = renderer
        self.window = window
        self.overlap = overlap
        self.consistency = consistency

    def run(self, items: Iterable[RenderItem]) -> Iterator[tuple[object, np.ndarray]]:
        state = StreamState(LatentBlender(self.overlap, renormalize=self.consistency))
        ready: dict[int, tuple[object, np.ndarray]] = {}
        next_out = 0
        buffer: list[tuple[int, RenderItem]] = []
        processed_until = 0

        def drain() -> Iterator[tuple[object, np.ndarray]]:
            nonlocal next_out
            while next_out in ready:
                yield ready.pop(next_out)
                next_out += 1

        for index, item in enumerate(items):
            buffer.append((index, item))
            if len(buffer) == self.window:
                ready.update(self._process(buffer, state, final=False))
                processed_until = buffer[-1][0] + 1
                yield from drain()
                buffer = buffer[self.window - self.overlap :]
        if any(i >= processed_until for i, _ in buffer):
            ready.update(self._process(buffer, state, final=True))
        ready.update(self._flush(state))
        yield from drain()

    def _process(self, buffer: list[tuple[int, RenderItem]], state: StreamState,
                 final: bool) -> Iterator[tuple[int, tuple[object, np.ndarray]]]:
        union = np.bitwise_or.reduce([mask_of(item) for _, item in buffer])
        if not union.any():  # nothing to render: flush what is held, pass these through
            yield from self._flush(state)
            for index, item in buffer:
                if index not in state.pending and index not in state.emitted:
                    state.emitted.add(index)
                    yield index, (item.key, item.frame)
            state.new_crop(None)
            return
        if state.crop is None or not _inside(bounding_box(union), state.crop):
            yield from self._flush(state)
            state.new_crop(self.renderer.crop_for(union, buffer[0][1]))
        items = [item for _, item in buffer]
        latents = self.renderer.denoise(items, state.crop, state.anchor if self.consistency else None)
        if self.consistency and state.anchor is None:
            state.anchor = items[0]
        for index, item in buffer:
            state.pending.setdefault(index, item)
        for index, latent in state.blender.add(buffer[0][0], latents, final):
            yield self._emit(index, latent, state)

    def _flush(self, state: StreamState) -> Iterator[tuple[int, tuple[object, np.ndarray]]]:
        """Finish every frame the blender still holds (a crop change, a gap without masks, the end)."""
        for index, latent in list(state.blender.flush()):
            yield self._emit(index, latent, state)

    def _emit(self, index: int, latent: torch.Tensor, state: StreamState) -> tuple[int, tuple[object, np.ndarray]]:
        item = state.pending.pop(index)
        state.emitted.add(index)
        return index, (item.key, self.renderer.finish(item, latent, state.crop))
