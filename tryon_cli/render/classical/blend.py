"""Compositing a rendered patch into a frame: feathered, multi-band (Laplacian pyramid) or Poisson.

Every method ends with the same alpha composite, whose alpha is exactly 0 outside the mask, so pixels
outside the mask are bit-exact the frame's.
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy.special import ndtr, ndtri

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
    inside `box` (where alpha is not 0) only, as uint8 (rounded, saturated).

    The pyramid is linear, so blending the two pyramids equals `base` plus the blend of the pyramid of
    their difference d against zero: one pyramid instead of two. Its full-size level,
    `U(B1) + m0 * (d - U(G1))` (U: pyrUp; B1, G1: the blended and the difference's level 1; m0: alpha), is
    taken as `base + m0 * d + U(B1 - m1 * G1)`: `m0 * U(G1)` swapped for `U(m1 * G1)`, equal where alpha is
    smooth on the pyramid's 5-pixel scale (a feather is, but for its cut to 0 at the mask's outline, where
    alpha is nearly 0). Full size then needs one uint8 blend and one integer pyrUp in the box instead of
    ten float passes over it; the difference is made and halved in int16 (its level 1 rounded to whole
    levels, as the result is).
    """
    y0, y1, x0, x1 = box
    mask = alpha.astype(np.float32, copy=False)
    d = np.subtract(patch, base, dtype=np.int16)  # (numpy's mixed-type subtract is 2x OpenCV's)
    gauss_d = [cv2.pyrDown(d).astype(np.float32)]  # level 1
    gauss_m = [cv2.pyrDown(mask)]
    for _ in range(levels - 1):
        gauss_d.append(cv2.pyrDown(gauss_d[-1]))
        gauss_m.append(cv2.pyrDown(gauss_m[-1]))
    blended = cv2.multiply(gauss_d[-1], cv2.merge([gauss_m[-1]] * 3))
    for level in range(levels - 2, -1, -1):  # gauss_d[level] is pyramid level level + 1
        size = (gauss_d[level].shape[1], gauss_d[level].shape[0])
        band = cv2.subtract(gauss_d[level], cv2.pyrUp(gauss_d[level + 1], dstsize=size))
        blended = cv2.pyrUp(blended, dstsize=size)
        cv2.accumulateProduct(band, cv2.merge([gauss_m[level]] * 3), blended)  # blended += band * mask
    rest = cv2.subtract(blended, cv2.multiply(gauss_d[0], cv2.merge([gauss_m[0]] * 3)))  # B1 - m1 * G1
    up = _pyr_up(np.rint(rest).astype(np.int16), (patch.shape[1], patch.shape[0]), box)
    weight = mask[y0:y1, x0:x1]
    low = cv2.blendLinear(base[y0:y1, x0:x1], patch[y0:y1, x0:x1], 1.0 - weight, weight)  # base + m0 * d
    return cv2.add(low, up, dtype=cv2.CV_8U)


def feather_alpha(mask: np.ndarray, radius: int, tight: np.ndarray | None = None,
                  ratio: float = 1.0) -> np.ndarray:
    """`masks.shapes.feather` (1 deep inside, exactly 0 outside), its erosion and blur at low resolution.

    A wide feather is smooth on the scale of its radius, so the erosion and blur run where the radius is
    LOW_RES_FEATHER_RADIUS pixels: the mask area-averaged down by the whole part of the factor (OpenCV's
    fast path; a fractional area resize cost 1.2 ms at 1080p), bilinearly by the rest (at most 2x), the
    alpha bilinearly up; only the final "0 outside the mask" is applied at full resolution, which keeps
    pixels outside the mask exact.

    `tight` (float32 weights, the mask's size) moves the feather toward one `ratio` times narrower
    (`_tightened`); that too at the low resolution (the weights shrunk as the mask is), where the full-size
    mix of two full-size alphas cost 2 ms a 1080p close-up. The narrower feather is as smooth (its radius at
    the low size is LOW_RES_FEATHER_RADIUS / ratio, over 2 pixels for the blend's ratios up to 4/3).
    """
    if radius <= LOW_RES_FEATHER_RADIUS:
        wide = feather(mask, radius)
        return wide if tight is None else _tightened(wide, tight, ratio)
    whole = radius // LOW_RES_FEATHER_RADIUS
    scale = LOW_RES_FEATHER_RADIUS / radius
    height, width = mask.shape
    inner = erode(_shrunk(mask, whole, scale), LOW_RES_FEATHER_RADIUS)
    alpha = cv2.GaussianBlur(inner.astype(np.float32) / 255.0, (0, 0), LOW_RES_FEATHER_RADIUS / 2.0)
    if tight is not None:
        alpha = _tightened(alpha, _shrunk(tight, whole, scale), ratio)
    size = (width + -width % whole, height + -height % whole)  # the padded size `_shrunk` started from
    alpha = cv2.resize(alpha, size, interpolation=cv2.INTER_LINEAR)[:height, :width]
    # exactly 0 where the mask is (bit for bit; OpenCV zeroes the new output before the masked copy)
    return cv2.copyTo(alpha, mask)


