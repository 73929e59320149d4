"""The target's mouth interior moved into the swapped face's (recombined) mouth opening."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from tryon_cli.face3d import landmarks as lm
from tryon_cli.faceswap.mouth import band_width, mouth_into_opening, mouth_transform
from tryon_cli.masks.shapes import polygon_mask


def _mouth(centre: tuple[float, float], width: float, opening: float) -> np.ndarray:
    """478 points, all at `centre` but the inner lips: an ellipse `width` across and `opening` high."""
    points = np.zeros((478, 3), dtype=np.float32)
    points[:, :2] = centre
    ring = lm.INNER_LIPS
    angles = np.linspace(np.pi, -np.pi, len(ring), endpoint=False)  # from the left corner, over the top first
    points[ring, 0] = centre[0] + width / 2 * np.cos(angles)
    points[ring, 1] = centre[1] - opening / 2 * np.sin(angles)
    points[lm.MOUTH_LEFT, :2] = (centre[0] - width / 2, centre[1])
    points[lm.MOUTH_RIGHT, :2] = (centre[0] + width / 2, centre[1])
    points[lm.MOUTH_TOP, :2] = (centre[0], centre[1] - opening / 2)
    points[lm.MOUTH_BOTTOM, :2] = (centre[0], centre[1] + opening / 2)
    return points


def test_the_transform_takes_the_targets_mouth_onto_the_recombined_one():
    target, recombined = _mouth((100, 120), 60, 20), _mouth((90, 132), 40, 16)
    matrix = mouth_transform(target, recombined)
    for index in (lm.MOUTH_LEFT, lm.MOUTH_RIGHT, lm.MOUTH_TOP, lm.MOUTH_BOTTOM):
        moved = matrix @ np.append(target[index, :2], 1.0)
        np.testing.assert_allclose(moved, recombined[index, :2], atol=1.0)


def test_the_targets_teeth_fill_the_recombined_opening_and_nothing_else_changes():
    """A narrower, lower recombined mouth (the source's lips): keeping the target's pixels where its own
    mouth is left the opening half filled with the target's lips; warped, the teeth fill it."""
    image = np.full((240, 240, 3), (200, 150, 130), dtype=np.uint8)  # skin
    target, recombined = _mouth((120, 110), 70, 24), _mouth((112, 128), 44, 18)
    teeth = polygon_mask(image.shape[:2], target[lm.INNER_LIPS, :2]) > 0
    image[teeth] = (250, 250, 250)
    opening = polygon_mask(image.shape[:2], recombined[lm.INNER_LIPS, :2]) > 0
    assert (image[opening] == 250).all(axis=1).mean() < 0.6  # where the target's teeth are: partly outside
    out = mouth_into_opening(image, target, recombined)
    assert (out[opening] == 250).all(axis=1).mean() > 0.9
    band = band_width(recombined)
    reach = cv2.dilate(opening.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * band + 1,) * 2)) > 0
    np.testing.assert_array_equal(out[~reach], image[~reach])
    closed = _mouth((112, 128), 44, 0)
    np.testing.assert_array_equal(mouth_into_opening(image, target, closed), image)


def test_the_band_round_the_opening_holds_the_targets_warped_lips_not_its_unmoved_pixels():
    """The blend fades the swapped lips in over a band round the opening, and there the warped image shows
    through: the target's own lips warped with its teeth (one edge from teeth to lips), not what lay
    there before the warp (here the target's wider opening: a white rim of teeth round the new one)."""
    image = np.full((240, 240, 3), (200, 150, 130), dtype=np.uint8)  # skin
    target, recombined = _mouth((120, 120), 90, 40), _mouth((120, 122), 60, 20)
    target[lm.FACE_OVAL, 0] = np.linspace(10, 230, len(lm.FACE_OVAL))
    recombined[lm.FACE_OVAL, 0] = np.linspace(10, 230, len(lm.FACE_OVAL))
    lips = polygon_mask(image.shape[:2], _mouth((120, 120), 120, 64)[lm.INNER_LIPS, :2]) > 0
    image[lips] = (170, 40, 50)
    image[polygon_mask(image.shape[:2], target[lm.INNER_LIPS, :2]) > 0] = (250, 250, 250)
    opening = polygon_mask(image.shape[:2], recombined[lm.INNER_LIPS, :2])
    grow = lambda r: cv2.dilate(opening, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1,) * 2)) > 0
    band = band_width(recombined)
    assert band >= 5
    ring = grow(4) & ~grow(1)  # inside the band (and the warped lips), off the opening's own edge
    assert (image[ring] == 250).all(axis=1).mean() > 0.9  # before: the target's teeth lie there
    out = mouth_into_opening(image, target, recombined)
    reddish = (out[ring, 0].astype(int) - out[ring, 1]) > 60
    assert reddish.mean() > 0.9


