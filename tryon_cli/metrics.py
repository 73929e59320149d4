"""Swap quality measures: identity, head pose, expression, skin tone and flicker."""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from .colour import delta_e76
from .face3d import landmarks as lm


def pearson(a: list[float] | np.ndarray, b: list[float] | np.ndarray) -> float | None:
    """Correlation of two series; None when either is (nearly) constant or too short."""
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if len(x) < 3 or x.std() < 1e-9 or y.std() < 1e-9:
        return None
    return float(np.corrcoef(x, y)[0, 1])


def cheek_lab(image: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Mean OpenCV-Lab colour of two cheek patches (radius 6% of face width)."""
    radius = max(int(np.ptp(points[:, 0]) * 0.06), 2)
    mask = np.zeros(image.shape[:2], dtype=np.uint8)
    for index in lm.CHEEKS:
        x, y = points[index, :2]
        cv2.circle(mask, (int(round(x)), int(round(y))), radius, 255, -1)
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB)
    return lab[mask > 0].astype(np.float64).mean(axis=0)


def cheek_delta_e(output: np.ndarray, target: np.ndarray, output_points: np.ndarray, target_points: np.ndarray) -> float:
    """CIE76 difference between output and target cheek colour."""
    return delta_e76(cheek_lab(output, output_points), cheek_lab(target, target_points))


@dataclass
class FlickerMeter:
    """Mean absolute frame-to-frame change inside a region, for output and input, and their ratio."""

    _previous: tuple[np.ndarray, np.ndarray] | None = None
    output_changes: list[float] = field(default_factory=list)
    input_changes: list[float] = field(default_factory=list)

    def add(self, output: np.ndarray, target: np.ndarray, region: np.ndarray | None) -> None:
        if region is None or not region.any():
            self._previous = None
            return
        out_g = cv2.cvtColor(output, cv2.COLOR_RGB2GRAY).astype(np.float32)
        in_g = cv2.cvtColor(target, cv2.COLOR_RGB2GRAY).astype(np.float32)
        if self._previous is not None:
            previous_out, previous_in = self._previous
            inside = region > 0
            self.output_changes.append(float(np.abs(out_g - previous_out)[inside].mean()))
            self.input_changes.append(float(np.abs(in_g - previous_in)[inside].mean()))
        self._previous = (out_g, in_g)

    def reset(self) -> None:
        self._previous = None

    @property
    def ratio(self) -> float | None:
        if not self.input_changes:
            return None
        return float(np.mean(self.output_changes) / max(np.mean(self.input_changes), 1e-6))


def summarize(values: list[float]) -> dict:
    """Median, mean and count of a list (None when empty)."""
    if not values:
        return {"median": None, "mean": None, "n": 0}
    array = np.asarray(values, dtype=np.float64)
    return {"median": float(np.median(array)), "mean": float(array.mean()), "n": int(len(array))}