def _shrunk(image: np.ndarray, whole: int, scale: float) -> np.ndarray:
    """`image` padded (its last row and column repeated) to a multiple of `whole`, area-averaged down by
    `whole` and bilinearly to `scale` of the padded size: `feather_alpha`'s low resolution."""
    height, width = image.shape[:2]
    padded = cv2.copyMakeBorder(image, 0, -height % whole, 0, -width % whole, cv2.BORDER_REPLICATE)
    size = (padded.shape[1] // whole, padded.shape[0] // whole)
    small = cv2.resize(padded, size, interpolation=cv2.INTER_AREA) if whole > 1 else padded
    size = (max(int(round(padded.shape[1] * scale)), 1), max(int(round(padded.shape[0] * scale)), 1))
    return cv2.resize(small, size, interpolation=cv2.INTER_LINEAR)


def _tightened(alpha: np.ndarray, tight: np.ndarray, ratio: float) -> np.ndarray:
    """A feather's `alpha` moved toward one `ratio` times narrower (`_tightening_table`) as far as the
    weights `tight` (float32, alpha's size) say."""
    narrow = cv2.LUT(cv2.convertScaleAbs(alpha, alpha=255.0), _tightening_table(ratio))
    return cv2.blendLinear(alpha, narrow, 1.0 - tight, tight)


def _narrow_holes(holes: np.ndarray, mask: np.ndarray, weight: np.ndarray, radius: int) -> np.ndarray:
    """`holes` (the mask's feather) moved towards `feather(mask, radius)` as far as `weight` (float, the
    mask's size) says, on the box where `weight` is not 0 only.

    The narrow feather there is made on that box grown by 3 * radius + 2: its erosion reads `radius`
    pixels round a pixel, its blur (sigma radius / 2, OpenCV's kernel reaching 4 sigma) 2 * radius, so
    the box's pixels are those of the whole mask's feather (the frame-sized feather cost 7 ms at 1080p)."""
    x, y, w, h = cv2.boundingRect(cv2.compare(weight, 0.0, cv2.CMP_GT))
    if w == 0 or h == 0:
        return holes
    grow = 3 * radius + 2
    height, width = mask.shape
    gy0, gx0 = max(y - grow, 0), max(x - grow, 0)
    narrow = feather(mask[gy0 : min(y + h + grow, height), gx0 : min(x + w + grow, width)], radius)
    box = (slice(y, y + h), slice(x, x + w))
    near = np.ascontiguousarray(weight[box])
    holes = holes.copy()
    holes[box] = cv2.blendLinear(holes[box], narrow[y - gy0 : y - gy0 + h, x - gx0 : x - gx0 + w], 1.0 - near, near)
    return holes


def _union(a: tuple[int, int, int, int], b: tuple[int, int, int, int] | None) -> tuple[int, int, int, int]:
    """The smallest (x, y, w, h) box holding boxes a and b (an empty one, w or h 0, holds nothing)."""
    if b is None or b[2] == 0 or b[3] == 0:
        return a
    if a[2] == 0 or a[3] == 0:
        return b
    x0, y0 = min(a[0], b[0]), min(a[1], b[1])
    return x0, y0, max(a[0] + a[2], b[0] + b[2]) - x0, max(a[1] + a[3], b[1] + b[3]) - y0


def _tightening_table(ratio: float) -> np.ndarray:
    """(256,) float32: a feather's alpha (indexed by alpha x 255) -> the alpha of a feather `ratio` times
    narrower at the same place.

    A feather of radius r (`masks.shapes.feather`: eroded by r, blurred with sigma r / 2) is, at depth x
    inside a straight outline, Phi(2x / r - 2); so the narrower one there is Phi(ratio (z + 2) - 2), z the
    wide alpha's Phi^-1. A table on the wide alpha costs a lookup where a second feather cost 4 ms a 720p
    close-up. (`scipy.special`'s normal CDF and its inverse over the 256 levels at once: the same float32
    table as `statistics.NormalDist` level by level, which cost 0.14 ms a frame in Python calls.)"""
    levels = np.clip(np.arange(256) / 255.0, 1e-6, 1.0 - 1e-6)
    table = ndtr(ratio * (ndtri(levels) + 2.0) - 2.0).astype(np.float32)
    table[0], table[-1] = 0.0, 1.0  # 0 outside the mask stays 0
    return table


def _outline_alpha(mask: np.ndarray, radius: int, tight: np.ndarray | None, tight_radius: int) -> np.ndarray:
    """`feather_alpha(mask, radius)`, moved towards a feather of `tight_radius` as far as the weights `tight`
    (float, the mask's size, or None) say; exactly 0 outside the mask either way."""
    if tight is None or tight_radius >= radius or not tight.any():
        return feather_alpha(mask, radius)
    return feather_alpha(mask, radius, np.ascontiguousarray(tight), radius / tight_radius)


def composite(frame: np.ndarray, patch: np.ndarray, mask: np.ndarray, method: str = "multiband",
              feather_radius: int = 8, hole_radius: int | None = None,
              narrow: np.ndarray | None = None, narrow_radius: int = 1,
              tight: np.ndarray | None = None, tight_radius: int = 1) -> np.ndarray:
    """Put `patch` (same size as frame) into `frame` inside `mask` (uint8); outside, frame is untouched.

    `hole_radius`: the mask's holes (a mouth kept from the frame, an occluder) are feathered this narrowly
    and the multi-band pyramid blends as if they were filled, so the frame does not show through a band
    `feather_radius` wide around them: around a kept mouth that band was the target's moustache, a grey
    smudge on a clean-shaven face. The outer outline keeps `feather_radius`.

    `narrow` (float weights in [0, 1], the frame's size; with `hole_radius`): where it is 1 the holes are
    feathered over `narrow_radius` instead (a swapped mouth's opening, filled before the blend with the
    target's teeth warped into it: a wide feather showed the frame's lips round them as a second outline).

    `tight` (float weights in [0, 1], the frame's size): where it is 1 the outer outline is feathered over
    `tight_radius` instead of `feather_radius` (in between, the two feathers mixed by the weight).
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
    tight_weight = None if tight is None else np.asarray(tight[region], dtype=np.float32)
    if filled is local_mask or np.array_equal(filled, local_mask):
        # bands: the multi-band pyramid's masks
        alpha = bands = _outline_alpha(local_mask, feather_radius, tight_weight, tight_radius)
    else:  # the outline feathered wide, the holes narrow (the mask's own wide feather is never needed)
        bands = _outline_alpha(filled, feather_radius, tight_weight, tight_radius)
        # The narrow feather is under the wide one but near the holes (on a straight outline, at depth x
        # feather_r is about Phi(2x / r - 2), larger for the smaller r): made on the holes' box only.
        weight = None if narrow is None else np.asarray(narrow[region], dtype=np.float32)
        hx, hy, hw, hh = _union(cv2.boundingRect(cv2.subtract(filled, local_mask)),
                                None if weight is None else cv2.boundingRect(cv2.compare(weight, 0.0, cv2.CMP_GT)))
        grow = 4 * hole_radius + 4  # its erosion and blur's reach, and a low-resolution pixel or two
        height, width = local_mask.shape
        near = (slice(max(hy - grow, 0), min(hy + hh + grow, height)), slice(max(hx - grow, 0), min(hx + hw + grow, width)))
        holes = feather_alpha(local_mask[near], hole_radius)
        if weight is not None:
            holes = _narrow_holes(holes, local_mask[near], weight[near], narrow_radius)
        alpha = bands.copy()
        alpha[near] = np.minimum(bands[near], holes)
    # alpha is 0 outside the mask: only the mask's own box changes
    mx, my, mw, mh = cv2.boundingRect(local_mask)
    inside = (slice(my, my + mh), slice(mx, mx + mw))
    if method == "multiband":
        levels = int(np.clip(np.log2(max(min(local_mask.shape) / 16, 1)), 1, 5))
        changed = _multiband(source, base, bands, levels, (my, my + mh, mx, mx + mw))
    else:
        changed = source[inside]
    out = frame.copy()
    # base * (1 - alpha) + source * alpha, rounded, in one pass; where alpha is 0 it is base exactly.
    weights = np.ascontiguousarray(alpha[inside], dtype=np.float32)
    out[y0 + my : y0 + my + mh, x0 + mx : x0 + mx + mw] = cv2.blendLinear(base[inside], changed, 1.0 - weights, weights)
    return out
