"""Colour statistics in Lab and their transfer (Reinhard-style mean/std matching)."""

from __future__ import annotations

import cv2
import numpy as np


def lab_statistics(image: np.ndarray, region: np.ndarray) -> np.ndarray | None:
    """(2, 3) array: Lab mean and standard deviation over the region's pixels; None when too small."""
    pixels = cv2.cvtColor(image, cv2.COLOR_RGB2LAB)[region > 0].astype(np.float32)
    if len(pixels) < 50:
        return None
    return np.stack([pixels.mean(axis=0), pixels.std(axis=0) + 1.0])


def transfer_colour(image: np.ndarray, source_stats: np.ndarray, target_stats: np.ndarray,
                    max_gain: float = 1.6) -> np.ndarray:
    """Move `image`'s skin colour from source to target statistics.

    Lightness is scaled (dark features stay dark, as under a change of illumination); the two
    chroma channels are shifted.
    """
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB).astype(np.float32)
    gain = float(np.clip(target_stats[0, 0] / max(source_stats[0, 0], 1.0), 1.0 / max_gain, max_gain))
    lab[..., 0] *= gain
    lab[..., 1:] += target_stats[0, 1:] - source_stats[0, 1:]
    return cv2.cvtColor(np.clip(lab, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)


def delta_e76(lab_a: np.ndarray, lab_b: np.ndarray) -> float:
    """CIE76 colour difference between two OpenCV 8-bit Lab colours (converted to CIE units)."""
    scale = np.array([100.0 / 255.0, 1.0, 1.0])
    a = (np.asarray(lab_a, dtype=np.float64) - (0, 128, 128)) * scale
    b = (np.asarray(lab_b, dtype=np.float64) - (0, 128, 128)) * scale
    return float(np.linalg.norm(a - b))
