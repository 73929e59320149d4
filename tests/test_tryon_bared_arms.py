"""Issue 13: arms and a midriff bared by a shorter garment are shaped from the pose, not from the old garment's
outline: an arm tapers from the shoulder to the wrist inside its old long sleeve, and what the sleeve's straight
tube or a loose top's box covered beyond the body is what lies behind it, not skin. Synthetic scenes."""

from __future__ import annotations

import cv2
import numpy as np
from test_tryon_worn import SHAPE, body_with

from tryon_cli.analysis.body import Body
from tryon_cli.garments.placement import BARE_ARM_RADII, arms_in_front, body_figure
from tryon_cli.garments.planner import _torso
from tryon_cli.render.classical.garment import render_garment
from tryon_cli.render.contract import GarmentConditions

SKIN = (205, 150, 120)
BACKDROP = (230, 230, 230)
ARMS_OUT = dict(left_elbow=(120, 280), left_wrist=(110, 390), right_elbow=(380, 280), right_wrist=(390, 390))
JOINTS = (((180, 160), (120, 280), (110, 390)), ((320, 160), (380, 280), (390, 390)))
TUBE = 70  # the loose long sleeve's width (px); the arms' shoulder-joint distance is 140


def long_sleeved_scene(box: tuple[int, int] = (150, 351)) -> tuple[np.ndarray, Body, np.ndarray]:
    """A skin-coloured person on a light backdrop in a dark long-sleeved top: the body of a loose top whose
    columns are `box` (rows 140-420) and straight sleeves TUBE px wide along each arm down to the wrist;
    the neck and the hands below the wrists bare. The frame, the body and the top's region."""
    body = body_with(**ARMS_OUT)
    old = np.zeros(SHAPE, np.uint8)
    old[140:421, box[0]:box[1]] = 255
    person = body.person.copy()
    cv2.rectangle(person, (225, 80), (275, 140), 255, -1)  # the neck
    for shoulder, elbow, wrist in JOINTS:
        cv2.polylines(old, [np.array([shoulder, elbow, wrist], np.int32)], False, 255, TUBE)
        cv2.circle(person, (wrist[0], wrist[1] + 25), 18, 255, -1)  # the hand
    old[401:] = 0  # (the cuffs end at the wrists, the hands bare)
    person |= old
    frame = np.full((*SHAPE, 3), BACKDROP, np.uint8)
    frame[person > 0] = SKIN
    frame[old > 0] = (30, 30, 34)
    return frame, Body(body.keypoints, person, (), "pose"), old


def crop_top(frame: np.ndarray, body: Body, old: np.ndarray, hem: int) -> np.ndarray:
    """The scene re-dressed in a plain sleeveless crop top over the torso's columns down to row `hem`."""
    alpha = np.zeros(SHAPE, np.float32)
    alpha[150:hem, 175:326] = 1.0
    warped = np.full((*SHAPE, 3), (230, 200, 40), np.uint8)
    mask = cv2.dilate(old, np.ones((9, 9), np.uint8)) | np.where(alpha > 0, 255, 0).astype(np.uint8)
    return render_garment(frame, mask, GarmentConditions(
        garment=warped, garment_mask=np.full(SHAPE, 255, np.uint8), warped=warped, warped_alpha=alpha,
        keep=np.zeros(SHAPE, np.uint8), person=body.person, old_garment=old, torso=_torso(body, SHAPE),
        arms=arms_in_front(body, SHAPE), figure=body_figure(body, SHAPE)))


def is_skin_coloured(pixels: np.ndarray) -> np.ndarray:
    """Nearer the skin than the backdrop (and not the old top's dark)."""
    pixels = pixels.astype(float)
    return np.abs(pixels - SKIN).sum(axis=-1) < np.abs(pixels - BACKDROP).sum(axis=-1)


def run_through(row: np.ndarray, x: int) -> int:
    """The length of the run of True in `row` through column `x` (0 when `row[x]` is False)."""
    if not row[x]:
        return 0
    left = x - int(np.argmin(row[x::-1])) + 1 if not row[: x + 1].all() else 0
    right = x + int(np.argmin(row[x:])) if not row[x:].all() else len(row)
    return right - left


