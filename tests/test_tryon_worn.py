"""Try-on that looks worn: parts follow the limbs, arms stay in front, the old garment's folds carry,
headless photos keep their pose. Synthetic bodies, so no model runs."""

from __future__ import annotations

import cv2
import numpy as np

from tryon_cli.analysis import body as bp
from tryon_cli.analysis.body import Body, _headless_torso, is_skin
from tryon_cli.garments.photo import prepare_garment
from tryon_cli.garments.placement import arms_in_front, warp_garment
from tryon_cli.masks.garment import GarmentMask
from tryon_cli.render.classical.garment import render_garment
from tryon_cli.render.contract import GarmentConditions

SHAPE = (600, 500)


def flat_top(sleeve: list[tuple[int, int]], colour=(40, 90, 200)) -> np.ndarray:
    """A flat top on white: a torso block and two long sleeves, each the polygon `sleeve` gives as
    (outward offset from the torso's edge, row) pairs, mirrored to both sides."""
    image = np.full((500, 400, 3), 255, np.uint8)
    cv2.fillPoly(image, [np.array([[130, 40], [270, 40], [270, 460], [130, 460]], np.int32)], colour)
    for sign in (-1, 1):
        x = 200 + sign * 70
        cv2.fillPoly(image, [np.array([[x + sign * dx, y] for dx, y in sleeve], np.int32)], colour)
    return image


def long_sleeve(colour=(40, 90, 200)) -> np.ndarray:
    """A flat long-sleeved top on white: sleeves hang down beside the torso, apart from it."""
    image = flat_top([(0, 40), (45, 60), (60, 400), (25, 400), (12, 120)], colour)
    cv2.ellipse(image, (200, 40), (30, 16), 0, 0, 180, (255, 255, 255), -1)
    return image


def short_sleeve(colour=(40, 90, 200)) -> np.ndarray:
    image = np.full((400, 400, 3), 255, np.uint8)
    cv2.fillPoly(image, [np.array([[120, 60], [280, 60], [370, 130], [330, 190], [290, 160], [290, 360], [110, 360],
                                   [110, 160], [70, 190], [30, 130]], np.int32)], colour)
    return image


def body_with(left_elbow, left_wrist, right_elbow=(330, 300), right_wrist=(335, 400)) -> Body:
    """A standing body (image-left arm configurable) over a person mask covering its silhouette."""
    keypoints = np.zeros((33, 3), np.float32)
    points = {bp.NOSE: (250, 60), bp.LEFT_SHOULDER: (180, 160), bp.RIGHT_SHOULDER: (320, 160),
              bp.LEFT_ELBOW: left_elbow, bp.RIGHT_ELBOW: right_elbow, bp.LEFT_WRIST: left_wrist,
              bp.RIGHT_WRIST: right_wrist, bp.LEFT_HIP: (200, 380), bp.RIGHT_HIP: (300, 380)}
    for index, (x, y) in points.items():
        keypoints[index] = (x, y, 1.0)
    person = np.zeros(SHAPE, np.uint8)
    cv2.rectangle(person, (150, 140), (350, 560), 255, -1)
    for a, b, c in bp.ARMS:
        pts = np.array([points[a], points[b], points[c]], np.int32)
        cv2.polylines(person, [pts], False, 255, 40)
    return Body(keypoints, person, (), "pose")


def whole(shape=SHAPE) -> GarmentMask:
    return GarmentMask(np.full(shape, 255, np.uint8), (0, 0, shape[1], shape[0]), "pose")


def worn_red(frame: np.ndarray, mask: np.ndarray, alpha: np.ndarray, body: Body, old: np.ndarray,
             torso: np.ndarray | None) -> np.ndarray:
    """`frame` wearing a plain red garment already warped to `alpha`, over the `old` garment's region."""
    warped = np.full((*SHAPE, 3), (200, 40, 40), np.uint8)
    return render_garment(frame, mask, GarmentConditions(
        garment=warped, garment_mask=np.full(SHAPE, 255, np.uint8), warped=warped, warped_alpha=alpha,
        keep=np.zeros(SHAPE, np.uint8), person=body.person, old_garment=old, torso=torso))


def test_sleeve_follows_a_bent_arm():
    garment = prepare_garment(long_sleeve(), "upper")
    bent = body_with(left_elbow=(160, 280), left_wrist=(260, 300))  # forearm across the belly
    _, alpha, _ = warp_garment(garment, bent, whole(), SHAPE, "upper")
    forearm_middle = (290, 210)  # (row, col) halfway along elbow -> wrist
    straight_on = (380, 150)  # where the forearm would be had the sleeve gone on straight
    assert alpha[forearm_middle] > 0.9
    assert alpha[straight_on] < 0.1


