"""Try-on masks on frames: no person, no mask; lower masks stop at the ankles; keypoints smoothed on video."""

from __future__ import annotations

import numpy as np

from conftest import dance_frame, pink_jeans_on, shared_media
from tryon_cli.analysis.body import LEFT_SHOULDER, RIGHT_SHOULDER, BodyAnalyzer
from tryon_cli.garments.planner import mask_frames
from tryon_cli.io.media import read_image
from tryon_cli.io.video import Frame
from tryon_cli.masks.garment import MaskOptions, bounding_box, build_mask


def test_a_frame_without_a_person_gets_no_mask_and_a_reason(astronaut):
    """A fade to white after a person: the last box is not carried onto the empty frame."""
    white = np.full_like(astronaut, 250)
    faint = white.copy()
    faint[400:430, 200:230] = astronaut[400:430, 200:230]  # a fade-in: a scrap of the person, no body
    frames = [Frame(0, astronaut, 0, 0.0), Frame(1, white, 1, 0.04), Frame(2, faint, 2, 0.08)]
    written: list[np.ndarray] = []
    report = mask_frames(iter(frames), MaskOptions(), True, 0, lambda frame, mask: written.append(mask))
    assert written[0].any()
    assert not written[1].any() and not written[2].any()
    assert report.per_frame[1] == "no person found" and report.as_dict()["mask_sources"]["none"] == 2


def test_video_keypoints_are_smoothed_but_follow_motion():
    analyzer = BodyAnalyzer(tracking=True, hands=False, fps=25)
    try:
        rng = np.random.default_rng(0)
        base = np.zeros((33, 3), np.float32)
        base[:, 2] = 1.0
        base[LEFT_SHOULDER, :2], base[RIGHT_SHOULDER, :2] = (100, 100), (200, 100)
        raw, out = [], []
        for _ in range(50):
            noisy = base.copy()
            noisy[:, :2] += rng.normal(0, 3, (33, 2))
            raw.append(noisy[:, :2])
            out.append(analyzer._smoothed(noisy)[:, :2])
        assert np.std(np.array(out[10:]), axis=0).mean() < 0.5 * np.std(np.array(raw[10:]), axis=0).mean()
        moved = base.copy()
        moved[:, 0] += 150  # a step to the side: followed within a few frames
        for _ in range(8):
            last = analyzer._smoothed(moved)
        assert abs(last[LEFT_SHOULDER, 0] - moved[LEFT_SHOULDER, 0]) < 15
    finally:
        analyzer.close()


def test_lower_mask_stops_above_the_shoes_on_a_full_body_photo():
    image = read_image(shared_media("tryon", "images", "full_body_man.jpg"))
    with BodyAnalyzer() as analyzer:
        body = analyzer.analyse(image)
    mask = build_mask(image, body, MaskOptions(category="lower")).mask
    x0, y0, x1, y1 = bounding_box(body.person)
    shoes = slice(int(y1 - 0.05 * (y1 - y0)), y1)
    assert mask.any() and not mask[shoes].any()
    assert mask[int(y0 + 0.7 * (y1 - y0))].any()  # the shins are still in


class _ScriptedAnalyzer:
    """Stands in for BodyAnalyzer: hands out the given bodies in order."""

    def __init__(self, bodies):
        self._bodies = iter(bodies)

    def analyse(self, image, time=None):
        return next(self._bodies)

    def reset(self):
        pass

    def close(self):
        pass


def _standing(foot_y: float):
    """A synthetic standing body (pose keypoints, person mask) whose image-left ankle is at row `foot_y`."""
    import cv2

    from tryon_cli.analysis import body as bp
    from tryon_cli.analysis.body import Body

    keypoints = np.zeros((33, 3), np.float32)
    points = {bp.LEFT_SHOULDER: (200, 100), bp.RIGHT_SHOULDER: (300, 100), bp.LEFT_HIP: (215, 300),
              bp.RIGHT_HIP: (285, 300), bp.LEFT_KNEE: (215, 420), bp.RIGHT_KNEE: (285, 420),
              bp.LEFT_ANKLE: (215, foot_y), bp.RIGHT_ANKLE: (285, 540), 29: (210, foot_y + 15), 30: (280, 555),
              31: (235, foot_y + 30), 32: (305, 570)}
    for index, (x, y) in points.items():
        keypoints[index] = (x, y, 1.0)
    person = np.zeros((600, 500), np.uint8)
    cv2.rectangle(person, (180, 80), (320, 580), 255, -1)
    return Body(keypoints, person, (), "pose")


def test_a_videos_smoothed_mask_never_covers_this_frames_feet():
    """The smoothing reaches back to earlier frames' masks; a foot that has moved into where the mask was
    is still kept out (the mask bars: no mask pixel on the feet)."""
    from tryon_cli.garments.planner import FrameMasker

    image = np.full((600, 500, 3), 120, np.uint8)
    bodies = [_standing(540)] * 6 + [_standing(470)]  # a foot lifted (a dance step) on the last frame
    masker = FrameMasker(MaskOptions(category="lower"), tracking=True, analyzer=_ScriptedAnalyzer(bodies))
    for index in range(len(bodies)):
        body, mask, _ = masker(Frame(index, image, index, index / 25))
    assert mask.protected is not None and mask.protected[490, 220] > 0
    assert not (mask.mask & mask.protected).any()
    assert mask.mask[400, 250] > 0  # the legs are still in


