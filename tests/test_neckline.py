"""The neck opening of a flat top's photo: its inner back is found, the front is left alone."""

from __future__ import annotations

import cv2
import numpy as np

from tryon_cli.garments.neckline import neck_opening
from tryon_cli.garments.photo import prepare_garment, segment_garment

INNER_BACK = (70, 70, 70)


def crew_neck_tee(colour=(40, 90, 200)) -> tuple[np.ndarray, np.ndarray]:
    """A flat short-sleeved tee on white whose crew neck shows the inner back (grey, a white label) above
    a yellow front collar band; returns the photo and the inner back's pixels."""
    image = np.full((400, 400, 3), 255, np.uint8)
    cv2.fillPoly(image, [np.array([[120, 60], [280, 60], [370, 130], [330, 190], [290, 160], [290, 360], [110, 360],
                                   [110, 160], [70, 190], [30, 130]], np.int32)], colour)
    inner = np.zeros(image.shape[:2], np.uint8)
    cv2.ellipse(inner, (200, 60), (45, 40), 0, 0, 180, 255, -1)
    image[inner > 0] = INNER_BACK
    cv2.rectangle(image, (188, 70), (212, 78), (250, 250, 250), -1)  # the label
    cv2.ellipse(image, (200, 60), (45, 40), 0, 0, 180, (230, 190, 40), 6)  # the front collar band
    cv2.ellipse(image, (200, 60), (46, 7), 0, 0, 180, (255, 255, 255), -1)  # the back neckline's dip
    inner[image[..., 0] == 255] = 0
    return image, inner


def test_the_inner_back_seen_through_a_crew_neck_is_the_opening():
    image, inner = crew_neck_tee()
    mask = segment_garment(image)
    garment = prepare_garment(image, "upper", mask)
    opening = neck_opening(image, mask, (garment.landmarks["shoulder_left"], garment.landmarks["shoulder_right"]))
    assert (opening[inner > 0] > 0).mean() > 0.9
    front = (mask > 0) & (inner == 0)
    front[:110] = False  # (the collar band itself may be cut by a px or two)
    assert (opening[front] > 0).sum() < 0.002 * front.sum()
    assert np.array_equal(garment.opening, opening)  # the garment model carries it


def test_a_top_without_a_neck_opening_has_none():
    image = np.full((400, 400, 3), 255, np.uint8)  # a closed flat top: straight shoulders, no neck cut
    cv2.fillPoly(image, [np.array([[120, 60], [280, 60], [370, 130], [330, 190], [290, 160], [290, 360], [110, 360],
                                   [110, 160], [70, 190], [30, 130]], np.int32)], (40, 90, 200))
    assert not prepare_garment(image, "upper").opening.any()
    straps = np.full((400, 400, 3), 255, np.uint8)  # a camisole: straps, the front's top deep between them
    cv2.fillPoly(straps, [np.array([[110, 200], [290, 200], [290, 360], [110, 360]], np.int32)], (230, 200, 60))
    cv2.ellipse(straps, (200, 200), (80, 50), 0, 0, 180, (255, 255, 255), -1)
    for x in (115, 275):
        cv2.rectangle(straps, (x, 60), (x + 10, 200), (230, 200, 60), -1)
    assert not prepare_garment(straps, "upper").opening.any()