def test_forearm_in_front_of_the_torso_stays():
    """A forearm across the torso keeps its own (skin) pixels over a short-sleeved top's torso."""
    crossed = body_with(left_elbow=(160, 280), left_wrist=(300, 300))
    frame = np.full((*SHAPE, 3), 90, np.uint8)
    skin = (205, 150, 120)
    cv2.line(frame, (160, 280), (300, 300), skin, 30)  # the bare forearm
    old = np.zeros(SHAPE, np.uint8)
    cv2.rectangle(old, (170, 150), (330, 400), 255, -1)
    old[(frame == skin).all(axis=2)] = 0
    arms = arms_in_front(crossed, SHAPE)
    garment = prepare_garment(short_sleeve(), "upper")
    warped, alpha, keep = warp_garment(garment, crossed, whole(), SHAPE, "upper", arms)
    assert alpha[290, 230] < 0.05 and alpha[220, 250] > 0.9  # forearm uncovered, chest covered
    mask = np.full(SHAPE, 255, np.uint8)
    out = render_garment(frame, mask, GarmentConditions(
        garment=garment.image, garment_mask=garment.mask, warped=warped, warped_alpha=alpha, keep=keep,
        person=crossed.person, old_garment=old, arms=arms))
    assert np.abs(out[290, 230].astype(int) - skin).max() <= 3


def test_shading_follows_the_old_garments_folds():
    body = body_with(left_elbow=(170, 280), left_wrist=(165, 380))
    garment = prepare_garment(short_sleeve(colour=(200, 60, 60)), "upper")
    warped, alpha, keep = warp_garment(garment, body, whole(), SHAPE, "upper")
    frame = np.full((*SHAPE, 3), 150, np.uint8)
    frame[250:280, 150:350] = 70  # a deep fold across the old garment
    old = np.zeros(SHAPE, np.uint8)
    old[150:400, 170:330] = 255
    mask = np.full(SHAPE, 255, np.uint8)
    out = render_garment(frame, mask, GarmentConditions(
        garment=garment.image, garment_mask=garment.mask, warped=warped, warped_alpha=alpha, keep=keep,
        person=body.person, old_garment=old))
    lightness = cv2.cvtColor(out, cv2.COLOR_RGB2LAB)[..., 0].astype(float)
    assert alpha[265, 250] > 0.9 and alpha[330, 250] > 0.9
    assert lightness[265, 250] < lightness[330, 250] - 15  # darker in the fold than on the flat


def test_headless_photo_keeps_its_pose_but_a_slid_skeleton_does_not():
    person = np.zeros((1000, 600), np.uint8)
    person[0:950, 150:450] = 255
    keypoints = np.zeros((33, 3), np.float32)
    for index, (x, y) in {bp.NOSE: (300, -80), bp.LEFT_SHOULDER: (200, 120), bp.RIGHT_SHOULDER: (400, 120),
                          bp.LEFT_HIP: (230, 450), bp.RIGHT_HIP: (370, 450)}.items():
        keypoints[index] = (x, y, 0.99)
    assert _headless_torso(keypoints, person)
    slid = keypoints.copy()
    slid[bp.NOSE, 1] = 300  # a head put on the chest
    assert not _headless_torso(slid, person)


def trousers(colour=(30, 40, 120)) -> np.ndarray:
    """Flat trousers on white: a waistband and two straight legs with a gap between them."""
    image = np.full((600, 400, 3), 255, np.uint8)
    cv2.rectangle(image, (110, 40), (290, 200), colour, -1)
    cv2.rectangle(image, (110, 200), (195, 560), colour, -1)
    cv2.rectangle(image, (205, 200), (290, 560), colour, -1)
    return image


def test_each_leg_follows_its_own_knee():
    keypoints = np.zeros((33, 3), np.float32)
    points = {bp.LEFT_SHOULDER: (180, 60), bp.RIGHT_SHOULDER: (320, 60), bp.LEFT_HIP: (210, 250),
              bp.RIGHT_HIP: (290, 250), bp.LEFT_KNEE: (140, 380), bp.LEFT_ANKLE: (100, 500),  # a leg out sideways
              bp.RIGHT_KNEE: (295, 400), bp.RIGHT_ANKLE: (300, 550)}
    for index, (x, y) in points.items():
        keypoints[index] = (x, y, 1.0)
    person = np.full(SHAPE, 255, np.uint8)
    body = Body(keypoints, person, (), "pose")
    garment = prepare_garment(trousers(), "lower")
    _, alpha, _ = warp_garment(garment, body, whole(), SHAPE, "lower")
    assert alpha[440, 120] > 0.9  # (row, col) on the shin of the leg out sideways
    assert alpha[480, 300] > 0.9  # on the straight leg's shin
    assert alpha[480, 210] < 0.1  # between the legs: neither leg is there