def test_a_scoop_necklines_bare_chest_is_not_kept_out_as_neck():
    """Skin above the old garment's collar is neck (kept out of an upper mask), but only down to the
    shoulder joints: the chest a scoop neckline bares may be covered by a new garment."""
    from tryon_cli.masks.garment import neck_skin

    body = _standing(540)  # shoulders at row 100
    image = np.full((600, 500, 3), 120, np.uint8)
    image[40:200, 220:280] = (205, 150, 120)  # the neck and, below the shoulders, the bared chest
    garment = np.zeros((600, 500), np.uint8)
    garment[80:300, 180:320] = 255
    garment[80:200, 220:280] = 0  # a deep scoop: the garment's middle starts at row 200
    kept = neck_skin(image, body, garment, 100.0)
    assert kept[92, 250] > 0  # the neck
    assert not kept[150:200, 250].any()  # the chest under the scoop


def test_a_hands_wrist_end_is_protected_only_where_it_is_skin():
    """The hand landmarks' hull reaches over the old sleeve's cuff: that part goes with the sleeve (into the
    mask), while the hand itself stays protected."""
    from tryon_cli.analysis.body import Body
    from tryon_cli.masks.garment import protection_mask

    hand = np.array([(100, 300)] + [(80 + 2 * i, 305 + 4 * i) for i in range(8)] + [(100, 340)]
                    + [(85 + 3 * i, 345 + 3 * i) for i in range(11)], np.float32)
    hand[17] = (122, 306)  # the pinky's base: the hull is wide at the wrist
    image = np.full((500, 300, 3), 200, np.uint8)
    image[290:400, 60:140] = (205, 150, 120)  # the hand's skin ...
    image[290:312, 60:140] = (20, 20, 20)  # ... and a dark cuff over the wrist
    body = Body(None, np.zeros((500, 300), np.uint8), (hand,), "none")
    without = protection_mask(body, (500, 300), "upper", 100.0)
    kept = protection_mask(body, (500, 300), "upper", 100.0, image)
    assert without[306, 100] > 0 and kept[306, 100] == 0  # the cuff is no longer protected
    assert kept[360, 100] > 0  # the fingers are
    assert not kept[309:312, 100].any()  # nor the cuff's last rows beside the skin (a dark line at the wrist)


def test_a_dress_mask_spans_the_gap_between_the_legs():
    """Legs apart below a knee-length dress: a longer new dress hangs across the gap between them, which a
    mask held to the person left out (the new skirt split over the legs); a lower mask still leaves it."""
    import cv2

    from tryon_cli.analysis import body as bp
    from tryon_cli.analysis.body import Body

    keypoints = np.zeros((33, 3), np.float32)
    points = {bp.NOSE: (250, 40), bp.LEFT_SHOULDER: (200, 100), bp.RIGHT_SHOULDER: (300, 100),
              bp.LEFT_HIP: (215, 300), bp.RIGHT_HIP: (285, 300), bp.LEFT_KNEE: (175, 420),
              bp.RIGHT_KNEE: (325, 420), bp.LEFT_ANKLE: (150, 540), bp.RIGHT_ANKLE: (350, 540)}
    for index, (x, y) in points.items():
        keypoints[index] = (x, y, 1.0)
    person = np.zeros((600, 500), np.uint8)
    cv2.rectangle(person, (180, 80), (320, 420), 255, -1)  # torso and a knee-length dress
    for hip, knee, ankle in ((bp.LEFT_HIP, bp.LEFT_KNEE, bp.LEFT_ANKLE), (bp.RIGHT_HIP, bp.RIGHT_KNEE, bp.RIGHT_ANKLE)):
        cv2.polylines(person, [np.array([points[hip], points[knee], points[ankle]], np.int32)], False, 255, 30)
    image = np.full((600, 500, 3), 230, np.uint8)
    image[person > 0] = (200, 60, 60)
    body = Body(keypoints, person, (), "pose")
    dress = build_mask(image, body, MaskOptions(category="dress")).mask
    assert (dress[450:520, 230:270] > 0).all(), "between the shins, under a longer skirt"
    lower = build_mask(image, body, MaskOptions(category="lower")).mask
    assert not (lower[450:520, 240:260] > 0).any(), "trousers keep the gap between the legs"


def test_new_trousers_leave_no_strip_of_a_high_old_waistband():
    """full_body_dance frame 7: the old jeans' waistband sits 0.5-0.6 torso scales above the hip joints;
    the lower mask stopped at 0.4 and a black strip of it stayed between the top and the new jeans."""
    from tryon_cli.analysis import body as bp

    image = dance_frame(7)
    body, tried = pink_jeans_on(image)
    hips = body.visible((bp.LEFT_HIP, bp.RIGHT_HIP))
    scale = float(np.ptp(body.visible((LEFT_SHOULDER, RIGHT_SHOULDER))[:, 0]))
    centre, row = int(hips[:, 0].mean()), float(hips[:, 1].mean())
    # the waist band above the hips, across the middle of the body (the buttons' column and beside it)
    band = (slice(int(row - 0.5 * scale), int(row - 0.3 * scale)), slice(int(centre - 0.2 * scale), int(centre + 0.2 * scale)))
    dark_before = (image[band].max(axis=2) < 60).mean()
    dark_after = (tried[band].max(axis=2) < 60).mean()
    assert dark_before > 0.5 and dark_after < 0.05  # (0.15 before)


def test_a_dress_mask_covers_the_trouser_cuff_just_above_each_foot():
    """The feet are kept out of the mask as their keypoints' hull grown round; grown above the ankle too, it
    bit a round notch into a long dress's mask above each shoe, and the old trousers' print stayed there.
    Above a foot's highest keypoint is leg: in the mask; the foot itself stays out."""
    image = np.full((600, 500, 3), 120, np.uint8)
    body = _standing(540)
    mask = build_mask(image, body, MaskOptions(category="dress"))
    assert mask.mask[532, 215] > 0 and mask.mask[532, 285] > 0  # just above each ankle
    assert mask.protected is not None and mask.protected[560, 225] > 0  # the foot below it
