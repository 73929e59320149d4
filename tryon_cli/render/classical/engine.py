"""The classical engine: piecewise-affine face warp, garment compositing, colour match and blending.

CPU only, no weights, one frame at a time (temporal care is the planners' smoothing).
"""

from __future__ import annotations

from typing import Iterable, Iterator

import numpy as np

from ..contract import GarmentConditions, Progress, RenderItem, SwapConditions
from ..options import ClassicalOptions
from .face import render_face_swap
from .garment import render_garment


class ClassicalEngine:
    """Dispatches each item to the renderer for its conditions' type."""

    name = "classical"
    needs_normal_map = False

    def __init__(self, options: ClassicalOptions | None = None) -> None:
        self.options = options or ClassicalOptions()

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
        for item in items:
            yield item.key, self.render_one(item)
