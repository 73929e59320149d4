"""Sharpness and grain matching: the pasted face as sharp and as grainy as the frame around it.

A photo's face is usually sharper than a video frame's (blur it), and a small or old photo is softer
(add grain). Sharpness is the Laplacian variance of the grey face region, as `tryon eval swap` measures
it; the patch is changed only when its ratio to the target's leaves [LOW, HIGH], and then only just
inside, so a face that already fits is untouched (identity costs nothing there).

The grain is value noise fixed to the source texture (hashed on its pixel lattice, sampled through the
warp's coordinates): it moves with the face like skin texture, so it adds no flicker between frames.
"""

from __future__ import annotations

import cv2
import numpy as np

from ...masks.shapes import as_mask, erode_disc
from .softness import crossing_sigma, match_softness

LOW, HIGH = 0.75, 1.5  # sharpness ratios (patch / target) left alone; outside, moved back inside
GRAIN_GOAL = 0.95  # a soft face is grained up to this ratio, not just LOW: video encoding takes some back
BLUR_SIGMAS = (0.0, 0.5, 0.7, 1.0, 1.4, 2.0, 2.8)  # candidate blurs, interpolated between (pixels)
MAX_GRAIN_STD = 6.0  # grey levels: more grain than this looks dirty, whatever the ratio says
MIN_PIXELS = 200
GRAIN_CELL = 1.5  # output pixels per grain lattice cell: 1-pixel grain is the first thing H.264 drops
# (single frames encoded at crf 18, 3 soft sources onto 2 videos: ratio 0.45..0.66 at 1 px, 0.62..0.76 at 1.5)


def laplacian_variance(grey: np.ndarray, region: np.ndarray) -> float:
    """Variance of the Laplacian of a grey image over the region's pixels (nan when too few).

    The Laplacian runs on the region's box grown by its 3x3 kernel's reach only: every region pixel's
    neighbours (or the image's reflected border) are the same there, so the values are the same."""
    x, y, w, h = cv2.boundingRect(region if region.dtype == np.uint8 else as_mask(region))
    if w == 0 or h == 0:
        return float("nan")
    x0, y0 = max(x - 1, 0), max(y - 1, 0)
    x1, y1 = min(x + w + 1, grey.shape[1]), min(y + h + 1, grey.shape[0])
    values = cv2.Laplacian(grey[y0:y1, x0:x1], cv2.CV_32F)[region[y0:y1, x0:x1] > 0]
    return float(values.var()) if values.size >= MIN_PIXELS else float("nan")


def grey(image: np.ndarray) -> np.ndarray:
    """RGB uint8 `image` as float32 grey: what the sharpness measures read."""
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)


def _hash_noise(ix: np.ndarray, iy: np.ndarray) -> np.ndarray:
    """Deterministic noise in [-1, 1) per integer lattice point (an integer hash, no state)."""
    h = (ix.astype(np.uint32) * np.uint32(0x8DA6B343)) ^ (iy.astype(np.uint32) * np.uint32(0xD8163841))
    h ^= h >> np.uint32(13)
    h *= np.uint32(0x85EBCA6B)
    h ^= h >> np.uint32(16)
    return (h & np.uint32(0xFFFF)).astype(np.float32) / 32768.0 - 1.0


def texture_grain(coords: np.ndarray, cell: float) -> np.ndarray:
    """Value noise (h, w) float32, unit-ish amplitude, on a lattice of `cell` texture pixels.

    Sampled at `coords` (the warp's texture coordinates), bilinearly between lattice points, so the
    grain is attached to the face, not to the screen. Pixels outside the warp (coords -1) get 0.
    """
    inside = coords[..., 0] >= 0
    x = coords[..., 0] / cell + 1024.0
    y = coords[..., 1] / cell + 1024.0
    x0, y0 = np.floor(x), np.floor(y)
    fx, fy = x - x0, y - y0
    ix, iy = x0.astype(np.int64), y0.astype(np.int64)
    top = _hash_noise(ix, iy) * (1 - fx) + _hash_noise(ix + 1, iy) * fx
    bottom = _hash_noise(ix, iy + 1) * (1 - fx) + _hash_noise(ix + 1, iy + 1) * fx
    noise = top * (1 - fy) + bottom * fy
    return np.where(inside, noise, 0.0).astype(np.float32)


