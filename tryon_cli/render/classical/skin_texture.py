"""Skin texture for filled skin: the fine detail (pores, fine hair, grain) of the person's own visible
skin, laid over the filled area in overlapping patches, so the fill is no flat paint.

The detail is the relative high frequency of the lightness, L / blur(L) - 1, taken from patches that lie
wholly inside the visible skin (eroded, so no edge or silhouette is copied). Patches are drawn at random
(fixed seed) and blended with raised-cosine weights on a half-overlapping grid.
"""

from __future__ import annotations

import cv2
import numpy as np

DETAIL_SIGMA = 0.004  # the detail is what a blur at this share of the long side removes ...
MIN_DETAIL_SIGMA = 1.5  # ... (px, at least)
PATCH = 0.016  # patch side, as a share of the long side ...
MIN_PATCH = 10  # ... (px, at least)
DETAIL_CLIP = 0.12  # relative detail kept within +-this (a mole or a specular glint is no texture)
MIN_SOURCES = 20  # patch centres needed before texture is laid at all


def skin_detail(frame: np.ndarray, source: np.ndarray, region: np.ndarray, seed: int = 0) -> np.ndarray:
    """Relative detail (float32, about 0, frame-sized) over `region`, copied from patches of `source`
    (bool masks); zero elsewhere, and zero everywhere when the visible skin holds too few patches."""
    h, w = region.shape
    detail = np.zeros((h, w), np.float32)
    if not region.any():
        return detail
    long_side = max(h, w)
    patch = max(int(PATCH * long_side), MIN_PATCH)
    half = patch // 2
    grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float32) + 8.0  # (+8: no division by black)
    sigma = max(DETAIL_SIGMA * long_side, MIN_DETAIL_SIGMA)
    relative = np.clip(grey / cv2.GaussianBlur(grey, (0, 0), sigma) - 1.0, -DETAIL_CLIP, DETAIL_CLIP)
    inner = cv2.erode(source.astype(np.uint8), np.ones((patch + 1, patch + 1), np.uint8)) > 0
    inner[:half + 1] = inner[h - half - 1 :] = False
    inner[:, :half + 1] = inner[:, w - half - 1 :] = False
    ys, xs = np.nonzero(inner)
    if len(ys) < MIN_SOURCES:
        return detail
    rng = np.random.default_rng(seed)
    window = np.outer(np.hanning(patch + 2)[1:-1], np.hanning(patch + 2)[1:-1]).astype(np.float32)
    x0, y0, box_w, box_h = cv2.boundingRect(region.astype(np.uint8))
    y1, x1 = y0 + box_h, x0 + box_w
    total = np.zeros((h + patch, w + patch), np.float32)
    weight = np.zeros_like(total)
    for top in range(max(y0 - half, 0), y1, half):
        for left in range(max(x0 - half, 0), x1, half):
            pick = rng.integers(len(ys))
            cy, cx = ys[pick], xs[pick]
            piece = relative[cy - half : cy - half + patch, cx - half : cx - half + patch]
            if rng.random() < 0.5:  # mirrored now and then: fewer repeats of one patch's shape
                piece = piece[:, ::-1]
            total[top : top + patch, left : left + patch] += piece * window
            weight[top : top + patch, left : left + patch] += window
    laid = total[:h, :w] / np.maximum(weight[:h, :w], 1e-3)
    # overlapping sums of independent patches are smoother than one patch: restore the source's contrast
    spread = float(relative[inner].std())
    laid_spread = float(laid[region].std())
    if laid_spread > 1e-6:
        laid *= spread / laid_spread
    detail[region] = laid[region]
    return detail
