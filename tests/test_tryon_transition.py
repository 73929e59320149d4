"""A video's garment moves from the mask's box onto the pose gradually, never in one jump."""

from __future__ import annotations

import numpy as np

from tryon_cli.analysis.body import Body
from tryon_cli.garments.photo import prepare_garment
from tryon_cli.garments.placement import warp_garment
from tryon_cli.garments.transition import EASE_SECONDS, PlacementEase
from tryon_cli.masks.garment import GarmentMask

from test_tryon_worn import SHAPE, body_with, long_sleeve

FPS = 25.0


def centre(alpha: np.ndarray) -> np.ndarray:
    """The garment's alpha-weighted centre (px)."""
    ys, xs = np.mgrid[0 : alpha.shape[0], 0 : alpha.shape[1]]
    return np.array([(xs * alpha).sum(), (ys * alpha).sum()]) / alpha.sum()


def test_placement_eases_from_box_onto_pose():
    garment = prepare_garment(long_sleeve(), "upper")
    posed = body_with((160, 270), (155, 380))
    boxed = Body(None, posed.person, (), "none")
    # a box far wider and lower than the pose's torso: placed by it, the garment sits elsewhere
    mask = GarmentMask(np.full(SHAPE, 255, np.uint8), (40, 150, 480, 600), "segmentation")
    ease = PlacementEase(size_seconds=1e-6)  # (the size as measured: only the easing is looked at here)
    box_only = warp_garment(garment, boxed, mask, SHAPE, "upper")
    pose_only = warp_garment(garment, posed, mask, SHAPE, "upper")
    jump = np.linalg.norm(centre(pose_only[1]) - centre(box_only[1]))
    assert jump > 20  # the two placements really differ
    previous = ease(garment, boxed, mask, SHAPE, "upper", None, 0.0, None)
    np.testing.assert_array_equal(previous[1], box_only[1])
    steps, time = [], 0.0
    for _ in range(int(EASE_SECONDS * FPS) + 2):
        now = time + 1 / FPS
        current = ease(garment, posed, mask, SHAPE, "upper", None, now, time)
        steps.append(np.linalg.norm(centre(current[1]) - centre(previous[1])))
        previous, time = current, now
    # no single frame moves the garment more than a third of the whole way ...
    assert max(steps) < jump / 3
    # ... and once eased, it is placed by the pose alone
    np.testing.assert_array_equal(previous[1], pose_only[1])
    np.testing.assert_array_equal(previous[0], pose_only[0])


def test_reset_places_on_the_pose_at_once():
    garment = prepare_garment(long_sleeve(), "upper")
    posed = body_with((160, 270), (155, 380))
    mask = GarmentMask(np.full(SHAPE, 255, np.uint8), (40, 150, 480, 600), "segmentation")
    ease = PlacementEase(size_seconds=1e-6)
    ease(garment, Body(None, posed.person, (), "none"), mask, SHAPE, "upper", None, 0.0, None)
    ease.reset()  # a scene cut: the new scene's first pose frame owes nothing to the old box
    after = ease(garment, posed, mask, SHAPE, "upper", None, 1 / FPS, 0.0)
    np.testing.assert_array_equal(after[1], warp_garment(garment, posed, mask, SHAPE, "upper")[1])


def height(alpha: np.ndarray) -> int:
    rows = np.nonzero((alpha > 0.5).any(axis=1))[0]
    return int(rows.max() - rows.min())


def test_a_turn_does_not_shorten_the_garment_at_once():
    """A body turning narrows its shoulders, not its height: on video the garment's length holds."""
    garment = prepare_garment(long_sleeve(), "upper")
    mask = GarmentMask(np.full(SHAPE, 255, np.uint8), (0, 0, SHAPE[1], SHAPE[0]), "pose")
    front = body_with((160, 270), (155, 380))
    turned = body_with((185, 270), (180, 380))
    for index, x in ((11, 205), (12, 295)):  # shoulders 90 px apart instead of 140
        turned.keypoints[index, 0] = x
    ease = PlacementEase()
    for frame in range(5):
        ease(garment, front, mask, SHAPE, "upper", None, frame / FPS, (frame - 1) / FPS if frame else None)
    still = height(warp_garment(garment, front, mask, SHAPE, "upper")[1])
    at_once = height(warp_garment(garment, turned, mask, SHAPE, "upper")[1])
    assert at_once < 0.8 * still  # placed frame by frame, the garment shrinks with the shoulders
    eased = height(ease(garment, turned, mask, SHAPE, "upper", None, 5 / FPS, 4 / FPS)[1])
    assert eased > 0.95 * still


def test_stripes_finer_than_the_body_s_pixels_are_worn_as_their_average():
    """A product photo is shrunk 2-3 times onto a body: sampled bilinearly, stripes finer than the output's
    pixels aliased into coarse bands (moire) that crawled as the body moved (upper1's striped top)."""
    import cv2

    photo = cv2.resize(long_sleeve(), None, fx=3, fy=3, interpolation=cv2.INTER_NEAREST)
    rows = (np.arange(photo.shape[0]) // 2) % 2 == 0  # stripes 2 photo px high: under one output px
    torso = (slice(300, 1200), slice(450, 750))
    block = photo[torso]
    block[rows[torso[0]]] = (20, 30, 60)
    block[~rows[torso[0]]] = (240, 240, 240)
    garment = prepare_garment(photo, "upper")
    body = body_with((160, 270), (155, 380))
    mask = GarmentMask(np.full(SHAPE, 255, np.uint8), None, "pose")
    warped, alpha, _ = warp_garment(garment, body, mask, SHAPE, "upper")
    ys, xs = np.nonzero(alpha > 0.99)
    middle = (slice(int(np.percentile(ys, 35)), int(np.percentile(ys, 65))), slice(235, 265))
    row_means = warped[middle].astype(float).mean(axis=(1, 2))
    assert row_means.std() < 45  # (83 sampled bilinearly; a full-contrast stripe is 110)
