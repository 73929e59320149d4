"""Compositing a rendered patch into a frame: feathered, multi-band (Laplacian pyramid) or Poisson.

Every method ends with the same alpha composite, whose alpha is exactly 0 outside the mask, so pixels
outside the mask are bit-exact the frame's.
"""

from __future__ import annotations

import cv2
import numpy as np

from ...masks.shapes import bounding_box, feather

BLEND_METHODS = ("feather", "multiband", "poisson")


def _multiband(patch: np.ndarray, base: np.ndarray, alpha: np.ndarray, levels: int) -> np.ndarray:
    a = patch.astype(np.float32)
    b = base.astype(np.float32)
    m = alpha[..., None].astype(np.float32)
    gauss_a, gauss_b, gauss_m = [a], [b], [m]
    for _ in range(levels):
        gauss_a.append(cv2.pyrDown(gauss_a[-1]))
        gauss_b.append(cv2.pyrDown(gauss_b[-1]))
        down = cv2.pyrDown(gauss_m[-1])
        gauss_m.append(down[..., None] if down.ndim == 2 else down)
    blended = gauss_a[-1] * gauss_m[-1] + gauss_b[-1] * (1 - gauss_m[-1])
    for level in range(levels - 1, -1, -1):
        size = (gauss_a[level].shape[1], gauss_a[level].shape[0])
        lap_a = gauss_a[level] - cv2.pyrUp(gauss_a[level + 1], dstsize=size)
        lap_b = gauss_b[level] - cv2.pyrUp(gauss_b[level + 1], dstsize=size)
        blended = cv2.pyrUp(blended, dstsize=size) + lap_a * gauss_m[level] + lap_b * (1 - gauss_m[level])
    return np.clip(blended, 0, 255).astype(np.uint8)


def composite(frame: np.ndarray, patch: np.ndarray, mask: np.ndarray, method: str = "multiband",
              feather_radius: int = 8) -> np.ndarray:
    """Put `patch` (same size as frame) into `frame` inside `mask` (uint8); outside, frame is untouched."""
    if method not in BLEND_METHODS:
        raise ValueError(f"unknown blend method '{method}' (use one of {', '.join(BLEND_METHODS)})")
    box = bounding_box(mask, margin=2 * feather_radius + 4)
    if box is None:
        return frame.copy()
    x0, y0, x1, y1 = box
    region = (slice(y0, y1), slice(x0, x1))
    base, source, local_mask = frame[region], patch[region], mask[region]
    if method == "poisson" and local_mask.any():
        ys, xs = np.nonzero(local_mask)
        centre = (int((xs.min() + xs.max() + 1) // 2), int((ys.min() + ys.max() + 1) // 2))
        inner = cv2.erode(local_mask, np.ones((3, 3), np.uint8))
        try:
            source = cv2.seamlessClone(source, base, inner, centre, cv2.NORMAL_CLONE)
        except cv2.error:
            pass
    alpha = feather(local_mask, feather_radius)
    if method == "multiband":
        levels = int(np.clip(np.log2(max(min(local_mask.shape) / 16, 1)), 1, 5))
        source = _multiband(source, base, alpha, levels)
    out = frame.copy()
    a = alpha[..., None]
    out[region] = np.where(a > 0, base * (1 - a) + source * a + 0.5, base).astype(np.uint8)
    return out
