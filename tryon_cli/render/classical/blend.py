"""Compositing a rendered patch into a frame: feathered, multi-band (Laplacian pyramid) or Poisson.

Every method ends with the same alpha composite, whose alpha is exactly 0 outside the mask, so pixels
outside the mask are bit-exact the frame's.
"""

from __future__ import annotations

import cv2
import numpy as np

from ...masks.shapes import bounding_box, erode, feather, fill_holes

BLEND_METHODS = ("feather", "multiband", "poisson")


LOW_RES_FEATHER_RADIUS = 8  # feathers wider than this are eroded and blurred at a reduced resolution


Box = tuple[int, int, int, int]  # (y0, y1, x0, x1)


def _pyr_up(small: np.ndarray, size: tuple[int, int], box: Box) -> np.ndarray:
    """`cv2.pyrUp(small, dstsize=size)[y0:y1, x0:x1]`, upsampling only the part of `small` the box needs.

    An output pixel reads the source pixels within one of its own position halved; the crop keeps two
    more on each side, so the reflected border at a cut edge never reaches the box, and a crop that
    reaches the source's far edge keeps the output's odd or even size there: the pixels are the same."""
    y0, y1, x0, x1 = box
    height, width = small.shape[:2]
    sy0, sx0 = max(y0 // 2 - 2, 0), max(x0 // 2 - 2, 0)
    sy1, sx1 = min((y1 + 1) // 2 + 2, height), min((x1 + 1) // 2 + 2, width)
    out_h = size[1] - 2 * sy0 if sy1 == height else 2 * (sy1 - sy0)
    out_w = size[0] - 2 * sx0 if sx1 == width else 2 * (sx1 - sx0)
    up = cv2.pyrUp(small[sy0:sy1, sx0:sx1], dstsize=(out_w, out_h))
    return up[y0 - 2 * sy0 : y1 - 2 * sy0, x0 - 2 * sx0 : x1 - 2 * sx0]


def _multiband(patch: np.ndarray, base: np.ndarray, alpha: np.ndarray, levels: int, box: Box) -> np.ndarray:
    """Laplacian-pyramid blend of patch over base with alpha's Gaussian pyramid as per-band masks, returned
    inside `box` (where alpha is not 0) only.

    The pyramid is linear, so blending the two pyramids equals `base` plus the blend of the pyramid of
    their difference against zero: one pyramid instead of two, the same image up to float rounding.
    The coarser levels need the whole patch; the finest, full-size level is formed inside the box only.
    Returned as float32 `base + blend` (not clipped); each step is one OpenCV call or in-place numpy op.
    """
    d = cv2.subtract(patch, base, dtype=cv2.CV_32F)
    gauss_d, gauss_m = [d], [alpha.astype(np.float32, copy=False)]
    for _ in range(levels):
        gauss_d.append(cv2.pyrDown(gauss_d[-1]))
        gauss_m.append(cv2.pyrDown(gauss_m[-1]))
    blended = cv2.multiply(gauss_d[-1], cv2.merge([gauss_m[-1]] * 3))
    for level in range(levels - 1, 0, -1):
        size = (gauss_d[level].shape[1], gauss_d[level].shape[0])
        band = cv2.subtract(gauss_d[level], cv2.pyrUp(gauss_d[level + 1], dstsize=size))
        blended = cv2.pyrUp(blended, dstsize=size)
        cv2.accumulateProduct(band, cv2.merge([gauss_m[level]] * 3), blended)  # blended += band * mask
    size = (d.shape[1], d.shape[0])
    y0, y1, x0, x1 = box
    band = cv2.subtract(d[y0:y1, x0:x1], _pyr_up(gauss_d[1], size, box))
    blended = _pyr_up(blended, size, box)
    cv2.accumulateProduct(band, cv2.merge([gauss_m[0][y0:y1, x0:x1]] * 3), blended)
    return cv2.add(blended, base[y0:y1, x0:x1], dtype=cv2.CV_32F)


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
    return cv2.bitwise_and(alpha, alpha, mask=mask)  # exactly 0 where the mask is (bit for bit)


def composite(frame: np.ndarray, patch: np.ndarray, mask: np.ndarray, method: str = "multiband",
              feather_radius: int = 8, hole_radius: int | None = None,
              narrow: np.ndarray | None = None, narrow_radius: int = 1) -> np.ndarray:
    """Put `patch` (same size as frame) into `frame` inside `mask` (uint8); outside, frame is untouched.

    `hole_radius`: the mask's holes (a mouth kept from the frame, an occluder) are feathered this narrowly
    and the multi-band pyramid blends as if they were filled, so the frame does not show through a band
    `feather_radius` wide around them: around a kept mouth that band was the target's moustache, a grey
    smudge on a clean-shaven face. The outer outline keeps `feather_radius`.

    `narrow` (float weights in [0, 1], the frame's size; with `hole_radius`): where it is 1 the holes are
    feathered over `narrow_radius` instead (a swapped mouth's opening, filled before the blend with the
    target's teeth warped into it: a wide feather showed the frame's lips round them as a second outline).
    """
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
    filled = fill_holes(local_mask) if hole_radius is not None else local_mask
    if filled is local_mask or np.array_equal(filled, local_mask):
        alpha = bands = feather_alpha(local_mask, feather_radius)  # bands: the multi-band pyramid's masks
    else:  # the outline feathered wide, the holes narrow (the mask's own wide feather is never needed)
        bands = feather_alpha(filled, feather_radius)
        holes = feather_alpha(local_mask, hole_radius)
        if narrow is not None:
            weight = np.ascontiguousarray(narrow[region], dtype=np.float32)
            if weight.any():
                holes = cv2.blendLinear(holes, feather(local_mask, narrow_radius), 1.0 - weight, weight)
        alpha = np.minimum(bands, holes)
    # alpha is 0 outside the mask: only the mask's own box changes
    mx, my, mw, mh = cv2.boundingRect(local_mask)
    inside = (slice(my, my + mh), slice(mx, mx + mw))
    if method == "multiband":
        levels = int(np.clip(np.log2(max(min(local_mask.shape) / 16, 1)), 1, 5))
        changed = np.clip(_multiband(source, base, bands, levels, (my, my + mh, mx, mx + mw)), 0.0, 255.0).astype(np.uint8)
    else:
        changed = source[inside]
    out = frame.copy()
    # base * (1 - alpha) + source * alpha, rounded, in one pass; where alpha is 0 it is base exactly.
    weights = np.ascontiguousarray(alpha[inside], dtype=np.float32)
    out[y0 + my : y0 + my + mh, x0 + mx : x0 + mx + mw] = cv2.blendLinear(base[inside], changed, 1.0 - weights, weights)
    return out