def test_bare_forearms_stay_under_a_short_sleeved_top_with_a_bitten_segmentation():
    """A segmentation that bit into one side of the top (a print near its edge taken for background)
    neither narrows the torso band nor blows the sleeves up over the arms: the bare forearms outside
    the new short sleeves come back as photographed, and the torso is as wide as the intact top's."""
    body = body_with(left_elbow=(120, 280), left_wrist=(110, 390), right_elbow=(380, 280), right_wrist=(390, 390))
    image = short_sleeve()
    intact = np.where((image != 255).any(axis=2), 255, 0).astype(np.uint8)
    bitten = intact.copy()
    bitten[200:360, 225:295] = 0
    skin = (205, 150, 120)
    frame = np.full((*SHAPE, 3), 200, np.uint8)
    frame[140:420, 150:350] = 20  # the old top ...
    old = np.zeros(SHAPE, np.uint8)
    old[140:420, 150:350] = 255
    for shoulder, elbow, wrist in (((180, 160), (120, 280), (110, 390)), ((320, 160), (380, 280), (390, 390))):
        cv2.line(frame, elbow, wrist, skin, 30)  # ... bare forearms ...
        cv2.line(frame, shoulder, elbow, (20, 20, 20), 34)  # ... under its sleeves
        cv2.line(old, shoulder, elbow, 255, 34)
    arms = arms_in_front(body, SHAPE)
    mask = np.full(SHAPE, 255, np.uint8)
    widths = []
    for garment_mask in (intact, bitten):
        garment = prepare_garment(image, "upper", garment_mask)
        warped, alpha, keep = warp_garment(garment, body, whole(), SHAPE, "upper", arms)
        widths.append(int((alpha[330] > 0.5).sum()))
        out = render_garment(frame, mask, GarmentConditions(
            garment=garment.image, garment_mask=garment.mask, warped=warped, warped_alpha=alpha, keep=keep,
            person=body.person, old_garment=old, arms=arms))
        for x, y in ((115, 340), (385, 340), (112, 375), (388, 375)):  # forearm middles and wrists
            assert alpha[y, x] < 0.05
            assert tuple(out[y, x]) == skin
    assert abs(widths[1] - widths[0]) <= 0.1 * widths[0]


def slim_sleeve(colour=(40, 90, 200)) -> np.ndarray:
    """A flat top whose long sleeves are much narrower than its torso's edge-to-shoulder drop."""
    return flat_top([(0, 40), (22, 50), (40, 400), (20, 400), (2, 60)], colour)


def test_a_sleeve_narrower_than_the_arm_is_widened_to_cover_its_outer_side():
    """The old long sleeve on a thick arm is covered by the new one: no strip of it is left at the arm's
    outer side (where it would be filled as skin between the new sleeve and the background)."""
    body = body_with(left_elbow=(120, 280), left_wrist=(110, 390), right_elbow=(380, 280), right_wrist=(390, 390))
    cv2.line(body.person, (180, 160), (120, 280), 255, 60)  # a thick image-left upper arm
    garment = prepare_garment(slim_sleeve(), "upper")
    _, alpha, _ = warp_garment(garment, body, whole(), SHAPE, "upper")
    edge = int(np.argmax(body.person[220] > 0))  # the arm's outer silhouette on row 220
    assert alpha[220, edge + 3] > 0.5


def test_filled_skin_is_shaded_towards_the_silhouette_not_one_flat_block():
    body = body_with(left_elbow=(120, 280), left_wrist=(110, 390), right_elbow=(380, 280), right_wrist=(390, 390))
    skin = (205, 150, 120)
    frame = np.full((*SHAPE, 3), 200, np.uint8)
    frame[140:420, 150:350] = 20
    old = np.zeros(SHAPE, np.uint8)
    old[140:420, 150:350] = 255
    for shoulder, elbow, wrist in (((180, 160), (120, 280), (110, 390)), ((320, 160), (380, 280), (390, 390))):
        cv2.line(frame, elbow, wrist, skin, 30)
        cv2.line(frame, shoulder, elbow, (20, 20, 20), 40)  # an old sleeve, to be filled as skin
        cv2.line(old, shoulder, elbow, 255, 40)
    garment = prepare_garment(short_sleeve(), "upper")
    arms = arms_in_front(body, SHAPE)
    warped, alpha, keep = warp_garment(garment, body, whole(), SHAPE, "upper", arms)
    alpha = alpha * 0  # nothing of the new garment: all of the old one is filled
    out = render_garment(frame, np.full(SHAPE, 255, np.uint8), GarmentConditions(
        garment=garment.image, garment_mask=garment.mask, warped=warped, warped_alpha=alpha, keep=keep,
        person=body.person, old_garment=old, arms=arms))
    edge = int(np.argmax(body.person[220] > 0))  # the upper arm's outer silhouette on row 220
    lightness = out[220].astype(int).sum(axis=1)
    assert lightness[edge] > 3 * 120  # filled skin right to the silhouette: no dark rim of the old sleeve ...
    assert lightness[edge + 14] > lightness[edge] + 30  # ... and lighter on the arm than at its silhouette


