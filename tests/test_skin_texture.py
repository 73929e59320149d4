"""Filled skin's texture: the person's own skin detail, fine grain and the middle band's soft shading."""

from __future__ import annotations

import cv2
import numpy as np

from tryon_cli.render.classical.skin_texture import skin_detail

SHAPE = (600, 500)


def _band(values: np.ndarray, fine: float, coarse: float) -> np.ndarray:
    return cv2.GaussianBlur(values, (0, 0), fine) - cv2.GaussianBlur(values, (0, 0), coarse)


def mottled_skin(seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """A frame of skin whose lightness varies softly over about ten px (mottling and shading, no grain),
    and the mask of where it is seen (a forearm-wide band and a face-sized block)."""
    rng = np.random.default_rng(seed)
    soft = cv2.GaussianBlur(rng.normal(0, 1, SHAPE).astype(np.float32), (0, 0), 8.0)
    soft *= 5.0 / soft.std()
    frame = np.clip(np.array((200, 150, 125), np.float32) + soft[..., None], 0, 255).astype(np.uint8)
    seen = np.zeros(SHAPE, bool)
    seen[40:160, 40:200] = True
    seen[300:560, 60:110] = True
    return frame, seen


def test_a_fill_carries_the_skins_soft_shading_not_only_its_grain():
    """The skin's variation over a few to a dozen px (the middle band) is laid over the fill too, at a share
    of its contrast in the visible skin: with the fine grain alone a filled midriff was a flat slab."""
    frame, seen = mottled_skin()
    region = np.zeros(SHAPE, bool)
    region[250:450, 220:460] = True  # a midriff to fill
    detail = skin_detail(frame, seen, region)
    grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float32)
    relative = grey / cv2.GaussianBlur(grey, (0, 0), 30.0) - 1.0
    visible = _band(relative, 4.0, 18.0)[seen].std()
    laid = _band(detail, 4.0, 18.0)[260:440, 230:450].std()
    assert laid > 0.2 * visible  # (at MID_STRENGTH of its contrast: 0.33; with the fine grain alone: 0.03)
    assert np.abs(detail[~region]).max() == 0  # nothing laid outside the fill


def test_skin_at_the_frames_border_gives_texture_without_error():
    """Skin seen only along the frame's border (an arm cut by it): the middle band's larger patches are
    centred far enough from the border to fit in the frame."""
    frame, _ = mottled_skin()
    seen = np.zeros(SHAPE, bool)
    seen[:, :40] = True  # a strip along the left border
    seen[:30, :] = True  # and the top
    region = np.zeros(SHAPE, bool)
    region[250:450, 220:460] = True
    detail = skin_detail(frame, seen, region)
    assert np.isfinite(detail).all() and detail[region].std() > 0