def test_a_bared_arm_tapers_to_the_wrist_inside_its_old_long_sleeve():
    """The old long sleeve is a straight tube 70 px wide; once gone, the arm under it is the pose's limb: wide
    at the upper arm, narrower at the forearm, and the tube beyond it is backdrop, on both sides (filled as
    skin the arm was the sleeve's straight tube, no taper)."""
    frame, body, old = long_sleeved_scene()
    out = crop_top(frame, body, old, hem=300)
    skin = is_skin_coloured(out)
    upper = run_through(skin[220], 150)  # across the image-left upper arm (its bone at x = 150) ...
    forearm = run_through(skin[370], 112)  # ... and its forearm near the wrist
    assert upper > 30 and forearm > 15, (upper, forearm)
    assert forearm < 0.75 * upper, f"the arm tapers: {upper} px across the upper arm, {forearm} near the wrist"
    width = 140  # the shoulder joints' distance
    assert forearm <= 2 * BARE_ARM_RADII[1] * width + 4, f"the forearm is the limb's width, not the tube's: {forearm}"
    # row 370: the forearm's bone is at x = 112; the tube reaches 35 px either side of it
    assert old[370, 140] and old[370, 80]
    assert not is_skin_coloured(out[368:373, 138:143]).any(), "beyond the limb, on the torso's side: backdrop"
    assert not is_skin_coloured(out[368:373, 80:85]).any(), "beyond the limb, on the outer side: backdrop"
    assert is_skin_coloured(out[368:373, 108:116]).all(), "the forearm itself is skin"


def test_a_loose_tops_box_beside_a_bared_midriff_is_backdrop_not_skin():
    """A loose top wider than the body (columns 130-370; the hips measure 165-335 from the pose): under a crop
    top the midriff is bared as wide as the torso's side contour, and the top's box beyond it, between the
    torso and the arms, is backdrop (it was filled as a boxy block of skin)."""
    frame, body, old = long_sleeved_scene(box=(130, 371))
    out = crop_top(frame, body, old, hem=300)
    assert old[350, 145] and old[350, 355]
    assert is_skin_coloured(out[348:353, 200:300]).all(), "the midriff itself is skin"
    assert not is_skin_coloured(out[348:353, 142:148]).any(), "the box beside the image-left hip: backdrop"
    assert not is_skin_coloured(out[348:353, 352:358]).any(), "the box beside the image-right hip: backdrop"


def test_the_pose_figure_tapers_along_each_arm_and_reaches_into_the_hand():
    """`body_figure`: each arm's half-width shrinks from the shoulder through the elbow to the wrist, the
    outline is anti-aliased, and the limb goes on past the wrist into the hand (kept in front), so no notch
    of backdrop is left between the filled arm and the hand."""
    figure = body_figure(body_with(**ARMS_OUT), SHAPE)
    assert figure is not None and figure.dtype == np.float32

    # across the image-left arm: its upper arm (bone at x = 150 on row 220), below the elbow, near the wrist
    widths = [run_through(figure[row] > 0.5, x) for row, x in ((220, 150), (300, 118), (385, 110))]
    assert widths[0] > widths[1] > widths[2] > 0, widths
    assert ((figure > 0.05) & (figure < 0.95)).any(), "a soft (anti-aliased) outline"
    assert figure[390 + int(0.8 * BARE_ARM_RADII[2] * 140), 110] > 0.5, "the limb reaches into the hand"
    assert figure[560, 40] == 0 and figure[300, 20] == 0, "off the body"


def test_the_backdrop_beside_a_slimmer_arm_carries_no_colour_of_the_old_sleeves_soft_edge():
    """A bulky green sleeve's soft outline lies just off the person mask (arms_crossed_office): filled from the
    backdrop around it, the old sleeve's place beyond the slimmer arm was a pale green ghost, with a green
    sliver at the outline. It is the backdrop's colour, read a little away from the person."""
    frame, body, old = long_sleeved_scene()
    green = (90, 200, 150)
    frame[old > 0] = green
    ring = (cv2.dilate(body.person, np.ones((13, 13), np.uint8)) > 0) & (body.person == 0)
    ring[400:] = False  # (the sleeves' outline only, not the hands')
    frame[ring] = ((np.array(green) + BACKDROP) / 2).astype(np.uint8)  # the soft edge, off the person mask
    out = crop_top(frame, body, old, hem=300)
    # row 370: the forearm's bone at x = 112, its half-width about 13; the sleeve reached x = 77 (the mask 73, its soft edge 71)
    beside = out[365:376, 76:95].astype(int)
    assert np.abs(beside - BACKDROP).sum(axis=2).max() < 25, "the old sleeve's place beyond the arm is backdrop"
