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


def _masked_blur(channel: np.ndarray, weights: np.ndarray, sigma: float) -> np.ndarray:
    blurred = cv2.GaussianBlur(channel * weights, (0, 0), sigma)
    norm = cv2.GaussianBlur(weights, (0, 0), sigma)
    return blurred / np.maximum(norm, 1e-3)


def transfer_shading(image: np.ndarray, target: np.ndarray, image_skin: np.ndarray, target_skin: np.ndarray,
                     sigma: float, max_ratio: float = 1.6) -> np.ndarray:
    """Give `image` the target's low-frequency lightness (its lighting), keeping `image`'s detail.

    Lightness is averaged over skin pixels only (normalised convolution), so eyes, brows and the mouth
    do not bleed into it; the ratio of the two averages rescales `image`'s lightness.
    """
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB).astype(np.float32)
    target_l = cv2.cvtColor(target, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32)
    low_image = _masked_blur(lab[..., 0], (image_skin > 0).astype(np.float32), sigma)
    low_target = _masked_blur(target_l, (target_skin > 0).astype(np.float32), sigma)
    ratio = np.clip(low_target / np.maximum(low_image, 1.0), 1.0 / max_ratio, max_ratio)
    lab[..., 0] = np.clip(lab[..., 0] * ratio, 0, 255)
    return cv2.cvtColor(lab.astype(np.uint8), cv2.COLOR_LAB2RGB)


def delta_e76(lab_a: np.ndarray, lab_b: np.ndarray) -> float:
    """CIE76 colour difference between two OpenCV 8-bit Lab colours (converted to CIE units)."""
    scale = np.array([100.0 / 255.0, 1.0, 1.0])
    a = (np.asarray(lab_a, dtype=np.float64) - (0, 128, 128)) * scale
    b = (np.asarray(lab_b, dtype=np.float64) - (0, 128, 128)) * scale
    return float(np.linalg.norm(a - b))
