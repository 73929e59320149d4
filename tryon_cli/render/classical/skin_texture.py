"""Skin texture for filled skin: the detail of the person's own visible skin, laid over the filled area
in overlapping patches, so the fill is no flat paint.

Two bands are laid. The fine band (pores, fine hair, grain) is the relative high frequency of the
lightness, L / blur(L) - 1; the middle band (the skin's mottling and soft shading, a few to a dozen px on a
1024 px photo) is blur(L) / wider blur(L) - 1, laid in larger patches. Patches are drawn at random (fixed
seed) around the visible skin and blended with raised-cosine weights on a half-overlapping grid; a band is measured on the skin alone
(normalised convolution) and a patch lays only its pixels on skin, so small or thin visible skin (hands,
forearms) still gives texture and no silhouette's edge is copied.
"""

from __future__ import annotations

import cv2
import numpy as np

DETAIL_SIGMA = 0.004  # the fine detail is what a blur at this share of the long side removes ...
MIN_DETAIL_SIGMA = 1.5  # ... (px, at least)
PATCH = 0.016  # fine patch side, as a share of the long side ...
MIN_PATCH = 10  # ... (px, at least)
DETAIL_CLIP = 0.12  # relative detail kept within +-this (a mole or a specular glint is no texture)
# the middle band: what a blur at MID_SIGMA removes from the fine band's blur (without it a filled midriff or
# arm was a flat slab beside the real skin's mottling and soft shading), laid in patches of MID_PATCH
MID_FINE, MID_SIGMA = 0.008, 0.03
MID_PATCH = 0.06
MID_CENTRE_DEPTH = 0.15  # a middle patch is centred at least this share of its side inside the skin
MID_CLIP = 0.05  # ... within +-this (a shadow's edge, a vein or stubble is no texture) ...
MID_STRENGTH = 0.6  # ... at this share of the source's contrast (at full contrast a filled arm looked blotchy)
MIN_SOURCES = 20  # patch centres needed before a band is laid at all


def _relative(grey: np.ndarray, source: np.ndarray, fine: float, coarse: float, clip: float) -> np.ndarray:
    """The band of `grey` between the blurs at `fine` (none at 0) and `coarse` px, relative (near / far - 1),
    measured on `source` only (normalised convolution: the backdrop or a garment beside the skin adds no
    edge), clipped to +-`clip`; 0 off `source`."""
    weight = source.astype(np.float32)

    def blur(sigma: float) -> np.ndarray:
        if sigma <= 0:
            return grey
        return cv2.GaussianBlur(grey * weight, (0, 0), sigma) / np.maximum(cv2.GaussianBlur(weight, (0, 0), sigma), 1e-3)

    return np.where(source, np.clip(blur(fine) / np.maximum(blur(coarse), 1.0) - 1.0, -clip, clip), 0.0).astype(np.float32)


def _patches(relative: np.ndarray, centres: np.ndarray, on: np.ndarray, region: np.ndarray, patch: int,
             rng: np.random.Generator, measured: np.ndarray) -> np.ndarray:
    """`relative` copied over `region`'s box in patches of side `patch` centred on random `centres` pixels,
    each patch's pixels weighted by `on` (float) and a raised cosine, its contrast that of `relative` on
    `measured`."""
    h, w = region.shape
    half = patch // 2
    ys, xs = np.nonzero(centres)
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
            valid = on[cy - half : cy - half + patch, cx - half : cx - half + patch] * window
            if rng.random() < 0.5:  # mirrored now and then: fewer repeats of one patch's shape
                piece, valid = piece[:, ::-1], valid[:, ::-1]
            total[top : top + patch, left : left + patch] += piece * valid
            weight[top : top + patch, left : left + patch] += valid
    laid = total[:h, :w] / np.maximum(weight[:h, :w], 1e-3)
    # overlapping sums of independent patches are smoother than one patch: restore the source's contrast
    spread = float(relative[measured].std())
    laid_spread = float(laid[region].std())
    if laid_spread > 1e-6:
        laid *= spread / laid_spread
    return laid


def _centres(source: np.ndarray, reach: int, margin: int) -> np.ndarray | None:
    """`source` eroded by `reach` px and kept `margin` px (half a patch) off the frame's border; None when
    fewer than MIN_SOURCES pixels remain."""
    h, w = source.shape
    core = cv2.erode(source.astype(np.uint8), np.ones((2 * reach + 1, 2 * reach + 1), np.uint8)) > 0
    core[:margin + 1] = core[h - margin - 1 :] = False
    core[:, :margin + 1] = core[:, w - margin - 1 :] = False
    return core if core.sum() >= MIN_SOURCES else None


def skin_detail(frame: np.ndarray, source: np.ndarray, region: np.ndarray, seed: int = 0) -> np.ndarray:
    """Relative detail (float32, about 0, frame-sized) over `region`, copied from `source` (bool masks):
    the fine band from patches wholly inside it, plus the middle band where it holds enough of its patches'
    centres; zero elsewhere, and zero everywhere when it holds too few fine patches."""
    h, w = region.shape
    detail = np.zeros((h, w), np.float32)
    if not region.any():
        return detail
    long_side = max(h, w)
    grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float32) + 8.0  # (+8: no division by black)
    sigma = max(DETAIL_SIGMA * long_side, MIN_DETAIL_SIGMA)
    patch = max(int(PATCH * long_side), MIN_PATCH)
    inner = _centres(source, patch // 2, patch // 2)
    if inner is None:
        return detail
    relative = np.clip(grey / cv2.GaussianBlur(grey, (0, 0), sigma) - 1.0, -DETAIL_CLIP, DETAIL_CLIP)
    rng = np.random.default_rng(seed)
    # (a fine patch lies wholly inside the skin: the whole patch counts)
    laid = _patches(relative, inner, cv2.dilate(inner.astype(np.uint8), np.ones((patch + 1, patch + 1), np.uint8))
                    .astype(np.float32), region, patch, rng, inner)
    # the middle band, measured on a little inside the skin only: a patch lays only its skin's pixels
    skin = cv2.erode(source.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    mid_patch = max(int(MID_PATCH * long_side), 2 * MIN_PATCH)
    centres = _centres(skin, max(int(MID_CENTRE_DEPTH * mid_patch), 1), mid_patch // 2)
    if centres is not None:
        band = _relative(grey, skin, max(MID_FINE * long_side, sigma), max(MID_SIGMA * long_side, 2 * sigma), MID_CLIP)
        laid = laid + MID_STRENGTH * _patches(band, centres, skin.astype(np.float32), region, mid_patch, rng,
                                                skin)
    detail[region] = laid[region]
    return detail
