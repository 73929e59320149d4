"""A blotchy source photo's skin is calmed; a clean one is left as it is."""

from __future__ import annotations

import cv2
import numpy as np


def _face_points(image: np.ndarray) -> np.ndarray:
    from tryon_cli.analysis.face import FaceMeshAnalyzer

    with FaceMeshAnalyzer(1, tracking=False) as mesh:
        return mesh.detect(image)[0].points


def test_a_blotchy_photos_skin_is_calmed_and_a_clean_one_untouched(astronaut):
    """Blotches a few pixels across on a face about 230 px wide (as the shared 1927 photo's) are shrunk
    to under half on the skin; the eyes keep their pixels; a clean photo is returned as it is."""
    from tryon_cli.face3d import landmarks as lm
    from tryon_cli.faceswap.mottling import MOTTLE_LEVEL, band_amplitude, calm_mottling
    from tryon_cli.masks.face import skin_sample_region

    astronaut = cv2.resize(astronaut, None, fx=2.5, fy=2.5, interpolation=cv2.INTER_CUBIC)
    points = _face_points(astronaut)
    assert np.array_equal(calm_mottling(astronaut, points), astronaut)  # a clean photo: not a pixel changes

    width = float(np.ptp(points[:, 0]))
    rng = np.random.default_rng(0)
    blotches = cv2.GaussianBlur(rng.normal(0, 1, astronaut.shape[:2]).astype(np.float32), (0, 0), 0.01 * width)
    blotches *= 20.0 / blotches.std()  # old-photo blotches a few pixels across
    blotchy = np.clip(astronaut.astype(np.float32) + blotches[..., None], 0, 255).astype(np.uint8)
    skin = skin_sample_region(astronaut.shape[:2], points)

    def amplitude(image: np.ndarray) -> float:
        return band_amplitude(cv2.cvtColor(image, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32), skin, width)[1]

    assert amplitude(blotchy) > MOTTLE_LEVEL
    calmed = calm_mottling(blotchy, points)
    clean_l = cv2.cvtColor(astronaut, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32)

    def blotch_amplitude(image: np.ndarray) -> float:  # the band of what the blotches add to the clean photo
        added = cv2.cvtColor(image, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32) - clean_l
        return band_amplitude(added + 100.0, skin, width)[1]

    assert blotch_amplitude(calmed) < 0.6 * blotch_amplitude(blotchy)
    eye = np.round(points[lm.LEFT_EYE, :2].mean(0)).astype(int)  # the features keep their pixels
    assert np.array_equal(calmed[eye[1], eye[0]], blotchy[eye[1], eye[0]])