def test_a_lit_pink_sleeve_in_the_skin_range_is_not_taken_for_bare_skin():
    """An old sleeve whose colour falls in the generic skin range (a lit dusty pink) but far from the
    person's own skin (seen outside the mask) is filled as skin, not kept as photographed."""
    from tryon_cli.analysis.body import is_skin

    body = body_with(left_elbow=(120, 280), left_wrist=(110, 390), right_elbow=(380, 280), right_wrist=(390, 390))
    skin, pink = (205, 150, 120), (170, 90, 100)
    assert is_skin(np.array([[pink]], np.uint8))[0, 0]  # the generic range alone would keep it
    frame = np.full((*SHAPE, 3), 200, np.uint8)
    frame[140:330, 150:350] = pink
    old = np.zeros(SHAPE, np.uint8)
    old[140:330, 150:350] = 255
    for shoulder, elbow, wrist in (((180, 160), (120, 280), (110, 390)), ((320, 160), (380, 280), (390, 390))):
        cv2.line(frame, elbow, wrist, skin, 30)
        cv2.line(frame, shoulder, elbow, pink, 40)
        cv2.line(old, shoulder, elbow, 255, 40)
    mask = np.full(SHAPE, 255, np.uint8)
    mask[340:] = 0  # the wrists and hands lie outside the mask: the person's own skin
    garment = prepare_garment(short_sleeve(), "upper")
    arms = arms_in_front(body, SHAPE)
    warped, alpha, keep = warp_garment(garment, body, whole(), SHAPE, "upper", arms)
    out = render_garment(frame, mask, GarmentConditions(
        garment=garment.image, garment_mask=garment.mask, warped=warped, warped_alpha=alpha * 0, keep=keep,
        person=body.person, old_garment=old, arms=arms))
    upper_arm = out[230, 150].astype(int)  # (row, col) the middle of the image-left old sleeve
    assert np.abs(upper_arm - skin).sum() < np.abs(upper_arm - pink).sum()


def test_the_strip_beside_a_narrower_new_garment_is_filled_from_the_backdrop_not_the_old_garment():
    """Wide old trousers under narrower new ones: the strip the new ones leave off the body is filled from
    the backdrop around the old garment, with none of the old garment's colour bled back in from under
    the new one (which showed as a tinted band along the new garment's edge)."""
    frame = np.full((*SHAPE, 3), 200, np.uint8)
    old = np.zeros(SHAPE, np.uint8)
    old[200:560, 140:360] = 255
    frame[old > 0] = (30, 30, 150)
    warped = np.zeros((*SHAPE, 3), np.uint8)
    warped[...] = (40, 160, 60)
    alpha = np.zeros(SHAPE, np.float32)
    alpha[200:560, 200:300] = 1.0
    mask = np.zeros(SHAPE, np.uint8)
    mask[180:580, 120:380] = 255
    out = render_garment(frame, mask, GarmentConditions(
        garment=warped, garment_mask=np.full(SHAPE, 255, np.uint8), warped=warped, warped_alpha=alpha,
        keep=np.zeros(SHAPE, np.uint8), category="lower", person=None, old_garment=old))
    strip = out[260:500, 150:192].reshape(-1, 3).astype(int)  # beside the new garment, off the body
    assert np.abs(strip - 200).max(axis=1).mean() < 20


def test_new_trousers_reach_up_to_a_high_old_waistband():
    """High-waisted old trousers (their waistband well above the hip joints): the new waistband is raised
    to theirs, so no band of the old trousers is left above it; the legs stay on the hip joints."""
    keypoints = np.zeros((33, 3), np.float32)
    points = {bp.LEFT_SHOULDER: (180, 60), bp.RIGHT_SHOULDER: (320, 60), bp.LEFT_HIP: (210, 250),
              bp.RIGHT_HIP: (290, 250), bp.LEFT_KNEE: (212, 400), bp.LEFT_ANKLE: (214, 550),
              bp.RIGHT_KNEE: (288, 400), bp.RIGHT_ANKLE: (286, 550)}
    for index, (x, y) in points.items():
        keypoints[index] = (x, y, 1.0)
    body = Body(keypoints, np.full(SHAPE, 255, np.uint8), (), "pose")
    garment = prepare_garment(trousers(), "lower")
    low = GarmentMask(np.full(SHAPE, 255, np.uint8), (0, 0, SHAPE[1], SHAPE[0]), "pose")
    _, alpha_low, _ = warp_garment(garment, body, low, SHAPE, "lower")
    top_low = int(np.nonzero(alpha_low[:, 250] > 0.5)[0].min())
    old = np.zeros(SHAPE, np.uint8)
    old[top_low - 40 : 560, 180:320] = 255  # the old waistband 40 px above the new one's usual place
    high = GarmentMask(low.mask, low.box, "pose", old)
    _, alpha_high, _ = warp_garment(garment, body, high, SHAPE, "lower")
    assert abs(int(np.nonzero(alpha_high[:, 250] > 0.5)[0].min()) - (top_low - 40)) <= 4
    assert np.abs(alpha_high[400:] - alpha_low[400:]).max() < 0.05  # the legs (below the crotch) unmoved


