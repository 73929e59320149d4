"""`tryon eval swap` additions: gaze correlation, face sharpness ratio, the contact sheet; the demo's source."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from conftest import run_cli, shared_media
from tryon_cli.face3d import landmarks as lm
from tryon_cli.faceswap.evaluate import gaze_position


def test_gaze_position_follows_the_iris_between_the_corners():
    points = np.zeros((478, 3), np.float32)
    for (a, b), iris in ((lm.RIGHT_EYE_CORNERS, lm.RIGHT_IRIS), (lm.LEFT_EYE_CORNERS, lm.LEFT_IRIS)):
        points[a, :2], points[b, :2] = (0, 0), (10, 0)
        points[iris[0], :2] = (3, 1)
    assert gaze_position(points) == pytest.approx(0.3)


@pytest.mark.media
def test_gaze_correlation_of_a_video_with_itself_is_one_and_a_sheet_is_written(tmp_path):
    video = shared_media("faces", "talking_gaze_blinks.mp4")
    source = shared_media("faces", "portrait_a.png")
    sheet = tmp_path / "sheet.png"
    result = run_cli("eval", "swap", str(source), str(video), str(video), "-q", "--json", "--samples", "3",
                     "--sheet", str(sheet))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["expression"]["gaze_correlation"] == pytest.approx(1.0)
    assert report["sharpness_ratio"]["median"] == pytest.approx(1.0)
    assert report["feature_sharpness_ratio"]["median"] == pytest.approx(1.0)
    image = cv2.imread(str(sheet))
    assert image is not None and image.shape[0] > 3 * 256


def test_the_demo_source_is_a_colour_face():
    import importlib.util

    if importlib.util.find_spec("insightface") is None:
        pytest.skip("insightface is not installed")
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
    from make_examples import frontal_face_crop, insightface_image
    from tryon_cli.io.media import read_image

    face = read_image(insightface_image("t1.jpg"))
    crop = frontal_face_crop(face)
    spread = float(np.abs(crop.astype(int) - crop.mean(axis=2, keepdims=True)).mean())
    assert min(crop.shape[:2]) >= 200 and spread > 3.0  # colour channels differ: not a grey photo


def test_a_turned_source_that_dlib_misses_is_still_scored():
    """dlib's frontal detector finds no face in a near-profile selfie; the mesh's box stands in, and the
    descriptor it gives is that person's (far from a different person's)."""
    from tryon_cli.analysis.identity import SAME_PERSON_DISTANCE, DlibFaceEncoder, descriptor_distance
    from tryon_cli.faceswap.evaluate import _source_descriptor
    from tryon_cli.io.media import read_image

    turned = shared_media("faces", "portrait_three_quarter.png")
    other = shared_media("faces", "portrait_a.png")
    encoder = DlibFaceEncoder()
    assert encoder.encode(read_image(turned)) is None  # what the fallback is for
    descriptor = _source_descriptor(turned, encoder)
    assert descriptor.shape == (128,)
    assert descriptor_distance(descriptor, _source_descriptor(other, encoder)) > SAME_PERSON_DISTANCE


def test_gaze_correlation_ignores_frames_with_the_targets_eyes_shut():
    from tryon_cli.faceswap.evaluate import SWAP_BARS, open_eye_gaze

    eyes = [0.3, 0.31, 0.05, 0.29, 0.04, 0.3]  # two blinks
    gaze_in = [0.4, 0.5, 0.9, 0.6, 0.1, 0.45]
    gaze_out = [0.41, 0.52, 0.2, 0.58, 0.8, 0.44]  # an iris inside a shut eye is anywhere
    kept_out, kept_in = open_eye_gaze(gaze_out, gaze_in, eyes)
    assert kept_in == [0.4, 0.5, 0.6, 0.45] and kept_out == [0.41, 0.52, 0.58, 0.44]
    assert SWAP_BARS["sharpness_ratio"].met(1.7) is False and SWAP_BARS["sharpness_ratio"].met(1.0)
    assert SWAP_BARS["flicker_ratio"].met(None) is None and str(SWAP_BARS["cheek_delta_e"]) == "<= 6"


def test_the_sheet_has_no_empty_column(talking_video, source_photo, tmp_path):
    """The crop strips are wider than target | output | source rows of a square video: they are scaled to
    the rows' width, so no band of the sheet is left black."""
    from tryon_cli.faceswap.sheet import write_sheet

    sheet = write_sheet(tmp_path / "sheet.png", [source_photo], talking_video, talking_video)
    image = cv2.imread(str(sheet))
    black = (image.max(axis=2) < 8).mean(axis=0)  # per column, the share of black pixels
    assert black.max() < 0.5
    assert image.shape[1] < 3 * 256 + 2 * 4 + 300  # rows set the width, not the 8-crop strips


def test_the_hair_blind_descriptor_does_not_see_the_hair(astronaut):
    """The hair-blind identity figure: a face with everything round it repainted (forehead, temples and
    hair white) keeps its inner-face descriptor, while dlib's own moves. (dlib's landmarks moving by a
    pixel move a descriptor by about 0.06, so the repaint stays clear of the face.)"""
    from tryon_cli.analysis.identity import DlibFaceEncoder, descriptor_distance

    encoder = DlibFaceEncoder()
    points = encoder.landmarks68(astronaut)
    assert points is not None
    image = np.ascontiguousarray(astronaut.copy())
    hull = cv2.convexHull(np.round(points).astype(np.int32))
    inside = cv2.fillConvexPoly(np.zeros(image.shape[:2], np.uint8), hull, 255) > 0
    # everything around the inner face (grown, so dlib's landmarks stay where they were) repainted
    guard = cv2.dilate(inside.astype(np.uint8), np.ones((21, 21), np.uint8)) > 0
    x0, y0 = points.min(axis=0).astype(int)
    x1, y1 = points.max(axis=0).astype(int)
    width = x1 - x0
    around = np.zeros(image.shape[:2], bool)
    around[max(y0 - width, 0) : y1 + width // 4, max(x0 - width // 2, 0) : x1 + width // 2] = True
    image[around & ~guard] = (240, 240, 240)
    plain = descriptor_distance(encoder.encode(astronaut), encoder.encode(image))
    blind = descriptor_distance(encoder.encode_inner_face(astronaut), encoder.encode_inner_face(image))
    assert plain > 0.1  # dlib reads the hair round a face as identity
    assert blind < 0.3 * plain
