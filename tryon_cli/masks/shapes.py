"""Mask primitives shared by every mask: polygons, hulls, feathering."""

from __future__ import annotations

import cv2
import numpy as np


def polygon_mask(shape: tuple[int, int], polygon: np.ndarray) -> np.ndarray:
    """uint8 mask (0/255) of a filled polygon given in pixels."""
    mask = np.zeros(shape, dtype=np.uint8)
    cv2.fillPoly(mask, [np.round(polygon[:, :2] * 16).astype(np.int32)], 255, lineType=cv2.LINE_8, shift=4)
    return mask


def hull_mask(shape: tuple[int, int], points: np.ndarray) -> np.ndarray:
    """uint8 mask of the convex hull of points."""
    hull = cv2.convexHull(np.round(points[:, :2]).astype(np.int32))
    mask = np.zeros(shape, dtype=np.uint8)
    cv2.fillConvexPoly(mask, hull, 255)
    return mask


def ellipse_kernel(radius: int) -> np.ndarray:
    size = 2 * max(int(radius), 0) + 1
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))


def dilate(mask: np.ndarray, radius: int) -> np.ndarray:
    return cv2.dilate(mask, ellipse_kernel(radius)) if radius > 0 else mask


def erode(mask: np.ndarray, radius: int) -> np.ndarray:
    return cv2.erode(mask, ellipse_kernel(radius)) if radius > 0 else mask


def feather(mask: np.ndarray, radius: int) -> np.ndarray:
    """Soft alpha in [0, 1] that is 1 deep inside the mask and exactly 0 outside it."""
    if radius <= 0:
        return (mask > 0).astype(np.float32)
    inner = erode(mask, radius)
    sigma = radius / 2.0
    alpha = cv2.GaussianBlur(inner.astype(np.float32) / 255.0, (0, 0), sigma)
    alpha[mask == 0] = 0.0
    return alpha


def bounding_box(mask: np.ndarray, margin: int = 0) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1) of the non-zero pixels grown by `margin`, clipped to the image; None if empty."""
    x, y, w, h = cv2.boundingRect(np.ascontiguousarray(mask, dtype=np.uint8))
    if w == 0 or h == 0:
        return None
    height, width = mask.shape[:2]
    return max(x - margin, 0), max(y - margin, 0), min(x + w + margin, width), min(y + h + margin, height)