def test_a_tops_shoulders_do_not_float_beside_the_neck():
    """Around the shoulders the garment stays on the person: nothing of it lies on the backdrop above the
    shoulder line (a flat photo's seam and collar placed above the joints), while the torso is covered."""
    body = body_with(left_elbow=(120, 280), left_wrist=(110, 390), right_elbow=(380, 280), right_wrist=(390, 390))
    garment = prepare_garment(long_sleeve(), "upper")
    _, alpha, _ = warp_garment(garment, body, whole(), SHAPE, "upper")
    backdrop = cv2.dilate(body.person, np.ones((13, 13), np.uint8)) == 0  # (a few px of margin allowed)
    backdrop[170:] = False  # above the shoulder line (row 160) and a little below
    assert not (alpha[backdrop] > 0.01).any()
    assert alpha[250, 250] > 0.9


def wide_sleeve(colour=(40, 90, 200)) -> np.ndarray:
    """A flat top with stiff, very wide sleeves (far wider than a thin arm)."""
    return flat_top([(0, 40), (60, 60), (110, 400), (20, 400), (2, 120)], colour)


def test_a_wide_flat_sleeve_is_drawn_in_towards_a_thin_arm():
    """A sleeve follows the arm's width: on a thin arm a stiff flat sleeve is narrowed (not a block
    standing off the arm), and it still covers the arm."""
    body = body_with(left_elbow=(120, 280), left_wrist=(110, 390), right_elbow=(380, 280), right_wrist=(390, 390))
    body.person[:] = 0
    cv2.rectangle(body.person, (150, 140), (350, 560), 255, -1)
    for chain in (((180, 160), (120, 280), (110, 390)), ((320, 160), (380, 280), (390, 390))):
        cv2.polylines(body.person, [np.array(chain, np.int32)], False, 255, 24)  # thin arms
    garment = prepare_garment(wide_sleeve(), "upper")
    _, alpha, _ = warp_garment(garment, body, whole(), SHAPE, "upper")
    row = 330  # the image-left forearm's middle; its bone at about column 116, the arm 12 px each side
    outer = int(np.nonzero(alpha[row, :116] > 0.5)[0].min())
    assert 116 - outer < 42  # flat (0.9 of the photo's width) it stood 50 px off the bone
    arm = np.nonzero(body.person[row, :150] > 0)[0]
    assert (alpha[row, arm] > 0.5).all()


def test_the_shoulders_between_collar_and_sleeve_belong_to_the_torso():
    """The photo's shoulder slope beside the torso band (inside the sleeve's seam) is laid with the torso,
    not only with the sleeve: whichever way the arm turns the sleeve, the shoulder stays covered."""
    from tryon_cli.garments.placement import _upper_parts

    body = body_with(left_elbow=(120, 280), left_wrist=(110, 390), right_elbow=(380, 280), right_wrist=(390, 390))
    torso = _upper_parts(prepare_garment(short_sleeve(), "upper"), body, whole(), SHAPE)[0].alpha
    for row in (160, 180):  # the shoulder line and just below it, at both shoulders' outer part
        assert torso[row, 175] > 0.5 and torso[row, 325] > 0.5


def test_the_old_collar_above_a_lower_new_neckline_is_filled_as_skin():
    """A thin old collar band the old garment's region missed, just above the new garment's neckline,
    is filled as skin (not left as a dark line at the neck)."""
    body = body_with(left_elbow=(120, 280), left_wrist=(110, 390), right_elbow=(380, 280), right_wrist=(390, 390))
    skin, collar = (205, 150, 120), (25, 25, 25)
    frame = np.full((*SHAPE, 3), 200, np.uint8)
    frame[body.person > 0] = skin
    frame[170:182, 200:300] = collar  # the old collar, outside the old garment's region
    old = np.zeros(SHAPE, np.uint8)
    old[182:420, 150:350] = 255
    frame[old > 0] = (60, 90, 160)
    alpha = np.zeros(SHAPE, np.float32)
    alpha[190:420, 150:350] = 1.0  # the new garment's neckline at row 190
    mask = np.zeros(SHAPE, np.uint8)
    mask[160:450, 100:400] = 255
    mask[300:] = 0  # (the hands, below, stay outside the mask: the person's own skin)
    mask[300:450, 150:350] = 255
    torso = np.zeros(SHAPE, np.uint8)
    torso[160:380, 170:330] = 255
    out = worn_red(frame, mask, alpha, body, old, torso)
    pixel = out[176, 250].astype(int)  # (shaded like the old garment there: darker, but skin)
    assert np.abs(pixel - skin).sum() < 0.4 * np.abs(pixel - collar).sum()