def _blur_sigma(grey: np.ndarray, region: np.ndarray, goal: float) -> float:
    """The Gaussian sigma that brings the region's Laplacian variance down to `goal` (interpolated in log)."""
    sigmas, values = [0.0], [laplacian_variance(grey, region)]
    for sigma in BLUR_SIGMAS[1:]:
        sigmas.append(sigma)
        values.append(laplacian_variance(cv2.GaussianBlur(grey, (0, 0), sigma), region))
        if values[-1] <= goal:
            break
    return crossing_sigma(sigmas, values, goal, floor=1e-6)


def match_sharpness(patch: np.ndarray, target: np.ndarray, region: np.ndarray, grain: np.ndarray | None,
                    greys: tuple[np.ndarray | None, np.ndarray | None] = (None, None)) -> np.ndarray:
    """`patch` (RGB uint8) blurred or grained so its face region's sharpness ratio to `target`'s lands in
    [LOW, HIGH]. `grain` is `texture_grain` over the same box (None: a soft face stays soft); `region`
    the face pixels both share. `greys`: the patch's and the target's float32 grey (`grey`), when the
    caller has them."""
    grey_patch = grey(patch) if greys[0] is None else greys[0]
    target_value = laplacian_variance(grey(target) if greys[1] is None else greys[1], region)
    patch_value = laplacian_variance(grey_patch, region)
    if not (np.isfinite(target_value) and np.isfinite(patch_value)) or target_value < 1e-3:
        return patch
    ratio = patch_value / target_value
    if ratio > HIGH:
        sigma = _blur_sigma(grey_patch, region, HIGH * target_value)
        return cv2.GaussianBlur(patch, (0, 0), sigma) if sigma > 0.05 else patch
    if ratio < LOW and grain is not None:
        # Independent grain adds its own Laplacian variance: scale it to make up the difference.
        grain_value = laplacian_variance(grain, region)
        if not np.isfinite(grain_value) or grain_value < 1e-6:
            return patch
        gain = np.sqrt((GRAIN_GOAL * target_value - patch_value) / grain_value)
        gain = min(gain, MAX_GRAIN_STD / max(float(grain[region > 0].std()), 1e-6))
        return np.clip(patch.astype(np.float32) + gain * grain[..., None], 0, 255).astype(np.uint8)
    return patch


def detail_region(pasted: np.ndarray, face_width: float) -> np.ndarray:
    """Where a face's sharpness is measured: the pasted pixels shrunk off their edge (the warp's border and
    the mask's outline are not the face's detail)."""
    return erode_disc(pasted, max(int(face_width * 0.03), 2))


def match_face_grain(warped: np.ndarray, target: np.ndarray, pasted: np.ndarray, coords: np.ndarray,
                     texture_face_width: float, face_width: float, add_grain: bool = True,
                     region: np.ndarray | None = None, target_grey: np.ndarray | None = None) -> np.ndarray:
    """`match_sharpness` for one face's box: measured over the pasted pixels shrunk off their edge (the
    warp's border and the mask's outline are not the face's detail; `region`, when the caller has it
    already, is `detail_region(pasted, face_width)`; `target_grey`, `grey(target)`); grain GRAIN_CELL output
    pixels fine."""
    if region is None:
        region = detail_region(pasted, face_width)
    cell = max(GRAIN_CELL * texture_face_width / max(face_width, 1.0), 1.0)
    # Blur first where the frame is soft at the features' scale (motion, focus); the finest scale's noise
    # and grain are then matched on the blurred face.
    # both matches read the two greys: made once (the patch's again only when the softness blurred it)
    greys = grey(warped), grey(target) if target_grey is None else target_grey
    softened = match_softness(warped, target, region, face_width, greys)
    if softened is not warped:
        greys = grey(softened), greys[1]
    return match_sharpness(softened, target, region, texture_grain(coords, cell) if add_grain else None, greys)
