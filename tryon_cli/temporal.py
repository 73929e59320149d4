"""Temporal smoothing: One Euro filter for landmarks, exponential averages for statistics, scene cuts."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np


def _alpha(cutoff: float, dt: float) -> float:
    tau = 1.0 / (2.0 * math.pi * cutoff)
    return 1.0 / (1.0 + tau / dt)


@dataclass
class OneEuroFilter:
    """One Euro filter (Casiez et al. 2012) over arrays of any shape, values in `unit`s.

    Slow motion is smoothed hard (cutoff `min_cutoff` Hz), fast motion passes (cutoff grows by
    `beta` per unit/second of speed), so jitter goes without lag on real movement.
    """

    min_cutoff: float = 1.0
    beta: float = 0.5
    d_cutoff: float = 1.0
    unit: float = 1.0
    _value: np.ndarray | None = None
    _speed: np.ndarray | None = None

    def reset(self) -> None:
        self._value, self._speed = None, None

    def __call__(self, value: np.ndarray, dt: float) -> np.ndarray:
        x = np.asarray(value, dtype=np.float64) / self.unit
        if self._value is None or dt <= 0:
            self._value, self._speed = x, np.zeros_like(x)
            return value.astype(np.float32)
        speed = (x - self._value) / dt
        a_d = _alpha(self.d_cutoff, dt)
        self._speed = a_d * speed + (1 - a_d) * self._speed
        cutoff = self.min_cutoff + self.beta * np.abs(self._speed)
        tau = 1.0 / (2.0 * math.pi * cutoff)
        a = 1.0 / (1.0 + tau / dt)
        self._value = a * x + (1 - a) * self._value
        return (self._value * self.unit).astype(np.float32)


# One Euro settings at strength 1 (face sizes per second): a still face is filtered at 0.3 Hz, and the
# cut-off rises by 4 Hz per face size per second of motion, so fast moves are followed without lag.
LANDMARK_MIN_CUTOFF_HZ = 0.3
LANDMARK_SPEED_GAIN = 4.0
LANDMARK_DERIVATIVE_CUTOFF_HZ = 1.0


def landmark_filter(strength: float, face_size: float) -> OneEuroFilter | None:
    """A landmark filter for `strength` in [0, 1] (0: none), speeds measured in face sizes per second.

    A stronger setting lowers both the resting cut-off and the speed gain in proportion."""
    if strength <= 0:
        return None
    return OneEuroFilter(min_cutoff=LANDMARK_MIN_CUTOFF_HZ / strength, beta=LANDMARK_SPEED_GAIN / strength,
                         d_cutoff=LANDMARK_DERIVATIVE_CUTOFF_HZ, unit=max(face_size, 1.0))


@dataclass
class ExponentialAverage:
    """Exponential moving average with a reset; `keep` is the weight of the past (0: no smoothing)."""

    keep: float
    _value: np.ndarray | None = None

    def reset(self) -> None:
        self._value = None

    def __call__(self, value: np.ndarray) -> np.ndarray:
        value = np.asarray(value, dtype=np.float64)
        self._value = value if self._value is None else self.keep * self._value + (1 - self.keep) * value
        return self._value.copy()


CUT_THUMBNAIL = (64, 36)  # the scene-cut test's histogram is read on the frame area-averaged to this size


def thumbnail(image: np.ndarray, size: tuple[int, int] = CUT_THUMBNAIL) -> np.ndarray:
    """`image` area-averaged down to `size` (width, height): first by whole factors to at least twice `size`
    (OpenCV's area resize is fast only then: 1.5 ms instead of 4 ms a 1080x1080 frame, in the scene-cut
    test's thread of the analysis pass), the rows and columns left over (fewer than a factor) cut evenly
    from both edges, then to `size`. The cut shifts the thumbnail's pixels by a fraction of one, and its
    colours' histogram (all the cut test reads) hardly moves: the correlations between frames moved by at
    most 0.006 on nine shared videos, every cut the same. A frame a whole factor larger than `size`
    (1280x720) gives the one-step resize's pixels."""
    height, width = image.shape[:2]
    if width % size[0] == 0 and height % size[1] == 0:
        return cv2.resize(image, size, interpolation=cv2.INTER_AREA)  # whole factors already
    kx, ky = max(width // (2 * size[0]), 1), max(height // (2 * size[1]), 1)
    if kx > 1 or ky > 1:
        x0, y0 = (width % kx) // 2, (height % ky) // 2
        image = cv2.resize(image[y0 : y0 + (height // ky) * ky, x0 : x0 + (width // kx) * kx],
                           (width // kx, height // ky), interpolation=cv2.INTER_AREA)
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


@dataclass
class SceneCutDetector:
    """Flag a frame whose colour histogram differs sharply from the previous frame's."""

    threshold: float = 0.5
    _previous: np.ndarray | None = field(default=None, repr=False)

    def __call__(self, image: np.ndarray) -> bool:
        hsv = cv2.cvtColor(thumbnail(image), cv2.COLOR_RGB2HSV)
        hist = cv2.calcHist([hsv], [0, 1], None, [16, 8], [0, 180, 0, 256])
        cv2.normalize(hist, hist)
        previous, self._previous = self._previous, hist
        if previous is None:
            return False
        return cv2.compareHist(previous, hist, cv2.HISTCMP_CORREL) < self.threshold
