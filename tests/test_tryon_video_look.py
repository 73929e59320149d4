"""Issue 13's try-on on video (full_body_dance): the old mock neck's shaded collar edge goes with the old top,
the hair's black shadows past the chin are hair, and a bottom's hips meet its legs without a notch. Synthetic scenes, so no model runs."""

from __future__ import annotations

import numpy as np
from test_tryon_realism import neck_scene
from test_tryon_worn import SHAPE

from tryon_cli.masks.garment import neck_skin

MUSTARD = (184, 132, 41)
COLLAR_IN_SHADE = (128, 80, 24)  # the mustard folding over in shade: in the skin range, out of the fabric's Lab range
NECK_IN_SHADE = (150, 110, 75)  # the neck under the chin, in its shadow: within 30 8-bit L of the collar's shade


def test_a_mock_necks_shaded_collar_edge_is_no_neck():
    """A mustard mock neck's top folds over in shade (darker, less yellow, in the skin's colour range): with
    the row above it, where neck and collar mix, it is the old top's, not neck kept out of the mask (it
    stayed as a mustard line under the chin on every frame of full_body_dance)."""
    body, image, old = neck_scene(((180, 160), (320, 160)), ((200, 430), (300, 430)), torso_top=140, top_from=140)
    image[40:140, 225:276] = NECK_IN_SHADE
    image[140:581, 160:341] = MUSTARD
    image[140:144, 160:341] = COLLAR_IN_SHADE
    neck = neck_skin(image, body, old, scale=400.0)
    assert neck[120, 250] > 0  # the neck
    assert (neck[140:144, 230:270] == 0).all(), "the collar's shaded edge"
    assert (neck[138:140, 230:270] == 0).all(), "the collar's soft top edge, just above it"


def test_a_skin_coloured_tops_neck_is_kept_down_to_its_collar():
    """A top of the neck's own colour: its chromaticity cannot tell a shaded collar from the neck, so the
    neck is kept whole down to the collar, as before."""
    body, image, old = neck_scene(((180, 160), (320, 160)), ((200, 430), (300, 430)), torso_top=140, top_from=140)
    image[140:581, 160:341] = (206, 152, 121)  # a skin-coloured top
    neck = neck_skin(image, body, old, scale=400.0)
    assert neck[120, 250] > 0 and neck[136, 250] > 0


def test_black_shadows_of_the_hair_falling_past_the_chin_are_hair():
    """Hair falls from the head (kept in front) past the chin into the band above a new neckline, its strands'
    shadows black: darker than the hair's median by more than its colour tolerance, they were taken for the
    old collar and filled as a pink block of skin in the hair (full_body_dance frame 31)."""
    from tryon_cli.render.classical.garment import _hair_below_keep

    frame = np.full((*SHAPE, 3), 225, np.uint8)
    keep = np.zeros(SHAPE, np.uint8)
    keep[40:200, 180:320] = 255  # the head, cut at the chin
    frame[40:200, 180:320] = (45, 38, 38)  # dark hair ...
    frame[60:200, 215:285] = (215, 170, 150)  # ... round the face
    frame[200:260, 180:215] = (45, 38, 38)  # the hair falling past the chin ...
    frame[215:245, 185:210] = (4, 3, 3)  # ... black in its shadow
    region = np.zeros(SHAPE, bool)
    region[200:260, 170:330] = True  # the band above the new neckline
    hair = _hair_below_keep(frame, keep, region)
    assert hair[215:245, 185:210].all(), "the hair's black shadow"
    assert not hair[200:260, 225:330].any(), "not the band beside it"


def test_the_notch_where_a_bottoms_leg_steps_in_below_its_hips_is_closed():
    """The hips are laid square and each leg along its thigh: where a thigh turns in, the leg steps in below
    the hips' corner and out again lower down, and on the person that notch was filled as a grey block of
    backdrop (full_body_dance, pink jeans, frame 22). On the person it is garment, coloured from the garment
    round it; off the person nothing is added."""
    from tryon_cli.analysis import body as bp
    from tryon_cli.analysis.body import Body
    from tryon_cli.garments.placement import _close_hip_notches

    keypoints = np.zeros((33, 3), np.float32)
    for index, point in ((bp.LEFT_HIP, (200, 220)), (bp.RIGHT_HIP, (300, 220)), (bp.LEFT_KNEE, (215, 420)),
                         (bp.RIGHT_KNEE, (300, 420))):
        keypoints[index] = (*point, 1.0)
    person = np.zeros(SHAPE, np.uint8)
    person[180:560, 150:351] = 255
    body = Body(keypoints, person, (), "pose")
    alpha = np.zeros(SHAPE, np.float32)
    alpha[180:260, 140:351] = 1.0  # the hips, a little wider than the person on the left
    for row in range(260, 560):  # the image-left leg stepped in by 40 px, its outer edge back out 60 px lower
        alpha[row, 180 - min(max(row - 260, 0) * 40 // 60, 40) : 250] = 1.0
    alpha[260:560, 255:351] = 1.0
    warped = np.where(alpha[..., None] > 0, np.float32(220), np.float32(0)) * np.ones(3, np.float32)
    warped, closed = _close_hip_notches(warped, alpha, body)
    assert (closed[262:275, 160:178] == 1.0).all(), "the notch on the person below the hips' corner"
    assert np.abs(warped[262:275, 160:178] - 220).max() < 5.0, "in the garment's colour"
    assert (closed[262:275, 140:150] == 0).all(), "nothing off the person"
