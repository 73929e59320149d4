"""Issue 13's realism fixes: filled skin carries the person's own texture, no light line around a warped
garment, no skin under a soft garment edge painted as backdrop, and a
skirt is not taken for part of the top above it. Synthetic scenes, so no model runs."""

from __future__ import annotations

import cv2
import numpy as np
from test_tryon_worn import SHAPE, body_with, short_sleeve, whole

from tryon_cli.analysis import body as bp
from tryon_cli.analysis.body import Body
from tryon_cli.garments.photo import prepare_garment
from tryon_cli.garments.placement import arms_in_front, warp_garment
from tryon_cli.masks.garment import MaskOptions, build_mask, neck_skin
from tryon_cli.render.classical.garment import body_rounding, render_garment
from tryon_cli.render.contract import GarmentConditions

SKIN = (205, 150, 120)
ARMS_OUT = dict(left_elbow=(120, 280), left_wrist=(110, 390), right_elbow=(380, 280), right_wrist=(390, 390))


def render_short_sleeve(frame: np.ndarray, body: Body, old: np.ndarray, hem: int | None = None,
                        torso: np.ndarray | None = None) -> np.ndarray:
    """`frame` re-dressed in the test short-sleeve top warped onto `body` (the mask the whole image), its
    `old` garment gone: with `hem` None the new top is drawn with no alpha (what is filled shows alone),
    else the top shows down to that row (a crop top)."""
    garment = prepare_garment(short_sleeve(), "upper")
    arms = arms_in_front(body, SHAPE)
    warped, alpha, keep = warp_garment(garment, body, whole(), SHAPE, "upper", arms)
    if hem is None:
        alpha = alpha * 0
    else:
        alpha = alpha.copy()
        alpha[hem:] = 0
    return render_garment(frame, np.full(SHAPE, 255, np.uint8), GarmentConditions(
        garment=garment.image, garment_mask=garment.mask, warped=warped, warped_alpha=alpha, keep=keep,
        person=body.person, old_garment=old, arms=arms, torso=torso))


def pose_keypoints(points: dict[int, tuple[int, int]]) -> np.ndarray:
    """BlazePose's 33 keypoints, these ones visible at (x, y) and the rest unseen."""
    keypoints = np.zeros((33, 3), np.float32)
    for index, (x, y) in points.items():
        keypoints[index] = (x, y, 1.0)
    return keypoints


def neck_scene(shoulders: tuple[tuple[int, int], tuple[int, int]], hips: tuple[tuple[int, int], tuple[int, int]],
               torso_top: int, top_from: int) -> tuple[Body, np.ndarray, np.ndarray]:
    """A skin-coloured person (a torso from row `torso_top` down, a neck above it) on a light backdrop, in a
    dark top from row `top_from` down: the body, the image and the top's mask."""
    keypoints = pose_keypoints({bp.LEFT_SHOULDER: shoulders[0], bp.RIGHT_SHOULDER: shoulders[1],
                                bp.LEFT_HIP: hips[0], bp.RIGHT_HIP: hips[1]})
    person = np.zeros(SHAPE, np.uint8)
    cv2.rectangle(person, (160, torso_top), (340, 580), 255, -1)
    cv2.rectangle(person, (225, 40), (275, 140), 255, -1)  # the neck
    image = np.full((*SHAPE, 3), 235, np.uint8)
    image[person > 0] = SKIN
    image[top_from:581, 160:341] = (25, 25, 30)
    top = np.zeros(SHAPE, np.uint8)
    top[top_from:581, 160:341] = 255
    return Body(keypoints, person, (), "pose"), image, top


def _high_frequency(values: np.ndarray) -> np.ndarray:
    grey = values.astype(np.float32).mean(axis=-1)
    return grey - cv2.GaussianBlur(grey, (0, 0), 2.0)


def test_filled_skin_carries_the_persons_own_skin_texture():
    """An old long sleeve filled as skin: the fill has the fine grain of the visible forearm skin, not a
    flat colour (it looked painted)."""
    body = body_with(**ARMS_OUT)
    rng = np.random.default_rng(1)
    frame = np.full((*SHAPE, 3), 200, np.uint8)
    frame[140:420, 150:350] = 20
    old = np.zeros(SHAPE, np.uint8)
    old[140:420, 150:350] = 255
    skin_pixels = np.zeros(SHAPE, np.uint8)
    for shoulder, elbow, wrist in (((180, 160), (120, 280), (110, 390)), ((320, 160), (380, 280), (390, 390))):
        cv2.line(skin_pixels, elbow, wrist, 255, 36)
        cv2.line(frame, shoulder, elbow, (20, 20, 20), 40)  # an old sleeve, to be filled as skin
        cv2.line(old, shoulder, elbow, 255, 40)
    grain = rng.normal(0, 10, SHAPE).astype(np.float32)
    textured = np.clip(np.array(SKIN, np.float32) + grain[..., None], 0, 255).astype(np.uint8)
    frame[skin_pixels > 0] = textured[skin_pixels > 0]
    out = render_short_sleeve(frame, body, old)
    filled = _high_frequency(out)[205:235, 140:156]  # inside the image-left upper arm, once the old sleeve
    visible = _high_frequency(frame)[320:360, 108:122]  # the photographed forearm
    assert filled.std() > 0.4 * visible.std()


def test_a_warped_garment_has_no_light_line_of_its_photos_backdrop():
    """The photo's white backdrop next to the garment's edge is not interpolated into the worn edge."""
    photo = short_sleeve(colour=(40, 90, 200))
    garment = prepare_garment(photo, "upper")
    body = body_with(**ARMS_OUT)
    warped, alpha, _ = warp_garment(garment, body, whole(), SHAPE, "upper")
    edge = (alpha > 0.05) & (alpha < 0.95)
    assert edge.sum() > 50
    colours = warped[edge].astype(int)
    # every edge pixel keeps the garment's own blue, none is lightened towards the white backdrop
    assert (colours.sum(axis=1) < sum((40, 90, 200)) + 60).mean() > 0.97


def test_the_skin_under_a_new_garments_soft_edge_is_skin_not_backdrop():
    """Where the new garment's edge is soft, what shows through is the body, filled as skin, not the
    backdrop inpainted over the old garment (a light line along the garment's outline)."""
    body = body_with(**ARMS_OUT)
    frame = np.full((*SHAPE, 3), 250, np.uint8)
    frame[body.person > 0] = SKIN
    old = np.zeros(SHAPE, np.uint8)
    old[140:420, 150:350] = 255
    frame[old > 0] = (20, 20, 20)
    mask = np.zeros(SHAPE, np.uint8)
    mask[120:440, 100:400] = 255
    warped = np.zeros((*SHAPE, 3), np.uint8)
    warped[...] = (40, 160, 60)
    alpha = np.zeros(SHAPE, np.float32)
    alpha[140:420, 190:310] = 1.0
    alpha[140:420, 180:190] = np.linspace(0.1, 0.9, 10)[None, :]  # a soft left edge
    alpha[140:420, 310:320] = 0.5
    out = render_garment(frame, mask, GarmentConditions(
        garment=warped, garment_mask=np.full(SHAPE, 255, np.uint8), warped=warped, warped_alpha=alpha,
        keep=np.zeros(SHAPE, np.uint8), person=body.person, old_garment=old,
        torso=np.where(old > 0, 255, 0).astype(np.uint8)))
    beneath = (out[300, 310:320].astype(np.float32) - 0.5 * np.array((40, 160, 60))) / 0.5
    assert np.abs(beneath - SKIN).sum(axis=1).mean() < 90  # skin shows through, not the white backdrop


