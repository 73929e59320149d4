"""Several source photos: per frame, the photo whose head turn and expression fit the target best.

Each photo is unwrapped to the same frontal layout, so any of them can be pasted on any frame; a
photo taken from the side the target turns to shows that side's own pixels (not a mirrored fill), and
a photo with the target's expression brings its creases and teeth. The choice switches only when
another photo fits clearly better for several frames, so the texture does not flicker.
"""

from __future__ import annotations

import numpy as np

from ..face3d.fitting import Pose
from ..render.contract import SourceView

DEGREES_PER_UNIT = 15.0  # a head-turn difference of this many degrees costs as much as ...
EXPRESSION_WEIGHT = 0.5  # ... this many units of expression distance (coefficients over their spread)
SWITCH_MARGIN = 0.25  # another view must be better by this much
SWITCH_FRAMES = 4  # for this many frames in a row


def view_costs(views: tuple[SourceView, ...], pose: Pose, expression: np.ndarray, spread: np.ndarray) -> np.ndarray:
    """How badly each view fits a target frame: head-turn difference plus expression difference.

    Expressions are relative to each person's rest face. A photo's own expression costs too: its texture
    holds creases and stretched skin (a screaming frame chosen for a talking target aged the face and
    cost identity), so a photo with the target's expression wins only over an equally neutral one.
    """
    yaw, pitch, _ = pose.euler_degrees()
    turn = np.array([np.hypot(yaw - v.yaw, pitch - v.pitch) for v in views]) / DEGREES_PER_UNIT
    difference = np.array([np.sqrt(np.mean(((expression - v.expression) / spread) ** 2)) for v in views])
    strength = np.array([np.sqrt(np.mean((v.expression / spread) ** 2)) for v in views])
    return turn + EXPRESSION_WEIGHT * (0.25 * difference + strength)


class ViewSelector:
    """Per track: the chosen view's texture points, switched with hysteresis."""

    def __init__(self, views: tuple[SourceView, ...], spread: np.ndarray) -> None:
        """`spread`: each expression coefficient's standard deviation (the model's)."""
        if not views:
            raise ValueError("no source views to choose from")
        self.views = views
        self.spread = np.maximum(np.asarray(spread, dtype=np.float64), 1e-6)
        self.current: int | None = None
        self.candidate, self.count = -1, 0

    def __call__(self, pose: Pose, expression: np.ndarray) -> np.ndarray:
        costs = view_costs(self.views, pose, expression, self.spread)
        best = int(np.argmin(costs))
        if self.current is None:
            self.current = best
        elif best != self.current and costs[best] < costs[self.current] - SWITCH_MARGIN:
            self.count = self.count + 1 if best == self.candidate else 1
            self.candidate = best
            if self.count >= SWITCH_FRAMES:
                self.current, self.count = best, 0
        else:
            self.candidate, self.count = -1, 0
        return self.views[self.current].texture_points
