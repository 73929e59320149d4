"""Detail restoration: a rendered face softer than the frame's face gets fine detail back.

A small, old or blurry source photo, stretched over a larger face, is softer than the video around it,
and the face looks pasted. Two sources of detail, in this order, each only as much as needed to bring the
face's sharpness (Laplacian variance of the grey face region, as `tryon eval swap` measures it) up to
GOAL times the target's:

1. the target's own fine detail (the band below FINE_SIGMA: pores, stubble, the video's grain and
   compression texture) on skin only, never on the eyes, brows, lips or nostrils (that would be the
   target's features: double eyes). It moves with the target, so it adds no flicker of its own;
2. an unsharp mask of the face itself (features included), with its band cored (small values, the
   source's noise and JPEG blocks, shrunk), so a low-resolution source gets edges, not noise.

Both go into lightness only (the same value on R, G and B), so colour is the colour match's.
"""

from __future__ import annotations

import cv2
import numpy as np

from .grain import MIN_PIXELS, grey

LOW = 0.8  # a face at least this sharp (ratio to the target's) is left alone
GOAL = 1.0  # restored up to this ratio (the output's encoding takes some back)
FINE_SIGMA = 1.0  # pixels: the target's fine band is the frame minus this blur
SHARPEN_SIGMA = 1.2  # pixels: the unsharp mask's blur
TARGET_DETAIL_AMOUNTS = (0.25, 0.5, 0.75, 1.0)  # the target's fine band is tried at these gains
SHARPEN_AMOUNTS = (0.25, 0.5, 1.0, 1.5, 2.0, 3.0)  # and then the unsharp mask at these
CORING_MADS = 1.5  # band values under this many median absolute deviations are mostly noise: shrunk
CORING_SAMPLES = 40_000  # the deviation's median is taken over about this many of the region's values
SKIN_FEATHER = 2.0  # pixels: the skin weight's soft edge


def _mixed(base: tuple[float, float], detail: tuple[float, float], cross: float,
           amount: float) -> tuple[float, float]:
    """(sum, sum of squares) of `base + amount * detail` from each one's (sum, sum of squares) and their
    dot product `cross`."""
    return base[0] + amount * detail[0], base[1] + 2.0 * amount * cross + amount * amount * detail[1]


def _sums(values: np.ndarray) -> tuple[float, float]:
    return float(values.sum(dtype=np.float64)), float(np.dot(values, values))


def _variance(n: int, sums: tuple[float, float]) -> float:
    mean = sums[0] / n
    return sums[1] / n - mean * mean


def _smallest(n: int, base: tuple[float, float], detail: tuple[float, float], cross: float,
              amounts: tuple[float, ...], goal: float) -> float:
    """The smallest of `amounts` whose `base + amount * detail` reaches `goal` sharpness (else the largest).

    `base`, `detail`: (sum, sum of squares) of the two Laplacians over the region's `n` pixels, `cross` their
    dot product: the Laplacian is linear, so each candidate's variance follows from these moments without
    forming it."""
    for amount in amounts:
        if _variance(n, _mixed(base, detail, cross, amount)) >= goal:
            return amount
    return amounts[-1]


def cored(band: np.ndarray, region: np.ndarray) -> np.ndarray:
    """`band` with its small values shrunk (soft coring, d * d^2 / (d^2 + t^2)): t is CORING_MADS median
    absolute deviations of the band over the region, the noise floor of a flat patch of skin (the median of
    at most about CORING_SAMPLES of the region's values, evenly spread)."""
    values = band[region > 0]
    if values.size == 0:
        return band
    values = values[:: max(values.size // CORING_SAMPLES, 1)]
    threshold = CORING_MADS * float(np.median(np.abs(values))) / 0.6745 + 1e-3
    squared = band * band
    denominator = squared + threshold * threshold
    # band * squared / denominator, the same operations in place (two fewer box-sized arrays: 1 ms at 1080)
    np.multiply(band, squared, out=squared)
    return np.divide(squared, denominator, out=squared)


def restore_detail(patch: np.ndarray, target: np.ndarray, region: np.ndarray, skin: np.ndarray,
                   target_grey: np.ndarray | None = None) -> np.ndarray:
    """`patch` (RGB uint8, the face's box) with detail added until its sharpness ratio to `target` over
    `region` reaches GOAL, when it is under LOW; `skin` (0/255) is where the target's fine detail may go.

    Sharpness is `grain.laplacian_variance`; each image's Laplacian over the region is taken once.
    `target_grey`: `grain.grey(target)`, when the caller has it (the grain match reads it too)."""
    inside = region > 0
    if np.count_nonzero(inside) < MIN_PIXELS:
        return patch
    grey_patch = grey(patch)
    grey_target = grey(target) if target_grey is None else target_grey
    lap_patch = cv2.Laplacian(grey_patch, cv2.CV_32F)[inside]
    target_value = float(cv2.Laplacian(grey_target, cv2.CV_32F)[inside].var())
    patch_value = float(lap_patch.var())
    if not (np.isfinite(target_value) and np.isfinite(patch_value)) or target_value < 1e-3:
        return patch
    if patch_value >= LOW * target_value:
        return patch
    goal = GOAL * target_value
    weight = cv2.GaussianBlur((skin > 0).astype(np.float32), (0, 0), SKIN_FEATHER)
    fine = cv2.multiply(cv2.subtract(grey_target, cv2.GaussianBlur(grey_target, (0, 0), FINE_SIGMA)), weight)
    lap_fine = cv2.Laplacian(fine, cv2.CV_32F)[inside]
    n, patch_sums, fine_sums = lap_patch.size, _sums(lap_patch), _sums(lap_fine)
    patch_fine = float(np.dot(lap_patch, lap_fine))
    amount = _smallest(n, patch_sums, fine_sums, patch_fine, TARGET_DETAIL_AMOUNTS, goal)
    added = fine * np.float32(amount)
    with_fine = _mixed(patch_sums, fine_sums, patch_fine, amount)  # of lap_patch + amount * lap_fine
    if _variance(n, with_fine) < goal:
        band = cored(grey_patch - cv2.GaussianBlur(grey_patch, (0, 0), SHARPEN_SIGMA), region)
        lap_band = cv2.Laplacian(band, cv2.CV_32F)[inside]
        cross = float(np.dot(lap_patch, lap_band)) + amount * float(np.dot(lap_fine, lap_band))
        added += _smallest(n, with_fine, _sums(lap_band), cross, SHARPEN_AMOUNTS, goal) * band
    # patch + added, rounded half up: patch is whole, so that is patch + floor(added + 0.5), saturated
    step = np.floor(added + 0.5).astype(np.int16)
    return cv2.add(patch, cv2.merge([step, step, step]), dtype=cv2.CV_8U)
