"""Compositing a rendered patch into a frame: feathered, multi-band (Laplacian pyramid) or Poisson.

Every method ends with the same alpha composite, whose alpha is exactly 0 outside the mask, so pixels
outside the mask are bit-exact the frame's.
"""

from __future__ import annotations

import cv2
import numpy as np

from ...masks.shapes import bounding_box, erode, feather

BLEND_METHODS = ("feather", "multiband", "poisson")


LOW_RES_FEATHER_RADIUS = 8  # feathers wider than this are eroded and blurred at a reduced resolution


def _multiband(patch: np.ndarray, base: np.ndarray, alpha: np.ndarray, levels: int) -> np.ndarray:
    """Laplacian-pyramid blend of patch over base with alpha's Gaussian pyramid as per-band masks.

    The pyramid is linear, so blending the two pyramids equals `base` plus the blend of the pyramid of
    their difference against zero: one pyramid instead of two, the same image up to float rounding.
    Returned as float32 `base + blend` (not clipped); each step is one OpenCV call or in-place numpy op.
    """
    d = cv2.subtract(patch, base, dtype=cv2.CV_32F)
    gauss_d, gauss_m = [d], [alpha.astype(np.float32, copy=False)]
    for _ in range(levels):
        gauss_d.append(cv2.pyrDown(gauss_d[-1]))
        gauss_m.append(cv2.pyrDown(gauss_m[-1]))
    blended = cv2.multiply(gauss_d[-1], cv2.merge([gauss_m[-1]] * 3))
    for level in range(levels - 1, -1, -1):
        size = (gauss_d[level].shape[1], gauss_d[level].shape[0])
        band = cv2.subtract(gauss_d[level], cv2.pyrUp(gauss_d[level + 1], dstsize=size))
        blended = cv2.pyrUp(blended, dstsize=size)
        cv2.accumulateProduct(band, cv2.merge([gauss_m[level]] * 3), blended)  # blended += band * mask
    return cv2.add(blended, base, dtype=cv2.CV_32F)


def feather_alpha(mask: np.ndarray, radius: int) -> np.ndarray:
    """`masks.shapes.feather` (1 deep inside, exactly 0 outside), its erosion and blur at low resolution.

    A wide feather is smooth on the scale of its radius, so the erosion and blur run where the radius is
    LOW_RES_FEATHER_RADIUS pixels (mask area-averaged down, alpha bilinearly up); only the final "0
    outside the mask" is applied at full resolution, which keeps pixels outside the mask exact.
    """
    if radius <= LOW_RES_FEATHER_RADIUS:
        return feather(mask, radius)
    scale = LOW_RES_FEATHER_RADIUS / radius
    height, width = mask.shape
    size = (max(int(round(width * scale)), 1), max(int(round(height * scale)), 1))
    small = cv2.resize(mask, size, interpolation=cv2.INTER_AREA)
    inner = erode(small, LOW_RES_FEATHER_RADIUS)
    alpha = cv2.GaussianBlur(inner.astype(np.float32) / 255.0, (0, 0), LOW_RES_FEATHER_RADIUS / 2.0)
    alpha = cv2.resize(alpha, (width, height), interpolation=cv2.INTER_LINEAR)
    alpha[mask == 0] = 0.0
    return alpha


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
    alpha = feather_alpha(local_mask, feather_radius)
    if method == "multiband":
        levels = int(np.clip(np.log2(max(min(local_mask.shape) / 16, 1)), 1, 5))
        source = np.clip(_multiband(source, base, alpha, levels), 0.0, 255.0).astype(np.uint8)
    out = frame.copy()
    # base * (1 - alpha) + source * alpha, rounded, in one pass; where alpha is 0 it is base exactly.
    weights = np.ascontiguousarray(alpha, dtype=np.float32)
    out[region] = cv2.blendLinear(base, source, 1.0 - weights, weights)
    return out
