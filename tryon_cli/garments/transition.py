"""Easing a video's garment placement from the mask's box onto the pose.

Before a pose is trusted (a person walking in, a head cut off at the chin) a garment is placed on the
mask's box, in one piece; once the pose is trusted it is placed on the shoulders and hips, its sleeves
along the arms. Switched in one frame, the garment jumps. `PlacementEase` blends the two over
EASE_SECONDS: the shoulders and hips move linearly from the box's to the pose's (both placements use the
same points, so the torso does not double), and the box placement (sleeves as photographed) fades into
the pose placement (sleeves along the arms).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..analysis import body as bp
from ..analysis.body import Body
from ..masks.garment import GarmentMask
from .photo import GarmentModel
from .placement import body_anchors, warp_garment

EASE_SECONDS = 0.4  # the placement moves from the box onto the pose over this long


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
    _boxed: bool = False  # the last frame was placed by the box
    _since: float | None = None  # time (s) of the last box-placed frame before the pose took over

    def reset(self) -> None:
        self._boxed, self._since = False, None

    def __call__(self, garment: GarmentModel, body: Body, mask: GarmentMask, shape: tuple[int, int],
                 category: str, arms: np.ndarray | None, time: float,
                 last_time: float | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The warped garment, its alpha and what stays in front (as `warp_garment`)."""
        if not _on_pose(body):
            self._boxed, self._since = True, None
            return warp_garment(garment, body, mask, shape, category, arms)
        if self._boxed and last_time is not None:  # the first pose-placed frame after box-placed ones
            self._since = last_time
        self._boxed = False
        weight = 1.0 if self._since is None else (time - self._since) / max(self.seconds, 1e-6)
        if weight >= 1.0 or mask.box is None:
            self._since = None
            return warp_garment(garment, body, mask, shape, category, arms)
        boxed = Body(None, body.person, body.hands, "none")
        anchors = (1 - weight) * body_anchors(boxed, mask, category) + weight * body_anchors(body, mask, category)
        old = warp_garment(garment, boxed, mask, shape, category, None, anchors)  # (box-placed: no arms known)
        new = warp_garment(garment, body, mask, shape, category, arms, anchors)
        warped, alpha = mix(old[:2], new[:2], weight)
        return warped, alpha, new[2] | old[2]