def test_trouser_legs_close_where_the_legs_touch_and_stay_apart_where_they_do_not():
    keypoints = np.zeros((33, 3), np.float32)
    points = {bp.LEFT_SHOULDER: (180, 60), bp.RIGHT_SHOULDER: (320, 60), bp.LEFT_HIP: (200, 250),
              bp.RIGHT_HIP: (300, 250), bp.LEFT_KNEE: (200, 400), bp.LEFT_ANKLE: (185, 550),
              bp.RIGHT_KNEE: (300, 400), bp.RIGHT_ANKLE: (315, 550)}  # shins a little apart
    for index, (x, y) in points.items():
        keypoints[index] = (x, y, 1.0)
    garment = prepare_garment(trousers(), "lower")
    together = np.zeros(SHAPE, np.uint8)
    together[40:580, 160:340] = 255  # legs that touch all the way down
    _, alpha, _ = warp_garment(garment, Body(keypoints, together, (), "pose"), whole(), SHAPE, "lower")
    assert (alpha[450, 235:265] > 0.5).all()  # no strip between the new legs
    apart = together.copy()
    apart[330:, 236:264] = 0  # the backdrop shows between the shins
    _, alpha, _ = warp_garment(garment, Body(keypoints, apart, (), "pose"), whole(), SHAPE, "lower")
    assert (alpha[450, 245:255] < 0.5).all()


def test_the_old_sleeves_edge_that_its_region_missed_is_filled_too():
    """The old garment's region stops a few pixels short of the sleeve's edge on the arm's silhouette:
    that strip is filled with the rest, not left as a dark line along the arm."""
    body = body_with(left_elbow=(150, 280), left_wrist=(150, 390), right_elbow=(350, 280), right_wrist=(350, 390))
    skin, sleeve = (205, 150, 120), (25, 25, 25)
    frame = np.full((*SHAPE, 3), 200, np.uint8)
    frame[body.person > 0] = sleeve
    frame[400:] = 200
    frame[(body.person > 0) & (np.arange(SHAPE[0])[:, None] >= 400)] = skin  # hands and legs: bare
    old = np.where(body.person > 0, 255, 0).astype(np.uint8)
    old[400:] = 0
    old = cv2.erode(old, np.ones((9, 9), np.uint8))  # the region misses a 4 px edge all round
    alpha = np.zeros(SHAPE, np.float32)
    alpha[170:380, 175:325] = 1.0  # a sleeveless new top on the torso
    mask = np.zeros(SHAPE, np.uint8)
    mask[100:400] = 255
    torso = np.zeros(SHAPE, np.uint8)
    torso[160:380, 170:330] = 255
    out = worn_red(frame, mask, alpha, body, old, torso)
    edge = int(np.argmax(body.person[330] > 0))  # the image-left forearm's outer silhouette on row 330
    assert out[330, edge + 1].astype(int).sum() > 3 * 80


def flared_dress(colour=(230, 90, 30)) -> np.ndarray:
    """A sleeveless dress on white: a narrow bodice, then a skirt flaring far beyond it."""
    image = np.full((600, 400, 3), 255, np.uint8)
    cv2.fillPoly(image, [np.array([[150, 40], [250, 40], [255, 220], [340, 560], [60, 560], [145, 220]], np.int32)],
                 colour)
    return image


def test_a_dress_skirts_flare_is_not_laid_along_the_arms_as_a_sleeve():
    body = body_with(left_elbow=(140, 280), left_wrist=(130, 390), right_elbow=(360, 280), right_wrist=(370, 390))
    garment = prepare_garment(flared_dress(), "dress")
    _, alpha, _ = warp_garment(garment, body, whole(), SHAPE, "dress")
    for row, col in ((380, 140), (380, 362)):  # (row, col) on each forearm, near the wrist
        assert alpha[row, col] < 0.1
    assert alpha[300, 250] > 0.9
    skirt = np.nonzero(alpha[520] > 0.5)[0]  # ... and the flare stays with the skirt: wider below than the bodice
    assert skirt.max() - skirt.min() > 1.3 * np.ptp(np.nonzero(alpha[250] > 0.5)[0])