def test_a_high_waisted_skirt_is_not_part_of_the_top_above_it():
    keypoints = pose_keypoints({bp.NOSE: (250, 60), 2: (240, 50),  # 2: BlazePose's left eye
                                bp.LEFT_SHOULDER: (180, 160), bp.RIGHT_SHOULDER: (320, 160),
                                bp.LEFT_HIP: (200, 420), bp.RIGHT_HIP: (300, 420)})
    person = np.zeros(SHAPE, np.uint8)
    cv2.rectangle(person, (160, 140), (340, 580), 255, -1)
    image = np.full((*SHAPE, 3), 235, np.uint8)
    image[140:330, 160:341] = (25, 25, 30)  # a black top
    image[330:581, 160:341] = (200, 160, 60)  # a mustard skirt from well above the hip joints
    body = Body(keypoints, person, (), "pose")
    built = build_mask(image, body, MaskOptions(category="upper"))
    assert built.garment is not None and (built.garment[200:300, 200:300] > 0).mean() > 0.9
    assert (built.garment[350:430, 200:300] > 0).mean() < 0.05
    assert (built.garment[350:430, 161:168] > 0).mean() < 0.05  # beside the hips too (no arm hangs there)


def test_a_new_top_may_cover_the_shoulders_a_low_cami_bared_but_not_the_neck():
    """A cami cut low under tilted shoulders: the skin above it is neck only within the neck's columns and
    down to just below its base; the shoulders and chest are the new top's to cover (it sat cut off at
    the cami's edge, the cami's straps left standing)."""
    # the cami cut low, from well below the shoulders
    body, image, cami = neck_scene(((180, 150), (320, 200)), ((200, 430), (300, 440)), torso_top=130, top_from=210)
    neck = neck_skin(image, body, cami, scale=float(np.hypot(140, 50)))
    assert neck[175, 190] == 0  # (row, col) the bare shoulder beside the neck: not kept out of the mask
    assert neck[185, 250] == 0  # the chest below the neck's base
    assert neck[120, 250] > 0  # the neck


def test_the_neck_kept_out_of_the_mask_does_not_reach_into_the_old_collar():
    # the old top, its collar right under the neck
    body, image, old = neck_scene(((180, 160), (320, 160)), ((200, 430), (300, 430)), torso_top=140, top_from=140)
    neck = neck_skin(image, body, old, scale=400.0)
    assert neck[120, 250] > 0 and neck[136, 250] > 0  # the neck, to its rim
    assert (neck[141:150, 230:270] == 0).all()  # not the collar below it


def test_the_collars_dark_anti_aliased_edge_is_no_rim_of_the_neck():
    """The neck kept out of the mask is grown by its soft rim, but next to the collar the collar's own
    anti-aliased edge (darker than the neck, mixed with the collar) is no neck: kept, it drew a thin dark
    line round the neck where the collar was."""
    body, image, old = neck_scene(((180, 160), (320, 160)), ((200, 430), (300, 430)), torso_top=140, top_from=140)
    image[140:142, 160:341] = (115, 88, 75)  # the collar's top edge, half neck half black collar
    old[140:142] = 0  # (the top's coarse region starts just below it)
    neck = neck_skin(image, body, old, scale=400.0)
    assert neck[120, 250] > 0 and neck[139, 250] > 0  # the neck, to its rim
    assert (neck[140:142, 230:270] == 0).all()  # not the collar's dark edge


def hand_on_hip_scene() -> tuple[np.ndarray, Body, np.ndarray, np.ndarray]:
    """A person in a grey tee and black trousers on a light backdrop, the image-right hand on the hip:
    between that arm and the waist a gap of backdrop, which the coarse person mask and the old garment's
    region both swallow. The frame, the body, the old garment's region and the gap."""
    rng = np.random.default_rng(3)
    frame = np.clip(232 + rng.normal(0, 1.5, (*SHAPE, 3)), 0, 255).astype(np.uint8)
    points = {bp.NOSE: (250, 60), bp.LEFT_SHOULDER: (180, 160), bp.RIGHT_SHOULDER: (320, 160),
              bp.LEFT_ELBOW: (140, 290), bp.LEFT_WRIST: (150, 400), bp.RIGHT_ELBOW: (405, 290),
              bp.RIGHT_WRIST: (345, 400), bp.LEFT_HIP: (200, 380), bp.RIGHT_HIP: (300, 380)}
    keypoints = pose_keypoints(points)
    frame[140:380, 160:340] = (110, 110, 116)  # the tee
    frame[380:580, 160:340] = (20, 20, 24)  # the trousers
    arms = np.zeros(SHAPE, np.uint8)
    for chain in bp.ARMS:
        cv2.polylines(arms, [np.array([points[i] for i in chain], np.int32)], False, 255, 12)  # (thinner than its capsule)
    frame[arms > 0] = SKIN
    sleeves = np.zeros(SHAPE, np.uint8)
    for shoulder, elbow in ((bp.LEFT_SHOULDER, bp.LEFT_ELBOW), (bp.RIGHT_SHOULDER, bp.RIGHT_ELBOW)):
        a, b = np.array(points[shoulder]), np.array(points[elbow])
        cv2.line(sleeves, tuple(int(v) for v in a), tuple(int(v) for v in a + 0.45 * (b - a)), 255, 40)
    frame[sleeves > 0] = (110, 110, 116)  # short sleeves
    hull = np.zeros(SHAPE, np.uint8)  # the coarse regions close the gap inside the bent arm
    cv2.fillPoly(hull, [np.array([(340, 170), (405, 290), (345, 400), (340, 400)], np.int32)], 255)
    gap = (hull > 0) & (arms == 0) & (sleeves == 0)
    person = np.zeros(SHAPE, np.uint8)
    cv2.rectangle(person, (160, 140), (340, 580), 255, -1)
    person |= arms | sleeves | hull
    old = np.zeros(SHAPE, np.uint8)
    old[140:380, 160:340] = 255
    old |= sleeves | (hull & ~arms)
    return frame, Body(keypoints, person, (), "pose"), old, gap


