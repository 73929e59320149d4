"""The engine interface: `render(frames, masks, conditions) -> frames`.

Planners (swap, try-on, triplets) say *where* pixels may change (a uint8 mask per frame, 255 = may
change) and *what* to put there (a conditions object per frame). Engines decide *how*. An engine
never changes the frame size, and pixels where the mask is 0 come back bit-exact.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, Sequence, Union

import numpy as np


@dataclass(frozen=True)
class SourceFace:
    """The identity to paste: texture, its landmarks, identity shape and skin colour (fixed per run)."""

    texture: np.ndarray
    texture_points: np.ndarray
    identity_shape: np.ndarray
    reference: np.ndarray
    triangles: np.ndarray
    skin_stats: np.ndarray
    texture_mask: np.ndarray | None = None
    descriptor: np.ndarray | None = None


@dataclass(frozen=True)
class FaceTarget:
    """One face to render in one frame."""

    points: np.ndarray
    target_points: np.ndarray
    target_skin: np.ndarray | None
    normal_map: np.ndarray | None = None
    texture_points: np.ndarray | None = None


@dataclass(frozen=True)
class SwapConditions:
    """Face swap: put `source` on each of `faces`."""

    source: SourceFace
    faces: tuple[FaceTarget, ...]


@dataclass(frozen=True)
class GarmentConditions:
    """Garment try-on: the garment (RGB, its alpha) and a warped first guess in frame coordinates."""

    garment: np.ndarray
    garment_mask: np.ndarray
    warped: np.ndarray | None = None
    warped_alpha: np.ndarray | None = None
    keep: np.ndarray | None = None
    category: str = "upper"
    prompt: str = ""
    extras: dict = field(default_factory=dict)


Conditions = Union[SwapConditions, GarmentConditions]


class Engine(Protocol):
    """What every engine offers."""

    name: str
    window: int
    overlap: int
    needs_normal_map: bool

    def render(
        self, frames: Sequence[np.ndarray], masks: Sequence[np.ndarray], conditions: Sequence[Conditions]
    ) -> list[np.ndarray]:
        """Render a window of frames; pixels outside each mask are unchanged."""
        ...


def paste_back(frame: np.ndarray, rendered: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Alpha-composite `rendered` over `frame`; where alpha is 0 the frame's pixels are kept exactly."""
    a = alpha.astype(np.float32)[..., None]
    mixed = (frame.astype(np.float32) * (1 - a) + rendered.astype(np.float32) * a + 0.5).astype(np.uint8)
    return np.where(a > 0, mixed, frame)