def _astronaut_mouth(astronaut, source_photo):
    """The astronaut at twice her size (a face 180 px wide), her mesh, the prepared source photo, her mouth's
    opening (0/255) and a function growing it by r pixels (bool)."""
    from tryon_cli.analysis.face import FaceMeshAnalyzer
    from tryon_cli.faceswap.source import prepare_source
    from tryon_cli.io.media import read_image

    target = cv2.resize(astronaut, None, fx=2, fy=2, interpolation=cv2.INTER_LINEAR)
    with FaceMeshAnalyzer(1, tracking=False) as mesh:
        points = mesh.detect(target)[0].points
    source = prepare_source([(source_photo, read_image(source_photo))])
    opening = polygon_mask(target.shape[:2], points[lm.INNER_LIPS, :2])
    grow = lambda r: cv2.dilate(opening, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1,) * 2)) > 0
    return target, points, source, opening, grow


def test_the_swapped_lips_cover_the_frame_round_a_filled_opening(astronaut, source_photo):
    """The classical blend feathers the lips' inner edge narrowly round an opening the frame already
    fills (`FaceTarget.mouth_filled`): with the holes' wide feather the frame's pixels under the lips (the
    target's unmoved lips or teeth; green here) showed through them as a band round the teeth."""
    from tryon_cli.masks.face import face_region
    from tryon_cli.render.classical.face import mouth_feather_radius, render_face_swap
    from tryon_cli.render.contract import FaceTarget, SwapConditions
    from tryon_cli.render.options import ClassicalOptions

    target, points, source, opening, grow = _astronaut_mouth(astronaut, source_photo)
    shape = target.shape[:2]
    edge = 2 * mouth_feather_radius(float(np.ptp(points[:, 0]))) + 1
    ring = grow(edge + 2) & ~grow(edge)  # under the lips, past the narrow fade
    frame = target.copy()
    frame[grow(edge + 8) & ~(opening > 0)] = (0, 255, 0)
    mask = face_region(shape, points) & ~opening
    # the blend alone: the colour match would carry the frame's green into the whole face
    options = ClassicalOptions(colour_match=False, match_grain=False, restore_detail=False)
    green = {}
    for filled in (False, True):
        face = FaceTarget(points=points, target_points=points, target_skin=None, mouth_filled=filled)
        pixels = render_face_swap(frame, mask, SwapConditions(source, (face,)), options)[ring].astype(int)
        green[filled] = float((pixels[:, 1] - pixels[:, [0, 2]].max(axis=1)).mean())
    assert green[False] > 30  # the frame's green through the lips
    assert green[True] < 3


def test_a_targets_lipstick_round_a_filled_opening_takes_the_swapped_lips_colour(astronaut, source_photo):
    """The frame round a filled opening (the target's warped mouth: its lips' inner edge) is faded into the
    swapped lips; a target's red lipstick stayed there as a red rim round the teeth on a man's mouth
    (portrait_side_light onto talking_frontal), whatever colour the swapped lips took. Lip-red pixels there
    take the swapped lips' chroma; the teeth keep theirs."""
    from tryon_cli.colour import skin_colour_statistics
    from tryon_cli.masks.face import face_region, skin_sample_region
    from tryon_cli.render.classical.face import render_face_swap
    from tryon_cli.render.contract import FaceTarget, SwapConditions
    from tryon_cli.render.options import ClassicalOptions

    target, points, source, opening, grow = _astronaut_mouth(astronaut, source_photo)
    shape = target.shape[:2]
    frame = target.copy()
    lips = polygon_mask(shape, points[lm.OUTER_LIPS, :2]) > 0
    frame[(lips | grow(6)) & ~(opening > 0)] = (200, 30, 50)  # lipstick on the lips and the rim round the opening
    frame[cv2.erode(opening, np.ones((5, 5), np.uint8)) > 0] = (240, 240, 235)  # teeth
    skin = skin_colour_statistics(frame, skin_sample_region(shape, points))
    mask = face_region(shape, points) & ~opening
    options = ClassicalOptions(match_grain=False, restore_detail=False)
    face = FaceTarget(points=points, target_points=points, target_skin=skin, mouth_filled=True)
    out = cv2.cvtColor(render_face_swap(frame, mask, SwapConditions(source, (face,)), options), cv2.COLOR_RGB2LAB)
    rim = grow(2) & ~(opening > 0)  # the swapped lips' faded inner edge
    lipstick = float(cv2.cvtColor(np.uint8([[[200, 30, 50]]]), cv2.COLOR_RGB2LAB)[0, 0, 1])
    redness = float(out[rim][:, 1].astype(float).mean()) - skin[0, 1]
    assert redness < 0.5 * (lipstick - skin[0, 1])  # the lipstick's redness over the skin, at most half of it
    teeth = cv2.erode(opening, np.ones((7, 7), np.uint8)) > 0
    assert np.abs(out[teeth][:, 1:].astype(int) - cv2.cvtColor(frame, cv2.COLOR_RGB2LAB)[teeth][:, 1:]).max() <= 2
