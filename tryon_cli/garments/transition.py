"""Easing a video's garment placement from the mask's box onto the pose.

Before a pose is trusted (a person walking in, a head cut off at the chin) a garment is placed on the
mask's box, in one piece; once the pose is trusted it is placed on the shoulders and hips, its sleeves
along the arms. Switched in one frame, the garment jumps. `PlacementEase` blends the two over
EASE_SECONDS: the shoulders and hips move linearly from the box's to the pose's (both placements use the
same points, so the torso does not double), and the box placement (sleeves as photographed) fades into
the pose placement (sleeves along the arms).

It also holds the garment's size steady: its lengths are scaled by the shoulder joints' distance, which
shrinks whenever the body turns (and jitters with the pose), so a long top's or a dress's hem bobbed
up and down; on video that distance is smoothed over SIZE_SECONDS (the body's real size changes slowly).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..analysis import body as bp
from ..analysis.body import Body
from ..masks.garment import GarmentMask
from .photo import GarmentModel
from .placement import body_anchors, body_size, warp_garment

EASE_SECONDS = 0.4  # the placement moves from the box onto the pose over this long
SIZE_SECONDS = 1.0  # time constant (s) of the garment size's exponential smoothing


def mix(first: tuple[np.ndarray, np.ndarray], second: tuple[np.ndarray, np.ndarray],
        weight: float) -> tuple[np.ndarray, np.ndarray]:
    """Two warped garments (RGB uint8, alpha) mixed, `weight` of the second: alpha linearly, colour
    weighted by each one's alpha (premultiplied), so neither's empty surround darkens the other."""
    (c0, a0), (c1, a1) = first, second
    alpha = (1 - weight) * a0 + weight * a1
    colour = ((1 - weight) * a0[..., None] * c0.astype(np.float32) + weight * a1[..., None] * c1.astype(np.float32)) \
        / np.maximum(alpha[..., None], 1e-4)
    return np.clip(colour + 0.5, 0, 255).astype(np.uint8), alpha.astype(np.float32)


def _on_pose(body: Body) -> bool:
    """Whether a garment is placed by this body's pose (both shoulders seen), not by the mask's box."""
    return len(body.visible((bp.LEFT_SHOULDER, bp.RIGHT_SHOULDER))) == 2


@dataclass
class PlacementEase:
    """Per video: each frame's warped garment, eased from the box placement to the pose placement when
    the pose starts being trusted after box-placed frames. `reset()` at a scene cut."""

    seconds: float = EASE_SECONDS
    size_seconds: float = SIZE_SECONDS
    _boxed: bool = False  # the last frame was placed by the box
    _since: float | None = None  # time (s) of the last box-placed frame before the pose took over
    _size: float | None = None  # the smoothed size (px) lengths are scaled by

    def reset(self) -> None:
        self._boxed, self._since, self._size = False, None, None

    def _steady(self, measured: float, time: float, last_time: float | None) -> float:
        """The size smoothed over time (exponentially, `size_seconds`); the first frame's as measured."""
        if self._size is None or last_time is None or time <= last_time:
            self._size = measured if self._size is None else self._size
            return self._size
        keep = math.exp(-(time - last_time) / max(self.size_seconds, 1e-6))
        self._size = keep * self._size + (1 - keep) * measured
        return self._size

    def __call__(self, garment: GarmentModel, body: Body, mask: GarmentMask, shape: tuple[int, int],
                 category: str, arms: np.ndarray | None, time: float,
                 last_time: float | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The warped garment, its alpha and what stays in front (as `warp_garment`)."""
        if not _on_pose(body):  # (a box grows as a person walks in: it is no body's size, it is not held)
            self._boxed, self._since, self._size = True, None, None
            return warp_garment(garment, body, mask, shape, category, arms)
        if self._boxed and last_time is not None:  # the first pose-placed frame after box-placed ones
            self._since = last_time
        self._boxed = False
        weight = 1.0 if self._since is None else (time - self._since) / max(self.seconds, 1e-6)
        if weight >= 1.0 or mask.box is None:
            self._since = None
            size = self._steady(body_size(body_anchors(body, mask, category), category), time, last_time)
            return warp_garment(garment, body, mask, shape, category, arms, size=size)
        boxed = Body(None, body.person, body.hands, "none")
        anchors = (1 - weight) * body_anchors(boxed, mask, category) + weight * body_anchors(body, mask, category)
        size = self._steady(body_size(anchors, category), time, last_time)
        old = warp_garment(garment, boxed, mask, shape, category, None, anchors, size)  # (box-placed: no arms known)
        new = warp_garment(garment, body, mask, shape, category, arms, anchors, size)
        warped, alpha = mix(old[:2], new[:2], weight)
        return warped, alpha, new[2] | old[2]