def presenter(shape=(400, 500)) -> tuple[Body, np.ndarray, np.ndarray]:
    """An upper-body shot cut at mid-chest (a presenter): shoulders seen, elbows and wrists out of the frame
    (the pose extrapolates them, unseen, below its bottom edge), a dark jacket from the neck down to the
    frame's bottom and sides. Returns the body, the frame and the jacket's region."""
    keypoints = np.zeros((33, 3), np.float32)
    points = {bp.NOSE: (250, 90, 1.0), bp.LEFT_SHOULDER: (150, 250, 1.0), bp.RIGHT_SHOULDER: (350, 250, 1.0),
              bp.LEFT_ELBOW: (125, 470, 0.1), bp.RIGHT_ELBOW: (375, 470, 0.1),
              bp.LEFT_WRIST: (135, 640, 0.05), bp.RIGHT_WRIST: (365, 640, 0.05)}
    for index, point in points.items():
        keypoints[index] = point
    person = np.zeros(shape, np.uint8)
    jacket = np.zeros(shape, np.uint8)
    cv2.fillPoly(jacket, [np.array([[215, 190], [285, 190], [400, 215], [470, 400], [30, 400], [100, 215]], np.int32)], 255)
    person |= jacket
    cv2.rectangle(person, (220, 120), (280, 200), 255, -1)  # the neck
    cv2.ellipse(person, (250, 90), (45, 60), 0, 0, 360, 255, -1)  # the head
    frame = np.full((*shape, 3), 200, np.uint8)
    frame[person > 0] = (205, 150, 120)  # skin
    frame[jacket > 0] = (30, 35, 60)  # a navy jacket
    return Body(keypoints, person, (), "pose"), frame, jacket


