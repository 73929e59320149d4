"""Where a top sits on the body: its length from its own proportions, its width from the person's torso,
its neckline at the neck. Synthetic bodies and flat photos, so no model runs."""

from __future__ import annotations

import cv2
import numpy as np

from tryon_cli.analysis import body as bp
from tryon_cli.analysis.body import Body
from tryon_cli.garments.photo import prepare_garment
from tryon_cli.garments.placement import warp_garment
from tryon_cli.masks.garment import GarmentMask

SHAPE = (600, 500)
SHOULDERS, HIPS = ((180, 160), (320, 160)), ((200, 380), (300, 380))  # shoulder joints 140 px apart


def standing(torso: tuple[int, int, int, int] = (150, 140, 350, 560), neck: tuple[int, int, int, int] | None = None
             ) -> Body:
    """A body with its arms held out from the torso (they do not touch it); `torso` and `neck` are the
    silhouette's rectangles (x0, y0, x1, y1)."""
    keypoints = np.zeros((33, 3), np.float32)
    points = {bp.NOSE: (250, 60), bp.LEFT_SHOULDER: SHOULDERS[0], bp.RIGHT_SHOULDER: SHOULDERS[1],
              bp.LEFT_ELBOW: (70, 260), bp.RIGHT_ELBOW: (430, 260), bp.LEFT_WRIST: (40, 360),
              bp.RIGHT_WRIST: (460, 360), bp.LEFT_HIP: HIPS[0], bp.RIGHT_HIP: HIPS[1]}
    for index, (x, y) in points.items():
        keypoints[index] = (x, y, 1.0)
    person = np.zeros(SHAPE, np.uint8)
    cv2.rectangle(person, torso[:2], torso[2:], 255, -1)
    if neck is not None:
        cv2.rectangle(person, neck[:2], neck[2:], 255, -1)
    for a, b, c in bp.ARMS:
        cv2.polylines(person, [np.array([points[a], points[b], points[c]], np.int32)], False, 255, 30)
    return Body(keypoints, person, (), "pose")


def whole() -> GarmentMask:
    return GarmentMask(np.full(SHAPE, 255, np.uint8), (0, 0, SHAPE[1], SHAPE[0]), "pose")


def tee(colour=(40, 90, 200)) -> np.ndarray:
    """A flat tee as the shared product photos show one: 1.7 times as long as its torso is wide."""
    image = np.full((400, 400, 3), 255, np.uint8)
    cv2.fillPoly(image, [np.array([[120, 60], [280, 60], [370, 130], [330, 190], [290, 160], [290, 360], [110, 360],
                                   [110, 160], [70, 190], [30, 130]], np.int32)], colour)
    return image


def vest(colour=(40, 90, 200)) -> np.ndarray:
    """A flat sleeveless top: a plain block."""
    image = np.full((400, 400, 3), 255, np.uint8)
    cv2.rectangle(image, (120, 60), (280, 340), colour, -1)
    return image


def test_a_tee_ends_near_the_hips_not_far_below_them():
    """Its length follows its own proportions at the scale its width is worn at: the tee's hem lies within a
    sixth of the torso's length of the hip line (at the old scale it hung a quarter of it below)."""
    _, alpha, _ = warp_garment(prepare_garment(tee(), "upper"), standing(), whole(), SHAPE, "upper")
    hem = int(np.nonzero(alpha[:, 250] > 0.5)[0].max())
    assert abs(hem - HIPS[0][1]) < (HIPS[0][1] - SHOULDERS[0][1]) / 6


def test_a_top_is_as_wide_as_a_broad_torso():
    """A person broader than the usual share of their shoulder joints has the top across all of the chest,
    not a narrower band with the torso's sides left to be filled as skin."""
    body = standing(torso=(140, 140, 360, 560))  # 220 px: 1.6 shoulder-joint distances
    _, alpha, _ = warp_garment(prepare_garment(vest(), "upper"), body, whole(), SHAPE, "upper")
    for row in (220, 260):  # across the chest
        assert (alpha[row, 146:355] > 0.5).all()


def test_a_hem_hangs_level_with_level_hips_under_a_raised_shoulder():
    """Shoulders tilted (one joint 30 px higher), hips level: the top's hem follows the hips, level, not the
    shoulder line's slant (05997's hem rose with her raised shoulder)."""
    body = standing()
    body.keypoints[bp.RIGHT_SHOULDER, 1] -= 30
    _, alpha, _ = warp_garment(prepare_garment(vest(), "upper"), body, whole(), SHAPE, "upper")
    hems = [int(np.nonzero(alpha[:, column] > 0.5)[0].max()) for column in (200, 300)]
    assert abs(hems[0] - hems[1]) <= 4, hems


def test_a_silhouette_merged_with_what_is_beside_the_person_does_not_widen_the_top():
    """The silhouette's run across the chest 2.5 shoulder-joint distances wide is not a chest (the astronaut's
    spacesuit and helmet read as one region): the top keeps its usual width instead of a box to the edges."""
    body = standing(torso=(75, 140, 425, 560))  # 350 px
    _, alpha, _ = warp_garment(prepare_garment(vest(), "upper"), body, whole(), SHAPE, "upper")
    row = alpha[260] > 0.5
    assert row.any() and not row[:110].any() and not row[390:].any()


def test_a_necklines_back_collar_reaches_the_neck():
    """With no old collar to go by, a top's collar is raised to where the person's neck starts (the
    silhouette narrows), not left on the collarbones below it."""
    body = standing(torso=(150, 120, 350, 560), neck=(220, 60, 280, 120))  # the neck starts 40 px above the line
    _, alpha, _ = warp_garment(prepare_garment(tee(), "upper"), body, whole(), SHAPE, "upper")
    for column in (190, 310):  # beside the neck
        assert int(np.nonzero(alpha[:, column] > 0.5)[0].min()) <= 128


def test_on_video_the_tops_width_and_collar_do_not_follow_the_silhouettes_frame_to_frame_changes():
    """A video holds the size its lengths are scaled by (`size`): there a top is placed by the pose alone,
    so a silhouette that widens or shows its neck from one frame to the next moves neither the collar nor
    the torso's sides (the shoulders stay clipped to the silhouette and the sleeves follow the arms' width
    beside it, as on a photo: compared below them)."""
    garment = prepare_garment(tee(), "upper")
    slim, broad = standing(), standing(torso=(140, 120, 360, 560), neck=(220, 60, 280, 120))
    frames = [warp_garment(garment, body, whole(), SHAPE, "upper", size=140.0)[1] for body in (slim, broad)]
    np.testing.assert_array_equal(frames[0][220:], frames[1][220:])
    assert int(np.nonzero(frames[1][:, 190] > 0.5)[0].min()) > 128  # the collar not raised to the neck