def test_the_backdrop_and_trousers_inside_a_coarse_old_region_stay_as_photographed():
    """A crop top on a tee-wearer with a hand on the hip: the backdrop between the arm and the waist and
    the trousers beside the forearm are neither old garment nor skin; they were painted as skin (the
    arm fused to the body, skin over the trousers' edge)."""
    frame, body, old, gap = hand_on_hip_scene()
    mask = np.zeros(SHAPE, np.uint8)
    mask[110:450, 100:440] = 255
    arms = arms_in_front(body, SHAPE)
    warped = np.zeros((*SHAPE, 3), np.uint8)
    warped[...] = (230, 200, 40)
    alpha = np.zeros(SHAPE, np.float32)
    alpha[150:300, 175:325] = 1.0  # a crop top on the torso
    out = render_garment(frame, mask, GarmentConditions(
        garment=warped, garment_mask=np.full(SHAPE, 255, np.uint8), warped=warped, warped_alpha=alpha,
        keep=np.zeros(SHAPE, np.uint8), person=body.person, old_garment=old, arms=arms,
        torso=np.where(old > 0, 255, 0).astype(np.uint8)))
    inner_gap = cv2.erode(gap.astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
    assert inner_gap.sum() > 500
    change = np.abs(out.astype(int) - frame.astype(int)).sum(axis=2)
    assert change[inner_gap].mean() < 10, "the backdrop between arm and waist stays backdrop"
    beside = cv2.dilate((frame.sum(axis=2) > 400).astype(np.uint8), np.ones((9, 9), np.uint8)) == 0  # (off the arm's rim)
    trousers = (arms > 0) & (mask > 0) & (frame.sum(axis=2) < 100) & beside
    assert trousers.sum() > 50
    assert change[trousers].mean() < 30, "the trousers beside the forearm stay trousers"
    # (and the tee the crop top leaves is still filled as skin)
    midriff = out[320:370, 200:300].astype(int)
    assert np.abs(midriff - SKIN).sum(axis=2).mean() < 60


def test_black_hair_is_no_reason_to_keep_a_black_collar():
    """Black hair on the person outside the mask is no other garment: the old top's black collar above the
    new garment's neckline is filled as skin, not kept as photographed."""
    frame, body, old, _ = hand_on_hip_scene()
    frame[380:580, 160:340] = (30, 40, 110)  # navy trousers
    frame[40:140, 170:330] = (12, 10, 10)  # black hair down to the shoulders, outside the mask
    body.person[40:140, 170:330] = 255
    frame[140:152, 200:300] = (15, 15, 15)  # the old tee's black collar, which its coarse region missed
    old[140:152] = 0
    mask = np.zeros(SHAPE, np.uint8)
    mask[140:450, 100:440] = 255
    warped = np.zeros((*SHAPE, 3), np.uint8)
    warped[...] = (230, 200, 40)
    alpha = np.zeros(SHAPE, np.float32)
    alpha[200:300, 175:325] = 1.0  # a low neckline
    out = render_garment(frame, mask, GarmentConditions(
        garment=warped, garment_mask=np.full(SHAPE, 255, np.uint8), warped=warped, warped_alpha=alpha,
        keep=np.zeros(SHAPE, np.uint8), person=body.person, old_garment=old, arms=arms_in_front(body, SHAPE),
        torso=np.where(old > 0, 255, 0).astype(np.uint8)))
    collar = out[144:150, 210:290].astype(int)
    assert collar.sum(axis=2).mean() > 300, "the old collar is filled as skin (in the old garment's shade)"


def dark_top_scene() -> tuple[np.ndarray, Body, np.ndarray]:
    """Arms out, bare, on a light backdrop, a dark top on the torso: the frame, the body and the top's region."""
    body = body_with(**ARMS_OUT)
    frame = np.full((*SHAPE, 3), 230, np.uint8)
    frame[body.person > 0] = SKIN
    frame[140:420, 150:351] = (60, 60, 64)  # the old top on the torso
    old = np.zeros(SHAPE, np.uint8)
    old[140:420, 150:351] = 255
    return frame, body, old


def test_a_filled_torso_is_round_across_its_whole_width():
    """A long top filled as skin: the bare torso darkens towards its sides over its own width, like a body
    lit from the front (a thin rim of darkening alone left a filled midriff flat as paint)."""
    frame, body, old = dark_top_scene()
    out = render_short_sleeve(frame, body, old)
    grey = out.astype(np.float32).mean(axis=2)
    middle = grey[360:400, 240:260].mean()
    side = grey[360:400, 172:180].mean()  # a quarter of the torso's half-width in from its side
    assert np.abs(out[360:400, 240:260].astype(int) - SKIN).sum(axis=2).mean() < 30  # the person's skin tone
    assert side < 0.96 * middle


def test_long_hair_on_the_shoulder_is_no_old_collar():
    """Long dark hair falling from the head (kept in front, cut at the jaw) onto the shoulder beside a crop
    top's strap stays hair: the old collar band above the new neckline took it, and a block of skin stood
    beside the neck."""
    frame, body, old, _ = hand_on_hip_scene()
    keep = np.zeros(SHAPE, np.uint8)
    keep[40:112, 165:335] = 255  # the head and its hair, down to the jaw
    frame[40:112, 165:335] = (12, 10, 10)  # black hair around ...
    frame[40:112, 200:300] = SKIN  # ... the face
    frame[40:160, 172:198] = (12, 10, 10)  # a lock of it falling onto the shoulder
    body.person[40:160, 165:335] = 255
    old[140:160, 165:205] = 0  # (the old top's coarse region stops under the hair)
    mask = np.zeros(SHAPE, np.uint8)
    mask[118:450, 100:440] = 255
    warped = np.zeros((*SHAPE, 3), np.uint8)
    warped[...] = (230, 200, 40)
    alpha = np.zeros(SHAPE, np.float32)
    alpha[230:300, 175:325] = 1.0  # a crop top ...
    alpha[150:230, 205:215] = alpha[150:230, 285:295] = 1.0  # ... on straps
    out = render_garment(frame, mask, GarmentConditions(
        garment=warped, garment_mask=np.full(SHAPE, 255, np.uint8), warped=warped, warped_alpha=alpha,
        keep=keep, person=body.person, old_garment=old, arms=arms_in_front(body, SHAPE),
        torso=np.where(old > 0, 255, 0).astype(np.uint8)))
    hair = out[135:150, 178:192].astype(int)
    assert hair.sum(axis=2).mean() < 90, "the hair on the shoulder stays hair"


def test_the_old_collars_ribbing_above_its_region_is_no_neck():
    """The old top's collar ribbing, lighter than the top but of its hue, just above the top's coarse
    region: it goes with the old garment (into the mask), not with the neck (a grey ring of the old tee
    stayed around the neck, outside the mask)."""
    body, image, old = neck_scene(((180, 160), (320, 160)), ((200, 430), (300, 430)), torso_top=140, top_from=146)
    image[138:146, 160:341] = (55, 55, 62)  # the collar's ribbing, outside the top's region
    neck = neck_skin(image, body, old, scale=400.0)
    assert neck[120, 250] > 0 and neck[136, 250] > 0  # the neck, to its rim
    assert (neck[139:146, 230:270] == 0).all()  # not the ribbing below it


def test_no_dark_line_of_the_old_collar_at_the_masks_edge():
    """The old collar right at the mask's edge (the neck above is kept out): it is replaced to the edge,
    not faded back in by the paste's feather as a dark line around the neck."""
    frame, body, old, _ = hand_on_hip_scene()
    frame[140:148, 200:300] = (15, 15, 15)  # the old tee's black collar, at the top of the mask
    mask = np.zeros(SHAPE, np.uint8)
    mask[140:450, 100:440] = 255
    warped = np.zeros((*SHAPE, 3), np.uint8)
    warped[...] = (230, 200, 40)
    alpha = np.zeros(SHAPE, np.float32)
    alpha[200:300, 175:325] = 1.0  # a low neckline
    out = render_garment(frame, mask, GarmentConditions(
        garment=warped, garment_mask=np.full(SHAPE, 255, np.uint8), warped=warped, warped_alpha=alpha,
        keep=np.zeros(SHAPE, np.uint8), person=body.person, old_garment=old, arms=arms_in_front(body, SHAPE),
        torso=np.where(old > 0, 255, 0).astype(np.uint8)))
    edge = out[140:143, 210:290].astype(int)
    assert edge.sum(axis=2).min() > 250, "the collar's top rows are skin too"
    assert (out[mask == 0] == frame[mask == 0]).all()


def flared_sleeve_scene() -> tuple[np.ndarray, Body, np.ndarray]:
    """Arms out in a dark top whose short sleeves stand 40 px off the upper arms (the arms are 20 px wide):
    the frame, the body (its person mask holding the sleeves) and the old top's region."""
    body = body_with(**ARMS_OUT)
    person = body.person.copy()
    frame = np.full((*SHAPE, 3), 230, np.uint8)
    old = np.zeros(SHAPE, np.uint8)
    old[140:420, 150:351] = 255
    for shoulder, elbow in (((180, 160), (120, 280)), ((320, 160), (380, 280))):
        cv2.line(old, shoulder, ((shoulder[0] + elbow[0]) // 2, (shoulder[1] + elbow[1]) // 2), 255, 80)  # the sleeve
    person[old > 0] = 255
    frame[person > 0] = SKIN
    frame[old > 0] = (30, 30, 34)
    return frame, Body(body.keypoints, person, (), "pose"), old


def assert_sleeve_trimmed(out: np.ndarray, old: np.ndarray, middle: int, outward: int) -> None:
    """On row 200 of `flared_sleeve_scene`, the upper arm whose middle line is at x = `middle` (its outer side
    towards `outward`, -1 or 1): the sleeve reached 40 px out, the arm 20. Beyond the arm it is backdrop now,
    the arm itself skin."""
    assert old[200, middle + 35 * outward] and old[200, middle]
    far = sorted((middle + 32 * outward, middle + 40 * outward))
    flare = out[198:203, far[0]:far[1]].astype(int)
    assert (flare.min(axis=2) > 200).all(), "beyond the arm's width, the sleeve's place is backdrop"
    inner, outer = sorted((middle - 5 * outward, middle + 10 * outward))  # mostly on the arm's inner side
    arm = out[198:203, inner:outer]
    assert np.abs(arm.astype(int) - SKIN).sum(axis=2).mean() < 60, "the upper arm itself is skin"


def test_a_white_tops_sleeves_outside_its_coarse_region_are_old_garment():
    """A white top on a light backdrop whose coarse region holds only the torso's middle: its shoulders and
    sleeves, of its colour and joined to it, go with it (an old white sleeve stood at the shoulder beside
    the new crop top); a white skirt below its hem stays."""
    body = body_with(**ARMS_OUT)
    frame = np.full((*SHAPE, 3), 236, np.uint8)
    frame[body.person > 0] = SKIN
    frame[140:380, 150:351] = (248, 248, 246)  # the white top ...
    for shoulder, elbow in (((180, 160), (120, 280)), ((320, 160), (380, 280))):
        end = (int(shoulder[0] + 0.4 * (elbow[0] - shoulder[0])), int(shoulder[1] + 0.4 * (elbow[1] - shoulder[1])))
        cv2.line(frame, shoulder, end, (248, 248, 246), 40)  # ... with short sleeves
    frame[380:560, 150:351] = (246, 246, 244)  # a white skirt
    old = np.zeros(SHAPE, np.uint8)
    old[200:380, 200:300] = 255  # the coarse region: the torso's middle only
    mask = np.zeros(SHAPE, np.uint8)
    mask[110:560, 60:440] = 255
    alpha = np.zeros(SHAPE, np.float32)
    alpha[230:330, 175:325] = 1.0  # a crop top
    warped = np.full((*SHAPE, 3), (230, 200, 40), np.uint8)
    out = render_garment(frame, mask, GarmentConditions(
        garment=warped, garment_mask=np.full(SHAPE, 255, np.uint8), warped=warped, warped_alpha=alpha,
        keep=np.zeros(SHAPE, np.uint8), person=body.person, old_garment=old))
    sleeve = out[180:190, 160:172].astype(int).sum(axis=2)
    assert sleeve.mean() < 650, "the old white sleeve is gone"
    skirt = np.abs(out[420:460, 200:300].astype(int) - frame[420:460, 200:300].astype(int))
    assert skirt.mean() < 3, "the white skirt below the top's hem stays"


def test_a_red_top_in_the_skins_hue_range_is_no_neck():
    """A dark red top whose edge above its coarse region falls in the skin colour range: it is the old
    garment, not neck kept out of the mask (a piece of an old red sleeve stood on the shoulder)."""
    from tryon_cli.analysis.body import is_skin

    body, image, old = neck_scene(((180, 160), (320, 160)), ((200, 430), (300, 430)), torso_top=140, top_from=146)
    red = (150, 48, 64)
    image[146:581, 160:341] = red
    image[134:146, 160:341] = red  # the top's edge, above its coarse region
    assert is_skin(np.array([[red]], np.uint8))[0, 0]  # (the case: red that passes for skin)
    neck = neck_skin(image, body, old, scale=400.0)
    assert neck[120, 250] > 0  # the neck
    assert (neck[137:146, 230:270] == 0).all()  # not the red top's edge


def _new_trousers_over_old_garment(frame: np.ndarray, person: np.ndarray) -> np.ndarray:
    """`frame` with new dark trousers (a waist band and two legs) rendered over the old garment that covers
    rows 150-420 of the body, columns 150-351 (the torso above it, the mask reaching below the feet)."""
    old = np.zeros(SHAPE, np.uint8)
    old[150:420, 150:351] = 255
    torso = np.zeros(SHAPE, np.uint8)
    torso[100:260, 170:331] = 255
    mask = np.zeros(SHAPE, np.uint8)
    mask[140:570, 110:390] = 255
    alpha = np.zeros(SHAPE, np.float32)
    alpha[250:300, 175:326] = 1.0  # the trousers' waist ...
    alpha[300:570, 175:236] = alpha[300:570, 265:326] = 1.0  # ... and legs
    warped = np.full((*SHAPE, 3), (20, 50, 90), np.uint8)
    return render_garment(frame, mask, GarmentConditions(
        garment=warped, garment_mask=np.full(SHAPE, 255, np.uint8), warped=warped, warped_alpha=alpha,
        keep=np.zeros(SHAPE, np.uint8), category="lower", person=person, old_garment=old, torso=torso))


def test_the_gap_a_skirt_leaves_between_new_trousers_legs_is_backdrop():
    """A cream skirt over bare legs, new trousers on the legs: the gap between the trouser legs where the
    skirt hung is the backdrop, not the legs' skin colour smeared in from beside it."""
    frame = np.full((*SHAPE, 3), 250, np.uint8)
    person = np.zeros(SHAPE, np.uint8)
    person[40:420, 150:351] = 255  # a dress: the bodice and the skirt ...
    person[300:560, 180:231] = person[300:560, 270:321] = 255  # ... over two legs
    person[150:400, 125:150] = person[150:400, 351:376] = 255  # the arms beside it
    frame[person > 0] = SKIN
    frame[40:420, 150:351] = (235, 230, 215)
    out = _new_trousers_over_old_garment(frame, person)
    gap = out[302:340, 242:259].astype(int)
    assert np.abs(gap - 250).sum(axis=2).mean() < 25, "the gap between the legs is backdrop"


def test_skin_coloured_specks_of_an_old_print_go_with_it_off_the_body():
    """Specks of an old skirt's print that pass for bare skin (pink bits), where the new trousers leave
    the backdrop: they go with the skirt, not stand as dots against the backdrop."""
    frame = np.full((*SHAPE, 3), 250, np.uint8)
    person = np.zeros(SHAPE, np.uint8)
    person[40:420, 150:351] = 255
    person[300:560, 180:231] = person[300:560, 270:321] = 255
    frame[person > 0] = SKIN
    frame[40:420, 150:351] = (235, 230, 215)
    for y in range(305, 395, 14):  # skin-coloured specks of the print between the legs
        frame[y:y + 6, 245:251] = SKIN
    out = _new_trousers_over_old_garment(frame, person)
    specks = out[305:395, 245:251].astype(int)
    assert np.abs(specks - 250).sum(axis=2).max() < 40, "no skin-coloured speck stays"


def test_larger_skin_coloured_pieces_of_an_old_print_enclosed_by_it_go_with_it():
    """Pieces of a trouser print in the skin's range too large for a closing (a score of px, as the pink bits
    of full_body_tee_trousers' print by the feet), enclosed by the old garment, where a new garment leaves
    the backdrop: they go with the old garment, no dots of it stay against the backdrop; a bare arm beside
    the old garment, as large, stays as photographed."""
    frame = np.full((*SHAPE, 3), 250, np.uint8)
    person = np.zeros(SHAPE, np.uint8)
    person[40:420, 150:351] = 255
    person[300:595, 180:231] = person[300:595, 270:321] = 255  # (the ankles below the mask: skin seen)
    person[150:400, 125:150] = 255  # a bare arm beside the old garment
    frame[person > 0] = SKIN
    frame[40:420, 150:351] = (60, 60, 75)  # a dark old print ...
    for y in range(305, 395, 30):  # ... with pieces in the skin's range between the legs
        frame[y:y + 20, 240:262] = SKIN
    out = _new_trousers_over_old_garment(frame, person)
    pieces = out[305:395, 240:262].astype(int)
    assert np.abs(pieces - 250).sum(axis=2).max() < 40, "no piece of the print stays"
    assert np.abs(out[200:350, 128:137].astype(int) - SKIN).sum(axis=2).max() < 30, "the bare arm stays skin"


def test_the_old_region_reaching_off_a_bare_arm_is_filled_from_the_backdrop_alone():
    """The old top's coarse region reaches 8 px off two bare arms whose silhouettes are soft (skin fading into
    the backdrop): what it holds off the person is the backdrop behind, not inpainted from the arm's skin
    beside it too (full_body_tee_trousers: a peach strip along the right arm, a pale ghost of the old sleeve
    at the left shoulder)."""
    from tryon_cli.analysis import body as bp

    backdrop = (170, 200, 235)
    body = body_with(**ARMS_OUT)
    frame = np.full((*SHAPE, 3), backdrop, np.uint8)
    frame[body.person > 0] = SKIN
    frame = cv2.GaussianBlur(frame, (0, 0), 3)  # a soft silhouette
    frame[140:420, 150:351] = (40, 40, 48)  # a dark old top on the torso, the arms bare
    old = np.zeros(SHAPE, np.uint8)
    old[140:420, 150:351] = 255
    for a, b, c in bp.ARMS:  # (the arms are 40 px wide)
        cv2.polylines(old, [np.array([body.keypoints[i, :2] for i in (a, b, c)], np.int32)], False, 255, 56)
    alpha = np.zeros(SHAPE, np.float32)
    alpha[140:420, 150:351] = 1.0
    warped = np.full((*SHAPE, 3), (200, 40, 40), np.uint8)
    out = render_garment(frame, np.full(SHAPE, 255, np.uint8), GarmentConditions(
        garment=warped, garment_mask=np.full(SHAPE, 255, np.uint8), warped=warped, warped_alpha=alpha,
        keep=np.zeros(SHAPE, np.uint8), person=body.person, old_garment=old))
    beside = (old > 0) & (cv2.dilate(body.person, np.ones((7, 7), np.uint8)) == 0)  # 3 px and more off the arms
    off = np.abs(out.astype(int) - backdrop).sum(axis=2)[beside]
    assert np.percentile(off, 95) < 45, "off the arms it is the backdrop, no strip of skin"


def test_an_arm_against_the_torso_rounds_on_its_own_not_as_part_of_the_torso():
    """An arm hanging against the torso is one blob with it in the person mask: filled as skin, arm and torso
    were rounded as one wide body (one flat block, the old T-shirt's outline); each rounds on its own, and
    where they meet the skin is shaded."""
    person = np.zeros(SHAPE, np.uint8)
    person[150:560, 150:350] = 255  # the torso
    person[170:420, 110:150] = 255  # the image-left arm, touching it
    arms = np.zeros(SHAPE, np.uint8)
    arms[200:420, 116:146] = 255  # the arm's capsule (narrower than the arm)
    torso = np.zeros(SHAPE, np.uint8)
    torso[150:560, 150:350] = 255
    factor = body_rounding(person, arms, torso)
    alone = body_rounding(person)
    row = 320
    seam, middle_of_arm = factor[row, 148:152].mean(), factor[row, 128:132].mean()
    assert middle_of_arm > seam + 0.05, "the arm is lightest along its middle, shaded at the torso"
    assert middle_of_arm > factor[row, 111] + 0.05  # ... and at its outer silhouette
    assert factor[row, 248:252].mean() > 0.99  # the torso's middle stays lit
    assert alone[row, 148:152].mean() > seam + 0.05  # (one blob: no seam between them)


def test_a_new_garments_hem_shades_the_skin_just_below_it():
    """Skin filled below a crop top's hem is darker just under the hem, where the garment shades the body,
    than further down: the hem rests on the body instead of ending in a hard line over flat skin."""
    frame, body, old = dark_top_scene()
    out = render_short_sleeve(frame, body, old, hem=300)
    grey = out.astype(np.float32).mean(axis=2)
    under_hem, lower = grey[304:308, 235:265].mean(), grey[350:360, 235:265].mean()
    assert under_hem < 0.97 * lower
    assert lower > 0.9 * np.mean(SKIN)  # further down, the skin is not darkened


def test_a_flared_sleeve_beyond_the_arms_width_is_backdrop_not_a_fat_skin_arm():
    """A short sleeve standing off the upper arm: once gone, the arm under it is as wide as the bare forearm
    below it (a little more), and what the sleeve covered beyond that, on the arm's outer side, is backdrop
    (filled as skin it made square shoulders and a fat upper arm)."""
    from tryon_cli.garments.planner import _torso

    frame, body, old = flared_sleeve_scene()
    out = render_short_sleeve(frame, body, old, torso=_torso(body, SHAPE))
    assert_sleeve_trimmed(out, old, middle=160, outward=-1)


def test_filled_skin_takes_the_bare_forearms_colour_not_auburn_hair_beside_it():
    """Skin-range pixels near a filled area are not all skin: long auburn hair over the shoulders outnumbered
    the light bare forearms and the midriff was filled dark brown. The arms' own bare skin gives the tone."""
    body = body_with(**ARMS_OUT)
    person = body.person.copy()
    person[20:190, 100:401] = 255  # the head and long hair falling onto the shoulders
    light, hair = (225, 185, 160), (130, 72, 45)
    frame = np.full((*SHAPE, 3), 235, np.uint8)
    frame[person > 0] = light
    frame[20:190, 100:401] = hair
    frame[420:, 150:351] = (40, 45, 90)  # trousers
    old = np.zeros(SHAPE, np.uint8)
    old[190:420, 150:351] = 255
    for shoulder, elbow in (((180, 160), (120, 280)), ((320, 160), (380, 280))):
        cv2.line(old, shoulder, elbow, 255, 44)  # its sleeves down to the elbows: the forearms bare
    old[:190] = 0
    frame[old > 0] = (30, 30, 34)
    body = Body(body.keypoints, person, (), "pose")
    out = render_short_sleeve(frame, body, old)
    middle = out[330:370, 235:265].reshape(-1, 3).astype(float).mean(axis=0)
    assert np.abs(middle - light).sum() < np.abs(middle - hair).sum()
    assert middle.mean() > 0.8 * np.mean(light)


def test_a_seam_on_the_old_top_leaves_no_line_on_the_filled_skin():
    """The old garment's lightness shades the filled skin only at the body's scale: a placket seam (a thin
    lighter line down a dark satin top) was carried onto the chest as a drawn line."""
    body = body_with(**ARMS_OUT)
    frame = np.full((*SHAPE, 3), 230, np.uint8)
    frame[body.person > 0] = SKIN
    frame[140:420, 150:351] = (40, 40, 44)  # the old top on the torso ...
    frame[140:420, 249:252] = (75, 75, 80)  # ... with a seam down its middle
    old = np.zeros(SHAPE, np.uint8)
    old[140:420, 150:351] = 255
    out = render_short_sleeve(frame, body, old)
    grey = cv2.GaussianBlur(out.astype(np.float32).mean(axis=2), (0, 0), 1.5)  # (the skin's texture aside)
    profile = grey[300:380, 220:281].mean(axis=0)
    seam = profile[29:32].mean()
    beside = (profile[19:21].mean() + profile[40:42].mean()) / 2  # 10 px either side
    assert seam - beside < 2.0


def test_a_bare_arms_soft_silhouette_beside_the_old_top_is_not_filled_as_its_edge():
    """The old top's region is grown a little (its coarse region stops short of its edge), but the soft
    silhouette of a bare arm beside it, skin mixed with backdrop, is no part of it: filled as skin it left
    a beaded rim of skin-coloured blocks along the arm."""
    person = np.zeros(SHAPE, np.uint8)
    person[140:560, 150:351] = 255  # the torso ...
    person[150:400, 100:145] = 255  # ... and a bare arm hanging 5 px beside it
    frame = np.full((*SHAPE, 3), 235, np.uint8)
    frame[person > 0] = SKIN
    frame[150:400, 143:145] = (227, 214, 206)  # the arm's soft silhouette: mostly backdrop
    frame[150:400, 100:102] = (227, 214, 206)
    frame[140:420, 150:351] = (30, 30, 34)  # the old top
    old = np.zeros(SHAPE, np.uint8)
    old[140:420, 150:351] = 255
    warped = np.full((*SHAPE, 3), (200, 40, 40), np.uint8)
    alpha = np.zeros(SHAPE, np.float32)
    alpha[140:420, 150:351] = 1.0  # the new top covers the old one
    out = render_garment(frame, np.full(SHAPE, 255, np.uint8), GarmentConditions(
        garment=warped, garment_mask=np.full(SHAPE, 255, np.uint8), warped=warped, warped_alpha=alpha,
        keep=np.zeros(SHAPE, np.uint8), person=person, old_garment=old))
    assert np.abs(out[200:380, 143:145].astype(int) - frame[200:380, 143:145]).max() < 12


def test_bare_arms_stay_as_photographed_beside_trousers_of_a_skin_like_print():
    """Bare skin is told from other skin-range colours by the chroma of the person's own skin outside the
    mask; a trouser print of muted reds and browns (in the skin range) outnumbered the face there, the
    reference chroma was the print's, and the bare arms, taken for the old top, were painted over with
    flat filled skin. The skin kept in front (face, hands) gives the reference."""
    body = body_with(**ARMS_OUT)
    person = body.person.copy()
    person[30:140, 200:301] = 255  # the head
    arm_skin, print_colour = np.array((183, 133, 98)), np.array((114, 77, 73))
    frame = np.full((*SHAPE, 3), 235, np.uint8)
    frame[person > 0] = arm_skin
    rows = np.arange(SHAPE[0])[:, None, None]
    frame = np.where(person[..., None] > 0, np.clip(arm_skin + 12 * np.sin(rows / 4.0), 0, 255), frame).astype(np.uint8)
    frame[420:, 150:351] = print_colour  # the trousers, a muted red print
    frame[420:, 150:351:12] = (60, 40, 40)
    old = np.zeros(SHAPE, np.uint8)
    old[140:420, 150:351] = 255
    frame[old > 0] = (240, 240, 240)  # a white top
    keep = np.zeros(SHAPE, np.uint8)
    keep[30:140, 200:301] = 255
    mask = np.zeros(SHAPE, np.uint8)
    mask[130:420] = 255
    warped = np.full((*SHAPE, 3), (200, 40, 40), np.uint8)
    alpha = np.zeros(SHAPE, np.float32)
    alpha[140:300, 150:351] = 1.0  # a crop top
    out = render_garment(frame, mask, GarmentConditions(
        garment=warped, garment_mask=np.full(SHAPE, 255, np.uint8), warped=warped, warped_alpha=alpha,
        keep=keep, person=person, old_garment=old, arms=arms_in_front(body, SHAPE)))
    forearm = (slice(320, 380), slice(100, 130))  # the image-left forearm, inside the mask, bare
    assert np.abs(out[forearm].astype(int) - frame[forearm]).mean() < 3



def render_on_lit_chest(chest: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Arms out, in shadow ((120, 75, 55)); the chest above an old white top's straight neckline (row 200) lit
    to `chest`: the frame and its short-sleeve re-dress."""
    body = body_with(**ARMS_OUT)
    frame = np.full((*SHAPE, 3), 235, np.uint8)
    frame[body.person > 0] = (120, 75, 55)
    frame[140:200, 150:351] = chest
    frame[200:420, 150:351] = (240, 240, 242)
    old = np.zeros(SHAPE, np.uint8)
    old[200:420, 150:351] = 255
    return frame, render_short_sleeve(frame, body, old)


def test_filled_skin_goes_on_from_a_lit_chest_above_the_old_neckline_without_a_step():
    """The fill's tone is the arms' (often in shadow at the sides); the chest above a straight old neckline,
    lit from the front, is much brighter in the same skin's chroma. Left out of the skin the fill follows,
    the fill below the neckline was a darker block with a step at the old neckline."""
    _, out = render_on_lit_chest((180, 125, 95))
    grey = out.astype(np.float32).mean(axis=2)
    chest, below = grey[185:195, 230:270].mean(), grey[206:216, 230:270].mean()
    assert abs(below - chest) < 15


def test_an_upper_garments_region_on_a_dress_stops_at_its_waist():
    """On a dress (the chest's fabric goes on across the hips, a skirt) the old top ends at the waist: what
    lies below a short new top is the skirt, and was filled as a rectangle of skin cut across it. A top
    over trousers of another colour still reaches down to the hips."""
    keypoints = pose_keypoints({bp.NOSE: (250, 60), 2: (240, 50),
                                bp.LEFT_SHOULDER: (180, 160), bp.RIGHT_SHOULDER: (320, 160),
                                bp.LEFT_HIP: (200, 420), bp.RIGHT_HIP: (300, 420)})
    person = np.zeros(SHAPE, np.uint8)
    cv2.rectangle(person, (160, 140), (340, 580), 255, -1)
    body = Body(keypoints, person, (), "pose")
    dress = np.full((*SHAPE, 3), 235, np.uint8)
    dress[140:581, 160:341] = (120, 40, 50)  # one fabric from the shoulders to below the knees
    built = build_mask(dress, body, MaskOptions(category="upper"))
    assert built.garment is not None and (built.garment[200:290, 200:300] > 0).mean() > 0.9
    assert (built.garment[320:420, 200:300] > 0).mean() < 0.05  # from the waist (row 303) down: the skirt
    separates = dress.copy()
    separates[440:581, 160:341] = (40, 50, 110)  # the same top over navy trousers
    built = build_mask(separates, body, MaskOptions(category="upper"))
    assert (built.garment[320:420, 200:300] > 0).mean() > 0.9


def test_a_flared_sleeve_on_an_arm_whose_forearm_is_not_seen_is_trimmed_to_the_other_arms_width():
    """The old garment's coarse region swallowed one forearm (no bare skin of that arm to measure): that
    arm is as wide as the other, and its sleeve standing off it is backdrop (it stayed a square skin
    shoulder)."""
    from tryon_cli.garments.planner import _torso

    frame, body, old = flared_sleeve_scene()
    coarse = old.copy()
    coarse[220:420, 340:420] = 255  # the coarse region runs down over the image-right forearm (still bare)
    out = render_short_sleeve(frame, body, coarse, torso=_torso(body, SHAPE))
    assert_sleeve_trimmed(out, old, middle=340, outward=1)


def test_a_loose_long_sleeve_with_no_forearm_seen_is_trimmed_to_an_arm_for_the_shoulders():
    """Long loose sleeves on both arms (no bare forearm to measure): an arm is as wide as its capsule (sized
    to the body), eased, and what the sleeve covered beyond that on its outer side is backdrop (filled as
    skin it was a fat slab of an arm)."""
    from tryon_cli.garments.planner import _torso

    body = body_with(**ARMS_OUT)
    person = body.person.copy()
    frame = np.full((*SHAPE, 3), 230, np.uint8)
    old = np.zeros(SHAPE, np.uint8)
    old[140:420, 150:351] = 255
    for shoulder, elbow, wrist in (((180, 160), (120, 280), (110, 390)), ((320, 160), (380, 280), (390, 390))):
        cv2.polylines(old, [np.array([shoulder, elbow, wrist], np.int32)], False, 255, 80)  # a loose sleeve
    person[old > 0] = 255
    frame[person > 0] = SKIN
    frame[old > 0] = (30, 30, 34)
    body = Body(body.keypoints, person, (), "pose")
    out = render_short_sleeve(frame, body, old, torso=_torso(body, SHAPE))
    # row 200: the upper arm's middle line is at x = 160; the sleeve reaches 40 px out, the capsule 17
    assert old[200, 125] and old[200, 160]
    flare = out[198:203, 120:128].astype(int)
    assert (flare.min(axis=2) > 200).all(), "beyond the arm's width, the sleeve's place is backdrop"
    arm = out[198:203, 150:165].astype(int)
    assert np.abs(arm - SKIN).sum(axis=2).mean() < 60, "the upper arm itself is skin"


def test_filled_skin_takes_its_texture_from_skin_in_the_tones_own_light(monkeypatch):
    """The fill's colour follows lit skin beside it (a chest in the light), but its fine detail is copied
    from skin in the tone's own light only: a lit chest's highlights and creases, laid over the fill as
    texture, crumpled it like paper."""
    import tryon_cli.render.classical.garment as garment_module

    sources = []
    detail = garment_module.skin_detail
    monkeypatch.setattr(garment_module, "skin_detail",
                        lambda frame, source, region, seed=0: sources.append(source) or detail(frame, source, region, seed))
    frame, out = render_on_lit_chest((170, 115, 88))
    assert abs(out[206:216, 230:270].astype(float).mean() - frame[185:195, 230:270].mean()) < 15  # its colour
    assert sources and not sources[0][150:190, 200:300].any()  # ... not its texture
    assert sources[0][300:380, 105:120].all()  # the arms' is


def test_trousers_the_old_tops_coarse_region_reaches_over_stay_as_photographed():
    """The old top's region is segmented at a reduced size and reaches over the trousers' waistband in
    blocks: the pixels along its lower edge that are nearer the colours just below it (the trousers)
    than the top's are no old top, and are not filled as a staircase of skin."""
    from tryon_cli.garments.planner import _torso

    body = body_with(**ARMS_OUT)
    frame = np.full((*SHAPE, 3), 235, np.uint8)
    frame[body.person > 0] = SKIN
    frame[140:400, 150:351] = (20, 20, 22)  # a black top down to row 400 ...
    frame[400:560, 150:351] = (70, 72, 78)  # ... over dark grey trousers
    frame[400:560:6, 150:351] = (95, 97, 104)  # (with some texture)
    old = np.zeros(SHAPE, np.uint8)
    old[140:400, 150:351] = 255
    for x in range(150, 351, 24):  # its coarse region's blocks reach up to 12 px over the trousers
        old[400 : 400 + (x // 24) % 3 * 6, x : x + 24] = 255
    out = render_short_sleeve(frame, body, old, hem=300, torso=_torso(body, SHAPE))
    trousers = out[405:412, 160:340].astype(int)  # (a few px below the hem: the fill's soft edge)
    assert np.abs(trousers - frame[405:412, 160:340]).sum(axis=2).mean() < 20
    assert np.abs(out[360:390, 200:300].astype(int) - SKIN).sum(axis=2).mean() < 60  # the midriff is skin


def test_a_bare_forearm_beside_a_dresss_skirt_leaves_the_skirt_in_its_capsule_as_photographed():
    """The arms' capsules add an old sleeve wherever the old region stopped, but where the arm is bare
    what else its capsule holds is beside or behind it: a dress's skirt beside a hanging bare forearm was
    filled as skin, and the arm became a wide slab."""
    body = body_with(**ARMS_OUT)
    cream, skin = (242, 238, 228), (205, 150, 120)
    frame = np.full((*SHAPE, 3), (150, 170, 200), np.uint8)  # a blue backdrop
    frame[body.person > 0] = skin
    frame[140:560, 150:351] = cream  # the dress: its bodice ...
    frame[300:560, 90:411] = cream  # ... and its skirt, wider than the arms hang
    for elbow, wrist in (((120, 280), (110, 390)), ((380, 280), (390, 390))):
        cv2.line(frame, elbow, wrist, skin, 24)  # the bare forearms in front of the skirt's sides
    old = np.zeros(SHAPE, np.uint8)
    old[140:300, 150:351] = 255  # the old top's region stops at the dress's waist
    out = render_short_sleeve(frame, body, old, hem=250)
    beside = (slice(330, 380), slice(97, 100))  # inside the capsule, outside the forearm: the skirt
    assert np.abs(out[beside].astype(int) - cream).sum(axis=2).mean() < 20


def test_a_shadowed_neck_tinted_by_the_old_tops_light_is_no_old_collar():
    """Under the chin the neck is in shadow, and a green T-shirt's reflected light takes it out of the skin
    colour range: in the band above a new V neckline it was taken for the old collar and painted over in
    blotches. Skin darker than the person's, with its yellowness, stays."""
    from tryon_cli.garments.planner import _torso

    body, image, top = neck_scene(((180, 150), (320, 150)), ((200, 430), (300, 440)), torso_top=130, top_from=150)
    image[40:100, 225:276] = (190, 160, 140)  # a pale face ...
    image[100:140, 225:276] = (96, 91, 73)  # ... and the neck under the chin, in the green top's light
    keep = np.zeros(SHAPE, np.uint8)
    keep[40:100, 225:276] = 255  # the face above it, kept in front
    mask = np.zeros(SHAPE, np.uint8)
    mask[100:] = 255
    alpha = np.zeros(SHAPE, np.float32)
    for x in range(160, 341):  # a new top with a deep V neckline
        alpha[150 + max(80 - abs(x - 250), 0) : 300, x] = 1.0
    warped = np.full((*SHAPE, 3), (200, 40, 40), np.uint8)
    out = render_garment(image, mask, GarmentConditions(
        garment=warped, garment_mask=np.full(SHAPE, 255, np.uint8), warped=warped, warped_alpha=alpha,
        keep=keep, person=body.person, old_garment=top, torso=_torso(body, SHAPE)))
    neck = (slice(125, 140), slice(235, 266))
    assert np.abs(out[neck].astype(int) - image[neck]).sum(axis=2).mean() < 15


def test_a_flared_sleeve_on_an_arm_thinner_than_its_capsule_is_still_trimmed():
    """A slim bare forearm measures narrower than the arm's capsule: what lies beyond the capsule on the
    arm's outer side is still the sleeve's flare. (Skipped when no wider than the capsule, the trimming came
    and went with a pixel of measured width: 02849's sleeve a square skin shoulder or not.)"""
    from tryon_cli.garments.planner import _torso
    from tryon_cli.render.classical.garment import sleeve_flare

    body = body_with(**ARMS_OUT)
    arms = arms_in_front(body, SHAPE)
    bare = np.zeros(SHAPE, np.uint8)
    for elbow, wrist in (((120, 280), (110, 390)), ((380, 280), (390, 390))):
        cv2.line(bare, elbow, wrist, 255, 20)  # slim bare forearms (the capsule's radius is 17)
    flare = sleeve_flare(arms, bare > 0, _torso(body, SHAPE))
    assert flare[200, 130] and flare[200, 370], "25 px out from the upper arms' middle lines: flare"
    assert not flare[200, 160] and not flare[200, 340], "the upper arms themselves"



def test_a_white_shirt_collar_inside_a_new_neckline_is_filled_as_skin():
    """upper_body_suit.mp4: a white shirt between the jacket's lapels, of the light backdrop's colours, and
    its collar's points rising beside the jaw into the head kept in front. Inside a striped top's wide
    neckline the shirt was kept as photographed: taken for the backdrop seen through a gap, and for hair
    falling from the head (the collar points were the head's only non-skin pixels near the neckline)."""
    rng = np.random.default_rng(5)
    frame = np.clip(232 + rng.normal(0, 1.5, (*SHAPE, 3)), 0, 255).astype(np.uint8)
    body = body_with(**ARMS_OUT)
    person = body.person.copy()
    person[20:141, 200:301] = 255  # the head and neck
    frame[person > 0] = SKIN
    frame[20:50, 200:301] = (15, 12, 12)  # black hair on top of the head
    frame[140:560, 150:351] = (30, 32, 60)  # the navy jacket ...
    shirt = np.zeros(SHAPE, np.uint8)
    cv2.fillPoly(shirt, [np.array([(205, 120), (295, 120), (275, 300), (225, 300)], np.int32)], 255)
    shirt[120:128, 225:275] = 0  # (the neck between the collar's points)
    frame[shirt > 0] = (228, 228, 230)  # ... open on a white shirt, as light as the backdrop
    keep = np.zeros(SHAPE, np.uint8)
    keep[20:128, 200:301] = 255  # the head, down to the jaw: the collar's points reach into it
    old = np.zeros(SHAPE, np.uint8)
    old[140:560, 150:351] = 255
    old[shirt > 0] = 0  # (the jacket's coarse region leaves the shirt out)
    mask = np.zeros(SHAPE, np.uint8)
    mask[128:560, 100:400] = 255
    mask[person == 0] = 0
    body = Body(body.keypoints, person, (), "pose")
    warped = np.full((*SHAPE, 3), (230, 200, 40), np.uint8)
    alpha = np.zeros(SHAPE, np.float32)
    alpha[140:560, 150:351] = 1.0
    cv2.ellipse(alpha, (250, 140), (75, 90), 0, 0, 180, 0.0, -1)  # a wide, deep neckline down to row 230
    out = render_garment(frame, mask, GarmentConditions(
        garment=warped, garment_mask=np.full(SHAPE, 255, np.uint8), warped=warped, warped_alpha=alpha,
        keep=keep, person=person, old_garment=old, arms=arms_in_front(body, SHAPE),
        torso=np.where(old > 0, 255, 0).astype(np.uint8)))
    opening = (shirt > 0) & (alpha == 0) & (keep == 0)
    opening[:150] = False  # (its top rows stay near the neck, whose soft edge blends in)
    assert opening.sum() > 1000
    shirt_left = (np.abs(out[opening].astype(int) - (228, 228, 230)).sum(axis=1) < 30).mean()
    assert shirt_left < 0.05, f"{shirt_left:.0%} of the shirt inside the neckline kept"


def test_a_dress_fills_the_old_sleeves_above_the_hips_as_arms_beyond_their_capsules():
    """full_body_dance in a dress: the arm capsules follow keypoints a little behind a swinging arm, and
    the old sleeve beyond them (off the torso) was inpainted from the backdrop, a ghost of an arm. Above
    the hips what the person's old top leaves is arms, skin, whatever the capsules say."""
    from tryon_cli.garments.planner import _torso

    body = body_with(**ARMS_OUT)
    frame = np.full((*SHAPE, 3), 230, np.uint8)
    frame[body.person > 0] = SKIN
    old = np.zeros(SHAPE, np.uint8)
    old[140:420, 150:351] = 255
    for shoulder, elbow in (((180, 160), (120, 280)), ((320, 160), (380, 280))):
        cv2.line(old, shoulder, elbow, 255, 44)  # short sleeves: the forearms bare
    old &= body.person
    frame[old > 0] = (30, 30, 34)
    torso = _torso(body, SHAPE)
    alpha = np.zeros(SHAPE, np.float32)
    alpha[150:580, 160:341] = 1.0  # a sleeveless dress
    warped = np.full((*SHAPE, 3), (230, 120, 40), np.uint8)
    mask = cv2.dilate(old, np.ones((9, 9), np.uint8)) | np.where(alpha > 0, 255, 0).astype(np.uint8)
    out = render_garment(frame, mask, GarmentConditions(
        garment=warped, garment_mask=np.full(SHAPE, 255, np.uint8), warped=warped, warped_alpha=alpha,
        keep=np.zeros(SHAPE, np.uint8), person=body.person, old_garment=old, arms=None, torso=torso,
        category="dress"))
    sleeves = (old > 0) & (torso == 0) & (alpha == 0)
    sleeves = cv2.erode(sleeves.astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
    assert sleeves.sum() > 500
    colour = out[sleeves].astype(float).mean(axis=0)
    assert np.abs(colour - SKIN).sum() < np.abs(colour - 230).sum(), colour


def test_a_long_sleeves_shaded_edge_gives_no_colour_to_the_filled_arms():
    """The shaded edge of a mustard long sleeve is in the skin range (a dark yellowish brown) and, beside the
    sleeve's coarse region, was read as the arms' bare skin: the filled arms came out that flat brown beside
    a pale face. The fill takes the person's own skin seen outside the mask (the face), its lit half: dark
    hair is in the skin range too."""
    body = body_with(**ARMS_OUT)
    person = body.person.copy()
    person[20:141, 200:301] = 255  # the head
    pale, hair = (225, 185, 165), (120, 88, 74)
    mustard, edge = (190, 140, 30), (110, 86, 68)
    frame = np.full((*SHAPE, 3), 235, np.uint8)
    frame[person > 0] = pale
    frame[20:90, 200:301] = hair  # (more of the head than its face)
    frame[140:420, 150:351] = mustard
    frame[420:, 150:351] = (30, 30, 36)  # black trousers
    old = np.zeros(SHAPE, np.uint8)
    old[140:420, 150:351] = 255
    for shoulder, elbow, wrist in (((180, 160), (120, 280), (110, 390)), ((320, 160), (380, 280), (390, 390))):
        points = np.array([shoulder, elbow, wrist], np.int32)
        cv2.polylines(person, [points], False, 255, 48)  # (loose sleeves)
        cv2.polylines(frame, [points], False, edge, 48)
        cv2.polylines(frame, [points], False, mustard, 26)
        cv2.polylines(old, [points], False, 255, 26)  # (the coarse region misses the edge)
    mask = np.full(SHAPE, 255, np.uint8)
    mask[:140] = 0
    garment = prepare_garment(short_sleeve(), "upper")
    arms = arms_in_front(Body(body.keypoints, person, (), "pose"), SHAPE)
    warped, alpha, _ = warp_garment(garment, body, whole(), SHAPE, "upper", arms)
    out = render_garment(frame, mask, GarmentConditions(
        garment=garment.image, garment_mask=garment.mask, warped=warped, warped_alpha=alpha * 0,
        keep=np.zeros(SHAPE, np.uint8), person=person, old_garment=old, arms=arms))
    arm = out[215:226, 145:156].reshape(-1, 3).astype(float).mean(axis=0)  # the upper arm's middle
    assert np.abs(arm - pale).sum() < np.abs(arm - edge).sum()
    assert arm.mean() > 0.85 * np.mean(pale)


def test_a_long_sleeve_on_a_forearm_swung_out_below_the_hem_goes_with_the_top():
    """On a video the arm's keypoints trail a fast arm: the capsule missed the forearm swung out beside the
    hips, and the long sleeve there, below the top's hem (where a skirt of the top's colour is left alone),
    stayed as a mustard block on the new short-sleeved arm. Beside the hips, not below the torso, it is the
    top's sleeve and is filled."""
    from tryon_cli.garments.planner import _torso

    body = body_with(**ARMS_OUT)
    person = body.person.copy()
    person[20:141, 200:301] = 255  # the head
    pale, mustard = (225, 185, 165), (190, 140, 30)
    swung = np.array([(180, 160), (120, 280), (70, 470)], np.int32)  # the left arm as filmed
    cv2.polylines(person, [swung], False, 255, 40)
    frame = np.full((*SHAPE, 3), 235, np.uint8)
    frame[person > 0] = pale
    frame[140:420, 150:351] = mustard
    frame[420:, 150:351] = (30, 30, 36)  # black trousers
    for points in (swung, np.array([(320, 160), (380, 280), (390, 390)], np.int32)):
        cv2.polylines(frame, [points], False, mustard, 40)
    cv2.circle(frame, (66, 490), 16, pale, -1)  # the hand
    old = np.zeros(SHAPE, np.uint8)
    old[140:420, 150:351] = 255  # (the coarse region holds the torso only)
    mask = np.full(SHAPE, 255, np.uint8)
    mask[:140] = 0
    full = Body(body.keypoints, person, (), "pose")
    garment = prepare_garment(short_sleeve(), "upper")
    arms = arms_in_front(full, SHAPE)
    warped, alpha, _ = warp_garment(garment, full, whole(), SHAPE, "upper", arms)
    out = render_garment(frame, mask, GarmentConditions(
        garment=garment.image, garment_mask=garment.mask, warped=warped, warped_alpha=alpha * 0,
        keep=np.zeros(SHAPE, np.uint8), person=person, old_garment=old, arms=arms, torso=_torso(full, SHAPE)))
    forearm = out[440:461, 70:86].reshape(-1, 3).astype(float).mean(axis=0)  # below the hem, past the wrist
    assert np.abs(forearm - pale).sum() < np.abs(forearm - mustard).sum()
    assert np.abs(out[500:560, 200:300].astype(int) - frame[500:560, 200:300]).max() == 0  # the trousers stay


def test_filled_skin_is_lit_from_the_side_the_persons_own_skin_is():
    """A face lit from the image's right (brighter towards its right edge): the torso filled as skin where a
    long top was is brighter on its right side than on its left, not evenly rounded as if lit from the front
    (the filled arms and midriff were flat paint beside a side-lit face)."""
    frame, body, old = dark_top_scene()
    face = np.zeros(SHAPE, np.uint8)
    cv2.circle(face, (250, 80), 45, 255, -1)
    x = np.arange(SHAPE[1], dtype=np.float32)[None, :].repeat(SHAPE[0], 0)
    lit = np.clip(1.0 + 0.3 * (x - 250) / 45, 0.7, 1.3)[..., None] * np.array(SKIN, np.float32)
    frame[face > 0] = np.clip(lit[face > 0], 0, 255).astype(np.uint8)
    person = body.person | face
    warped = np.full((*SHAPE, 3), (200, 40, 40), np.uint8)
    out = render_garment(frame, np.where(face > 0, 0, 255).astype(np.uint8), GarmentConditions(
        garment=warped, garment_mask=np.full(SHAPE, 255, np.uint8), warped=warped,
        warped_alpha=np.zeros(SHAPE, np.float32), keep=face, person=person, old_garment=old))
    grey = out.astype(np.float32).mean(axis=2)
    left, right = grey[360:400, 165:185].mean(), grey[360:400, 315:335].mean()
    assert right > 1.05 * left
