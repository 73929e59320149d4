"""The target's mouth interior moved into the swapped face's (recombined) mouth opening."""

from __future__ import annotations

import cv2
import numpy as np

from tryon_cli.face3d import landmarks as lm
from tryon_cli.faceswap.mouth import mouth_into_opening, mouth_transform
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


def _lips(points: np.ndarray, thickness: float) -> np.ndarray:
    """`points` with outer lips round its inner ones, `thickness` further from the centre."""
    centre = points[lm.INNER_LIPS, :2].mean(axis=0)
    outer = points[lm.OUTER_LIPS, :2]
    angles = np.linspace(np.pi, -np.pi, len(lm.OUTER_LIPS), endpoint=False)
    half_width = np.ptp(points[lm.INNER_LIPS, 0]) / 2 + thickness
    half_height = np.ptp(points[lm.INNER_LIPS, 1]) / 2 + thickness
    outer[:, 0] = centre[0] + half_width * np.cos(angles)
    outer[:, 1] = centre[1] - half_height * np.sin(angles)
    points = points.copy()
    points[lm.OUTER_LIPS, :2] = outer
    return points


def _face(points: np.ndarray, width: float) -> np.ndarray:
    """`points` with a face oval `width` across round the mouth."""
    centre = points[lm.INNER_LIPS, :2].mean(axis=0)
    angles = np.linspace(0, 2 * np.pi, len(lm.FACE_OVAL), endpoint=False)
    points = points.copy()
    points[lm.FACE_OVAL, 0] = centre[0] + width / 2 * np.cos(angles)
    points[lm.FACE_OVAL, 1] = centre[1] - 40 + width * 0.6 * np.sin(angles)
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
    deep = cv2.erode(opening.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0  # past the shaded rim
    assert (np.abs(out[deep].astype(int) - 250) <= 3).all(axis=1).mean() > 0.9
    # the paste's soft edge reaches a few pixels past the opening, no further
    near = cv2.dilate(opening.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    np.testing.assert_array_equal(out[~near], image[~near])
    closed = _mouth((112, 128), 44, 0)
    np.testing.assert_array_equal(mouth_into_opening(image, target, closed), image)


def test_the_targets_lips_are_not_carried_into_the_opening():
    """The target's inner-lip outline runs along its lips' inner edge: a rim of red lip pixels inside it
    came along with the teeth, a second red lip edge inside the source's lips."""
    image = np.full((240, 240, 3), (200, 150, 130), dtype=np.uint8)
    target, recombined = _lips(_mouth((120, 110), 70, 30), 10), _mouth((112, 128), 50, 24)
    red = (170, 40, 60)
    image[polygon_mask(image.shape[:2], target[lm.OUTER_LIPS, :2]) > 0] = red
    ring = polygon_mask(image.shape[:2], target[lm.INNER_LIPS, :2])
    teeth = cv2.erode(ring, np.ones((7, 7), np.uint8)) > 0  # a 3-pixel rim of lip inside the outline
    image[(ring > 0) & ~teeth] = red
    image[teeth] = (245, 245, 240)
    out = mouth_into_opening(image, target, recombined)
    opening = polygon_mask(image.shape[:2], recombined[lm.INNER_LIPS, :2]) > 0
    reddish = out[opening].astype(int)
    reddish = (reddish[:, 0] - reddish[:, 1]) > 40  # red well over green: lip, not teeth
    assert reddish.mean() < 0.01


def test_the_paste_edge_is_soft():
    """Pasted without a feather, the opening's outline cut a hard edge between the bright teeth and the
    lips round it; the teeth now fade into the lips' shadow over about 1.5% of the face's width."""
    image = np.full((240, 240, 3), (200, 150, 130), dtype=np.uint8)
    target = _face(_lips(_mouth((120, 120), 60, 24), 8), 200)
    recombined = _face(_mouth((120, 120), 60, 24), 200)  # same mouth: only the edge matters
    image[polygon_mask(image.shape[:2], target[lm.OUTER_LIPS, :2]) > 0] = (170, 60, 70)
    image[polygon_mask(image.shape[:2], target[lm.INNER_LIPS, :2]) > 0] = (250, 250, 250)
    out = mouth_into_opening(image, target, recombined).astype(int)
    bottom = int(np.ceil(recombined[lm.MOUTH_BOTTOM, 1]))
    column = out[120 : bottom + 6, 120, 1]  # green, from the mouth's centre down across its lower outline
    assert column[0] >= 245  # the teeth themselves are kept
    assert np.abs(np.diff(column)).max() < 100  # no step from teeth to lip
    assert column[-1] < 100  # down to the lip
    np.testing.assert_array_equal(out[bottom + 12 :, 120], image[bottom + 12 :, 120])
