"""Classical garment rendering: fill the mask plausibly, lay the warped garment over it, keep what is in front."""

from __future__ import annotations

import cv2
import numpy as np

from ...analysis.body import is_skin
from .engine import fill_masked
from ..contract import GarmentConditions, paste_back
from ...masks.shapes import feather

FALLBACK_SKIN = (198, 160, 140)


def skin_colour(frame: np.ndarray, person: np.ndarray | None, mask: np.ndarray) -> np.ndarray:
    """Median colour of the visible skin of the person outside the mask."""
    if person is None:
        return np.array(FALLBACK_SKIN, dtype=np.float32)
    candidates = frame[(person > 0) & (mask == 0)]
    if len(candidates) < 50:
        return np.array(FALLBACK_SKIN, dtype=np.float32)
    skin = is_skin(candidates[None])[0]
    return np.median(candidates[skin], axis=0).astype(np.float32) if skin.sum() > 50 else \
        np.array(FALLBACK_SKIN, dtype=np.float32)


def render_garment_classical(frame: np.ndarray, mask: np.ndarray, condition: GarmentConditions) -> np.ndarray:
    """Mask mode: the mask is filled (background from its surroundings, body as skin), then the warped
    garment goes on top, under face, hair and hands. Mask-free: the garment alone, same occlusion order."""
    mode = condition.extras.get("mode", "mask")
    person = condition.extras.get("person")
    keep = condition.keep if condition.keep is not None else np.zeros(mask.shape, np.uint8)
    alpha = condition.warped_alpha * (keep == 0)
    alpha = cv2.GaussianBlur(alpha, (0, 0), 1.0) * (keep == 0)
    if mode == "mask":
        base = frame
        old = condition.extras.get("old_garment")
        if old is not None:
            uncovered = np.where((old > 0) & (alpha < 0.5), 255, 0).astype(np.uint8)
            uncovered = cv2.dilate(uncovered, np.ones((5, 5), np.uint8)) & mask
            torso = condition.extras.get("torso")
            arms = uncovered & ~torso if torso is not None else np.zeros_like(uncovered)
            base = fill_masked(frame, uncovered & ~arms) if (uncovered & ~arms).any() else frame
            if arms.any():
                tone = skin_colour(frame, person, mask)
                shade = cv2.GaussianBlur(cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float32), (0, 0), 9)
                shade /= max(float(np.median(shade[arms > 0])), 1.0)
                skin = np.clip(tone[None, None] * np.clip(shade, 0.75, 1.2)[..., None], 0, 255).astype(np.uint8)
                base = np.where(arms[..., None] > 0, skin, base)
    else:
        base = frame
    composed = (base.astype(np.float32) * (1 - alpha[..., None]) + condition.warped.astype(np.float32) * alpha[..., None])
    composed = np.clip(composed + 0.5, 0, 255).astype(np.uint8)
    region = mask if mode == "mask" else np.where(alpha > 0.01, 255, 0).astype(np.uint8)
    return paste_back(frame, composed, feather(region, 3))


