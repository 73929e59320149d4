"""The light read from the person's visible skin (render/classical/skin_light.py): synthetic lit discs."""

from __future__ import annotations

import cv2
import numpy as np

from tryon_cli.render.classical.skin_light import DEFAULT_FALLOFF, FALLOFF_RANGE, fit_skin_light

SKIN = np.array((205, 150, 120), np.float32)


def lit_disc(side: float, falloff: float) -> tuple[np.ndarray, np.ndarray]:
    """A skin disc (a face) on grey, its lightness 1 + side * n_x + falloff * (n_z - 1) for a sphere's normals."""
    frame = np.full((400, 300, 3), 90, np.uint8)
    yy, xx = np.mgrid[:400, :300].astype(np.float32)
    n_x = (xx - 150) / 80
    n_z = np.sqrt(np.clip(1 - n_x ** 2 - ((yy - 200) / 80) ** 2, 0, 1))
    disc = ((xx - 150) ** 2 + (yy - 200) ** 2) < 80 ** 2
    gain = 1 + side * n_x + falloff * (n_z - 1)
    frame[disc] = np.clip(gain[disc][:, None] * SKIN, 0, 255).astype(np.uint8)
    return frame, disc


def test_the_side_the_light_comes_from_is_read_from_the_skin():
    right = fit_skin_light(*lit_disc(0.2, 0.3))
    left = fit_skin_light(*lit_disc(-0.2, 0.3))
    assert right.side > 0.1 and left.side < -0.1
    assert right.falloff > 0.25  # (0.3 drawn, the range's top)


def test_evenly_lit_skin_or_none_is_shaded_as_a_soft_front_light():
    flat = fit_skin_light(*lit_disc(0.0, 0.0))
    assert abs(flat.side) < 0.02 and flat.falloff == FALLOFF_RANGE[0]
    none = fit_skin_light(np.zeros((50, 50, 3), np.uint8), None)
    assert none.side == 0 and none.falloff == DEFAULT_FALLOFF


def test_dark_hair_in_the_skin_range_beside_the_face_does_not_tip_the_light():
    """Dark hair along one side of a front-lit face (in the skin colour range, so in the visible skin)
    is no shadow: the light stays frontal."""
    frame, disc = lit_disc(0.0, 0.3)
    hair = disc & (np.arange(300)[None, :] > 205)
    frame[hair] = (60, 40, 30)
    assert abs(fit_skin_light(frame, disc).side) < 0.05
