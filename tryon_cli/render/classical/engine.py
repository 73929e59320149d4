"""The classical engine: piecewise-affine face warp, garment compositing, colour match and blending.

CPU only, no weights. Each frame is rendered on its own (temporal care is the planners' smoothing), so
`render_stream` renders RENDER_WORKERS frames at once in threads (OpenCV and numpy release the GIL) and
hands them on in order: the same frames as one at a time.
"""

from __future__ import annotations

import os
from typing import Iterable, Iterator

import numpy as np

from ...pipeline import threaded_map
from ..contract import GarmentConditions, Progress, RenderItem, SwapConditions
from ..options import ClassicalOptions
from .face import render_face_swap
from .garment import render_garment

# Frames rendered at once: the cores, at least two (a frame waits on the plan and encode stages too), at
# most four (each holds a frame's buffers).
RENDER_WORKERS = min(max(os.cpu_count() or 2, 2), 4)


class ClassicalEngine:
    """Dispatches each item to the renderer for its conditions' type."""

    name = "classical"
    needs_normal_map = False

    def __init__(self, options: ClassicalOptions | None = None, workers: int = RENDER_WORKERS) -> None:
        self.options = options or ClassicalOptions()
        self.workers = workers

    def prepare(self, kind: type) -> None:
        """Nothing to load; refuses conditions it cannot render."""
        if kind not in (SwapConditions, GarmentConditions):
            raise TypeError(f"the classical engine cannot render {kind.__name__}")

    def render_one(self, item: RenderItem) -> np.ndarray:
        """The output frame of one item."""
        conditions = item.conditions
        if conditions is None:
            return item.frame
        if isinstance(conditions, SwapConditions):
            return render_face_swap(item.frame, item.mask, conditions, self.options)
        if isinstance(conditions, GarmentConditions):
            return render_garment(item.frame, item.mask, conditions)
        raise TypeError(f"the classical engine cannot render {type(conditions).__name__}")

    def render_stream(self, items: Iterable[RenderItem],
                      progress: Progress | None = None) -> Iterator[tuple[object, np.ndarray]]:
        if self.workers <= 1:
            for item in items:
                yield item.key, self.render_one(item)
            return
        yield from threaded_map(lambda item: (item.key, self.render_one(item)), items, self.workers, name="render")
