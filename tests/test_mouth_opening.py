"""The target's mouth interior moved into the swapped face's (recombined) mouth opening."""

from __future__ import annotations

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
    np.testing.assert_array_equal(out[~opening], image[~opening])
    closed = _mouth((112, 128), 44, 0)
    np.testing.assert_array_equal(mouth_into_opening(image, target, closed), image)
