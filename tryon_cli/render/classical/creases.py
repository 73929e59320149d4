"""Expression creases: the target's, not the source photo's.

A source photo's scowl, grimace or laugh leaves creases in its skin (the furrows between the brows, the
forehead's lines, the folds beside the nose and mouth). Neutralising the shape does not remove them from
the texture, so they would sit on every frame whatever the target's face does. They live in a middle
band of spatial frequencies (a few pixels to a few percent of the face's width): above the fine band of
pores and grain, below the broad shading that gives the face its shape. On the skin away from the
features, the rendered face's middle band is replaced by the target frame's own: the creases then come
and go with the target's expression. Eyes, brows, lips and nostrils (grown by FEATURE_CLEARANCE, so
their edges' band stays) and the broad shading are the source's.
"""

from __future__ import annotations

import cv2
import numpy as np

from ...masks.face import face_region, feature_regions

CREASE_BAND = (0.006, 0.05)  # the middle band: between these Gaussian blurs, as fractions of the face's width
FEATURE_CLEARANCE = 0.03  # features grown by this fraction of the face's width are left out of the zone
OUTLINE_CLEARANCE = 0.04  # and so is the face's outline shrunk by this (the band's halo of the jaw line)
ZONE_FEATHER = 0.02  # the zone's soft edge (Gaussian sigma), as a fraction of the face's width


def crease_zone(shape: tuple[int, int], points: np.ndarray, target_points: np.ndarray, face_width: float) -> np.ndarray:
    """(h, w) float32 weight 0..1: the skin where creases form, clear of both faces' features and outlines."""
    grow = max(int(FEATURE_CLEARANCE * face_width), 1)
    shrink = max(int(OUTLINE_CLEARANCE * face_width), 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * shrink + 1, 2 * shrink + 1))
    zone = cv2.erode(face_region(shape, points) & face_region(shape, target_points), kernel)
    zone &= ~(feature_regions(shape, points, grow) | feature_regions(shape, target_points, grow))
    return cv2.GaussianBlur(zone.astype(np.float32) / 255.0, (0, 0), max(ZONE_FEATHER * face_width, 1.0))


def middle_band(grey: np.ndarray, face_width: float) -> np.ndarray:
    """The grey image's creases band: the difference of two Gaussian blurs (CREASE_BAND of the face's width)."""
    low, high = (max(f * face_width, 0.5) for f in CREASE_BAND)
    return cv2.GaussianBlur(grey, (0, 0), low) - cv2.GaussianBlur(grey, (0, 0), high)


def carry_target_creases(image: np.ndarray, target: np.ndarray, zone: np.ndarray, face_width: float) -> np.ndarray:
    """`image` (RGB uint8, the face's box) with its middle band replaced by `target`'s over `zone` (0..1),
    in lightness only (the same change on R, G and B)."""
    grey_image = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    grey_target = cv2.cvtColor(target, cv2.COLOR_RGB2GRAY).astype(np.float32)
    change = zone * (middle_band(grey_target, face_width) - middle_band(grey_image, face_width))
    return np.clip(image.astype(np.float32) + change[..., None] + 0.5, 0, 255).astype(np.uint8)