def worn_by_presenter(flat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The flat top placed and rendered in mask mode over the presenter's jacket: the frame and the warped
    garment's alpha."""
    body, frame, jacket = presenter()
    shape = frame.shape[:2]
    garment = prepare_garment(flat, "upper")
    region = GarmentMask(jacket.copy(), (0, 0, shape[1], shape[0]), "pose", garment=jacket.copy())
    arms = arms_in_front(body, shape)
    warped, alpha, keep = warp_garment(garment, body, region, shape, "upper", arms)
    out = render_garment(frame, jacket, GarmentConditions(
        garment=garment.image, garment_mask=garment.mask, warped=warped, warped_alpha=alpha, keep=keep,
        category="upper", mode="mask", person=body.person, old_garment=jacket, arms=arms))
    return out, alpha


def test_a_presenters_shoulders_and_arms_cut_by_the_frame_are_covered_not_filled_with_skin():
    """Arms out of the frame: the long sleeves follow the pose's extrapolated arms down to the frame's
    bottom, so the jacket's shoulders and upper arms are covered by the new top, not left to the skin fill
    (the garment hung flat in the middle and the shoulders became two skin-coloured blobs)."""
    out, _ = worn_by_presenter(long_sleeve())
    jacket = presenter()[2]
    blue = np.array((40, 90, 200))
    # the upper arms beside the chest near the frame's bottom, and the outer shoulders
    for row, col in ((380, 90), (380, 410), (300, 110), (300, 390), (240, 150), (240, 350)):
        assert np.abs(out[row, col].astype(int) - blue).max() < 40, (row, col, out[row, col])
    # no skin on the jacket's shoulders (its outer rim, where the sleeve may be narrower, aside)
    shoulders = cv2.erode(jacket, np.ones((41, 41), np.uint8)) > 0
    shoulders[320:] = False
    assert is_skin(out)[shoulders].mean() < 0.01


def test_a_presenters_arms_below_a_short_sleeve_are_filled_as_skin():
    """Arms cut by the frame under a short-sleeved top: the sleeve ends where it would, and the arm below
    it is bare skin (the new garment is not carried down over it)."""
    out, alpha = worn_by_presenter(short_sleeve())
    assert is_skin(out[385:395, 50:70]).mean() > 0.9 and is_skin(out[385:395, 430:450]).mean() > 0.9
    assert (alpha[390, 130:155] < 0.5).all() and (alpha[390, 345:370] < 0.5).all()  # the torso not widened there
    assert alpha[260, 150] > 0.9 and alpha[260, 350] > 0.9  # the shoulders are the new top's


def test_a_flat_tops_inner_back_is_not_worn_on_the_chest():
    """The inner back (and its label) that a flat photo shows through the neck opening is not pasted under
    the presenter's chin: the neckline shows skin there."""
    from test_neckline import INNER_BACK, crew_neck_tee

    out, alpha = worn_by_presenter(crew_neck_tee()[0])
    body, frame, jacket = presenter()
    inside = (jacket > 0) & (body.person > 0)
    inside[:, :180], inside[:, 320:], inside[320:] = False, False, False  # under the chin
    grey = (np.abs(out.astype(int) - INNER_BACK).max(axis=2) < 15) & inside
    label = (out.min(axis=2) > 240) & inside
    assert grey.sum() < 60 and label.sum() < 5, (grey.sum(), label.sum())
    # the opening is skin, and the front below the collar band is still the tee
    rows = np.nonzero(alpha[:, 250] < 0.5)[0]
    assert is_skin(out[rows[rows > 200][:5], 250][None]).all()
    assert alpha[330, 250] > 0.9


def test_a_tie_under_the_old_collar_leaves_no_shadow_on_the_filled_skin():
    """The skin filled in a new neckline over an old white shirt and dark tie is one even skin: the tie is
    another garment, not a shadow (its dark stripe was printed down the chest)."""
    body = body_with(left_elbow=(120, 280), left_wrist=(110, 390), right_elbow=(380, 280), right_wrist=(390, 390))
    skin = (205, 150, 120)
    frame = np.full((*SHAPE, 3), 200, np.uint8)
    frame[body.person > 0] = skin
    old = np.zeros(SHAPE, np.uint8)
    old[182:420, 150:350] = 255
    frame[old > 0] = (235, 235, 235)  # the white shirt ...
    frame[182:420, 238:262] = (30, 30, 60)  # ... and its tie
    alpha = np.zeros(SHAPE, np.float32)
    alpha[182:420, 150:350] = 1.0
    alpha[182:260, 190:310] = 0.0  # the new top's neck opening
    mask = np.zeros(SHAPE, np.uint8)
    mask[175:450, 100:400] = 255
    out = worn_red(frame, mask, alpha, body, old, None)
    grey = cv2.cvtColor(out, cv2.COLOR_RGB2GRAY).astype(float)
    assert is_skin(out[200:240, 200:300]).mean() > 0.95
    assert abs(grey[200:240, 243:257].mean() - grey[200:240, 205:225].mean()) < 8


def test_the_old_collar_at_the_neck_above_a_new_crew_necks_opening_is_filled_as_skin():
    """A new crew neck's opening shows the chest: the old collar at the base of the neck, far above the
    opening's lowest point but level with the new top's shoulders, goes with the old garment."""
    body = body_with(left_elbow=(120, 280), left_wrist=(110, 390), right_elbow=(380, 280), right_wrist=(390, 390))
    skin, collar = (205, 150, 120), (25, 25, 25)
    frame = np.full((*SHAPE, 3), 200, np.uint8)
    frame[body.person > 0] = skin
    old = np.zeros(SHAPE, np.uint8)
    old[215:420, 150:350] = 255
    frame[old > 0] = (60, 90, 160)
    frame[190:197, 215:285] = collar  # the old collar, apart from the old garment's region
    alpha = np.zeros(SHAPE, np.float32)
    alpha[190:420, 150:350] = 1.0
    alpha[190:260, 210:290] = 0.0  # the new top's neck opening, its front neckline at row 260
    mask = np.zeros(SHAPE, np.uint8)
    mask[170:450, 100:400] = 255
    torso = np.zeros(SHAPE, np.uint8)
    torso[160:380, 170:330] = 255
    out = worn_red(frame, mask, alpha, body, old, torso)
    assert is_skin(out[191:196, 225:275]).mean() > 0.9


def test_a_bent_knee_leaves_no_notch_outside_the_bend():
    """A knee bent sideways: the wedge outside the bend (past the thigh's end, short of the shin's start)
    is trouser, not a notch of whatever lay beneath."""
    keypoints = np.zeros((33, 3), np.float32)
    points = {bp.LEFT_SHOULDER: (180, 60), bp.RIGHT_SHOULDER: (320, 60), bp.LEFT_HIP: (210, 250),
              bp.RIGHT_HIP: (290, 250), bp.LEFT_KNEE: (200, 390), bp.LEFT_ANKLE: (110, 510),  # shin swung out
              bp.RIGHT_KNEE: (295, 400), bp.RIGHT_ANKLE: (300, 550)}
    for index, (x, y) in points.items():
        keypoints[index] = (x, y, 1.0)
    body = Body(keypoints, np.full(SHAPE, 255, np.uint8), (), "pose")
    garment = prepare_garment(trousers(), "lower")
    _, alpha, _ = warp_garment(garment, body, whole(), SHAPE, "lower")
    assert alpha[400:404, 215:225].min() > 0.9  # beside the knee, outside the bend
    assert alpha[440, 175] > 0.9 and alpha[330, 205] > 0.9  # (shin and thigh themselves)


def test_a_forearm_follows_the_wrist_the_hand_detector_saw():
    """Crossed arms at the frame's edge: the pose's wrist drifts off the arm, the detected hand does not;
    the forearm kept in front of the new top runs to the hand (it was painted over)."""
    body = body_with(left_elbow=(120, 280), left_wrist=(110, 390))
    keypoints = body.keypoints.copy()
    for index, point in ((17, (205, 425)), (19, (215, 415)), (21, (200, 405))):  # the image-left knuckles
        keypoints[index] = (*point, 1.0)
    hand = np.array([(180, 410)] + [(200 + 3 * (i % 5), 405 + 4 * (i // 5)) for i in range(20)], np.float32)
    seen = Body(keypoints, body.person, (hand,), "pose")
    arms = arms_in_front(seen, SHAPE)
    assert arms[345, 152] > 0, "on the way from the elbow to the detected wrist"
    assert arms_in_front(Body(keypoints, body.person, (), "pose"), SHAPE)[345, 152] == 0  # (the pose's alone)
