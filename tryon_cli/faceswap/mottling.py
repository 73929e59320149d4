"""Calm a source photo's mottled skin: the blotches of an old, noisy or JPEG-blocked photo.

A degraded photo's skin is covered in blotches a few pixels across (film grain, halftone, compression
blocks): a middle band of lightness between the fine detail and the face's shape. Warped onto a clean
video frame they read as a cobbled, dirty skin. Where that band's typical (median absolute) amplitude,
relative to the skin's lightness, is above what clean photos show, it is shrunk to that level on the
skin only (eyes, brows, lips and nostrils keep theirs), so clean photos are untouched.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..masks.face import skin_sample_region

FINE_SIGMA = 0.004  # the band's lower edge (blur sigma), as a fraction of the face's width (plus half a pixel)
COARSE_SIGMA = 0.02  # its upper edge: blotches up to about 5% of the face's width, not its shape
MOTTLE_LEVEL = 4.0  # percent of the skin's mean lightness: the band's robust amplitude on the shared
# portraits is 0.5 to 3.2 on clean photos, 3.9 and 4.0 under a scowl's creases and thick glasses' frames,
# 4.3 on a degraded low-resolution photo and 5.7 on a blotchy 1927 photo
CALM_LEVEL = 1.5  # a photo past MOTTLE_LEVEL is calmed toward this amplitude, twice as fast as it is past it
FEATHER = 0.01  # the smoothing fades out over about this fraction of the face's width (blur sigma)


def band_amplitude(lightness: np.ndarray, skin: np.ndarray, face_width: float) -> tuple[np.ndarray, float]:
    """The middle band (FINE_SIGMA..COARSE_SIGMA) of float `lightness` and its robust amplitude over the
    skin in percent of the skin's mean lightness (0 when there is no skin)."""
    fine = cv2.GaussianBlur(lightness, (0, 0), FINE_SIGMA * face_width + 0.5)  # the same sigmas as _band_peak's
    band = fine - cv2.GaussianBlur(lightness, (0, 0), max(COARSE_SIGMA * face_width, 1.0))
    inside = skin > 0
    if not inside.any():
        return band, 0.0
    level = float(lightness[inside].mean())
    mad = float(np.median(np.abs(band[inside])))
    return band, 100.0 * 1.4826 * mad / max(level, 1.0)


def _band_peak(fine: float, coarse: float) -> float:
    """The largest gain of the difference of Gaussians G(fine) - G(coarse) over all frequencies."""
    ratio = (coarse / fine) ** 2
    if ratio <= 1.0:
        return 1.0
    return float(ratio ** (-1.0 / (ratio - 1.0)) - ratio ** (-ratio / (ratio - 1.0)))


def calm_keep(amplitude: float) -> float:
    """The fraction of the middle band kept for a skin of this amplitude: 1 up to MOTTLE_LEVEL, then an
    amplitude falling from MOTTLE_LEVEL twice as fast as the photo's rises past it, down to CALM_LEVEL
    (continuous: a photo just past the level is barely touched)."""
    if amplitude <= MOTTLE_LEVEL:
        return 1.0
    return max(CALM_LEVEL, MOTTLE_LEVEL - 2.0 * (amplitude - MOTTLE_LEVEL)) / amplitude


def calm_mottling(image: np.ndarray, points: np.ndarray) -> np.ndarray:
    """`image` (RGB uint8) with its face's mottled skin calmed (unchanged when the skin is not mottled).

    `points` is the face's mesh in image pixels. The lightness's middle band is scaled by
    `calm_keep(amplitude)` on the skin, feathered toward the features; the chroma's band with it.
    """
    width = float(np.ptp(points[:, 0]))
    skin = skin_sample_region(image.shape[:2], points)
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB).astype(np.float32)
    band, amplitude = band_amplitude(lab[..., 0], skin, width)
    keep = calm_keep(amplitude)
    if keep >= 1.0:
        return image
    # Feathered across the skin region's edge: the features themselves lie a margin beyond it.
    weight = cv2.GaussianBlur((skin > 0).astype(np.float32), (0, 0), max(FEATHER * width, 1.0))
    weight[weight < 0.02] = 0.0  # the blur's far tail: the features keep their pixels exactly
    # The band-pass passes at most `peak` of any frequency: removing (1 - keep) / peak of it takes the
    # blotches' own frequencies down to about `keep` (never below zero at any frequency).
    amount = weight * (1.0 - keep) / _band_peak(FINE_SIGMA * width + 0.5, max(COARSE_SIGMA * width, 1.0))
    lab[..., 0] -= amount * band
    for channel in (1, 2):  # the blotches' colour (red and green specks) goes with them
        chroma_band, _ = band_amplitude(lab[..., channel], skin, width)
        lab[..., channel] -= amount * chroma_band
    calmed = cv2.cvtColor(np.clip(lab + 0.5, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)
    return np.where(weight[..., None] > 0, calmed, image)  # no Lab round trip's rounding off the skin
