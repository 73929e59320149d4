"""Feeding a stream of planned frames to any engine, in windows when the engine renders video."""

from __future__ import annotations

from typing import Iterable, Iterator, Optional

import numpy as np

from .contract import Conditions, Engine

Item = tuple[object, np.ndarray, Optional[np.ndarray], Optional[Conditions]]


def render_stream(engine: Engine, items: Iterable[Item]) -> Iterator[tuple[object, np.ndarray]]:
    """Yield (key, output) for (key, frame, mask, conditions) items, in order.

    Items with no conditions pass through unchanged. Engines with their own `render_stream` (windows,
    overlaps, latent blending) get the whole stream; others get one frame at a time.
    """
    own = getattr(engine, "render_stream", None)
    if own is not None:
        yield from own(items)
        return
    for key, frame, mask, conditions in items:
        if conditions is None or mask is None:
            yield key, frame
        else:
            yield key, engine.render([frame], [mask], [conditions])[0]
