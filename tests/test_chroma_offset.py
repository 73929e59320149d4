"""The chroma offset (`colour.chroma_offset`) under strongly coloured light: low-frequency and bounded."""

from __future__ import annotations

import cv2
import numpy as np

from tryon_cli.colour import chroma_offset

SIZE = 200
SIGMA = 8.0  # the chroma's scale on a face about 160 px wide (half of 0.1 face widths)
EYES = ((70, 80), (130, 80))  # centres (x, y) of the eye sockets, holes in both skin masks
EYE_RADII = (16, 9)


def _face_masks() -> tuple[np.ndarray, np.ndarray]:
    """A face's skin (0/255: an ellipse less its eye sockets) and the eye sockets alone (bool)."""
    skin = np.zeros((SIZE, SIZE), np.uint8)
    cv2.ellipse(skin, (SIZE // 2, SIZE // 2), (80, 95), 0, 0, 360, 255, -1)
    eyes = np.zeros_like(skin)
    for centre in EYES:
        cv2.ellipse(eyes, centre, EYE_RADII, 0, 0, 360, 255, -1)
    return cv2.subtract(skin, eyes), eyes > 0


def _lab_to_rgb(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    lab = np.dstack([np.full(a.shape, 120.0), a, b])
    return cv2.cvtColor(np.clip(lab, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)


def _stage_lit_target(skin: np.ndarray) -> np.ndarray:
    """A face lit red from the left and teal from the right, the teal light caught by a thin rim of skin
    round the left eye socket (a few pixels)."""
    x = np.linspace(-1.0, 1.0, SIZE)[None, :].repeat(SIZE, 0)
    a = 150.0 - 12.0 * x  # red on the left, less so on the right
    b = 138.0 - 6.0 * x
    eye = np.zeros((SIZE, SIZE), np.uint8)
    cv2.ellipse(eye, EYES[0], (EYE_RADII[0] + 3, EYE_RADII[1] + 3), 0, 0, 360, 255, -1)
    rim = (eye > 0) & (skin > 0)
    a[rim], b[rim] = 95.0, 110.0  # deep teal
    return _lab_to_rgb(a, b)


def test_an_eye_socket_does_not_take_an_extreme_offset_from_a_few_rim_pixels():
    skin, eyes = _face_masks()
    source_ab = np.full((SIZE, SIZE, 2), (150.0, 138.0), np.float32)  # an evenly coloured face
    offset = chroma_offset(source_ab, _stage_lit_target(skin), skin, skin, SIGMA)
    length = np.hypot(offset[..., 0], offset[..., 1])
    socket = np.zeros((SIZE, SIZE), np.uint8)
    cv2.ellipse(socket, EYES[0], EYE_RADII, 0, 0, 360, 255, -1)
    # before the bound the band inside the left socket, read off its rim alone, was a 23-unit teal shift (bar 16)
    assert float(length[socket > 0].max()) < 16.0
    # the red-left, teal-right light itself still comes through on the cheeks
    left, right = offset[140, 45], offset[140, 155]
    assert left[0] - right[0] > 12.0


def test_a_gentle_daylight_offset_is_unchanged():
    skin, _ = _face_masks()
    source_ab = np.full((SIZE, SIZE, 2), (150.0, 138.0), np.float32)
    x = np.linspace(-1.0, 1.0, SIZE)[None, :].repeat(SIZE, 0)
    target = _lab_to_rgb(150.0 + 5.0 * x, 138.0 + 2.0 * x)  # a face slightly redder on the right
    offset = chroma_offset(source_ab, target, skin, skin, SIGMA)
    # on the cheeks, well inside the skin, the offset is the target's chroma less the source's
    for column in (60, 100, 140):
        expected = np.array([5.0, 2.0]) * np.linspace(-1.0, 1.0, SIZE)[column]
        assert np.abs(offset[140, column] - expected).max() < 1.0
