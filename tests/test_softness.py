"""`softness.match_softness`: a face no crisper at the features' scale than the frame's face allows."""

from __future__ import annotations

import cv2
import numpy as np

from tryon_cli.render.classical.softness import BAND_FACE_WIDTH, _sharpness_along, fine_to_coarse, match_softness

SKIN = (200, 160, 140)


FACE_WIDTH = 200.0


def _along_x(image: np.ndarray, region: np.ndarray) -> float:
    """Fine over coarse gradient energy along x, the face shrunk as `match_softness` shrinks it."""
    scale = BAND_FACE_WIDTH / FACE_WIDTH
    small = cv2.resize(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32), None, fx=scale, fy=scale,
                       interpolation=cv2.INTER_AREA)
    inside = cv2.resize(region, (small.shape[1], small.shape[0]), interpolation=cv2.INTER_NEAREST) > 0
    return _sharpness_along(fine_to_coarse(small, inside), np.array([1.0, 0.0]))


def test_a_photos_crisp_features_on_a_soft_frames_features_are_softened_and_the_skin_kept():
    """The face's ratios are skin-dominated: a crisp photo's lashes and lip edges on a defocused frame stayed
    crisp while its skin matched the frame's (movie_several_people 5-5.5 s: they looked pasted). The
    features are judged on their own pixels and blurred there; the skin away from them is untouched."""
    from tryon_cli.render.classical.grain import FEATURE_HIGH, soften_features

    rng = np.random.default_rng(3)
    # skin with blotches at the features' scale, the same in both: the whole face reads as sharp as the frame
    blotches = cv2.GaussianBlur(rng.normal(0, 1, (240, 240)).astype(np.float32), (0, 0), 2.0)
    skin = np.clip(np.array(SKIN, np.float32) + 120.0 * blotches[..., None], 0, 255).astype(np.uint8)
    drawn = np.zeros((240, 240), np.uint8)
    for centre, axes in (((80, 90), (26, 7)), ((160, 90), (26, 7)), ((120, 170), (34, 9))):  # eyes and lips
        cv2.ellipse(drawn, centre, axes, 0.0, 0, 360, 255, -1, cv2.LINE_AA)
    alpha = drawn.astype(np.float32)[..., None] / 255.0
    dark = np.array((90, 60, 50), np.float32)
    patch = (skin * (1 - alpha) + dark * alpha).astype(np.uint8)
    soft = cv2.GaussianBlur(alpha, (0, 0), 3.0)[..., None]
    frame = (skin * (1 - soft) + dark * soft).astype(np.uint8)  # the same skin, its features defocused
    features = cv2.dilate(drawn, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (13, 13)))
    region = np.zeros((240, 240), np.uint8)
    region[10:230, 10:230] = 255
    assert match_softness(patch, frame, region, face_width=FACE_WIDTH) is patch  # the whole face passes
    out = soften_features(patch, frame, features, region, FACE_WIDTH)
    zone = cv2.bitwise_and(features, region)
    before = _along_x(patch, zone) / _along_x(frame, zone)
    after = _along_x(out, zone) / _along_x(frame, zone)
    assert before > 1.2 and after <= FEATURE_HIGH
    away = cv2.dilate(features, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (41, 41))) == 0
    assert np.abs(out[away].astype(int) - patch[away]).max() <= 1
    # features as sharp as the frame's, only drawn otherwise (a squint on an open eye): content, not focus
    other = np.zeros((240, 240), np.uint8)
    for centre, axes in (((80, 92), (20, 4)), ((160, 92), (20, 4)), ((120, 168), (30, 14))):
        cv2.ellipse(other, centre, axes, 0.0, 0, 360, 255, -1, cv2.LINE_AA)
    beta = other.astype(np.float32)[..., None] / 255.0
    sharp_frame = (skin * (1 - beta) + dark * beta).astype(np.uint8)
    assert soften_features(patch, sharp_frame, features, region, FACE_WIDTH) is patch
