"""Hands and what they hold stay in front of the new garment (issue 13): a bag in a hand the hand
detector missed is neither masked nor painted over; another garment around a hand is no held object."""

from __future__ import annotations

import cv2
import numpy as np
from conftest import dance_frame, pink_jeans_on, shared_media

from tryon_cli.analysis import body as bp
from tryon_cli.analysis.body import Body
from tryon_cli.masks.garment import MaskOptions, build_mask
from tryon_cli.masks.occluders import in_front

SHAPE = (600, 500)
SKIN = (205, 150, 120)
GARMENT = (60, 80, 140)
BAG = (40, 140, 70)


def scene(bag: bool = True, trousers: bool = False) -> tuple[np.ndarray, Body, np.ndarray, np.ndarray]:
    """A person in a blue top on white, the image-left arm hanging, its hand (no hand landmarks, only the
    pose's wrist and knuckles) holding a green bag in front of the top; optionally red trousers below the
    hips. Returns image, body, the hand's and the bag's pixels."""
    image = np.full((*SHAPE, 3), 250, np.uint8)
    person = np.zeros(SHAPE, np.uint8)
    cv2.rectangle(image, (150, 140), (350, 560), GARMENT, -1)
    cv2.rectangle(person, (150, 140), (350, 560), 255, -1)
    if trousers:
        cv2.rectangle(image, (150, 400), (350, 560), (170, 30, 40), -1)
    keypoints = np.zeros((33, 3), np.float32)
    points = {bp.NOSE: (250, 60), bp.LEFT_SHOULDER: (180, 160), bp.RIGHT_SHOULDER: (320, 160),
              bp.LEFT_ELBOW: (175, 290), bp.RIGHT_ELBOW: (330, 290), bp.LEFT_WRIST: (185, 390),
              bp.RIGHT_WRIST: (335, 390), bp.LEFT_HIP: (200, 400), bp.RIGHT_HIP: (300, 400),
              17: (178, 428), 19: (192, 432), 21: (198, 415)}
    for index, (x, y) in points.items():
        keypoints[index] = (x, y, 1.0)
    for side in bp.ARMS:
        line = np.array([points[i] for i in side], np.int32)
        cv2.polylines(image, [line], False, SKIN, 28)
        cv2.polylines(person, [line], False, 255, 28)
    hand = np.zeros(SHAPE, np.uint8)
    cv2.ellipse(hand, (188, 412), (17, 26), 0, 0, 360, 255, -1)
    bag_region = np.zeros(SHAPE, np.uint8)
    if bag:
        cv2.rectangle(bag_region, (140, 432), (235, 510), 255, -1)
        image[bag_region > 0] = BAG
        person |= bag_region
    image[hand > 0] = SKIN
    person |= hand
    return image, Body(keypoints, person, (), "pose"), hand, bag_region


def _share(mask: np.ndarray, region: np.ndarray) -> float:
    return float((mask[region > 0] > 0).mean())


def test_the_bag_in_a_hand_only_the_pose_found_stays_in_front():
    image, body, hand, bag = scene()
    garment = np.zeros(SHAPE, np.uint8)
    garment[(np.abs(image.astype(int) - GARMENT).sum(axis=2) < 10)] = 255
    front = in_front(image, body, garment, scale=140.0)
    assert _share(front, bag) > 0.9
    assert _share(front, hand) > 0.8
    away = (garment > 0) & ~(cv2.dilate(bag | hand, np.ones((15, 15), np.uint8)) > 0)
    assert _share(front, away.astype(np.uint8)) < 0.01


def test_the_trousers_around_a_hand_are_no_held_object():
    """The other garment around a hand runs on past the search disc: it is not taken for a bag."""
    image, body, hand, _ = scene(bag=False, trousers=True)
    garment = np.zeros(SHAPE, np.uint8)
    garment[(np.abs(image.astype(int) - GARMENT).sum(axis=2) < 10)] = 255
    front = in_front(image, body, garment, scale=140.0)
    trousers = (np.abs(image.astype(int) - (170, 30, 40)).sum(axis=2) < 10).astype(np.uint8)
    assert _share(front, trousers) < 0.02


def test_the_mask_leaves_out_the_hand_and_its_bag():
    image, body, hand, bag = scene()
    built = build_mask(image, body, MaskOptions(category="upper"))
    assert _share(built.mask, bag) < 0.05 and _share(built.mask, hand) < 0.1
    assert built.front is not None and _share(built.front, bag) > 0.9


def test_a_real_handbag_is_kept_through_a_dress_try_on():
    """headless_halter_dress: the hand holding the bag is missed by the hand detector; bag and hand were
    painted over by the new dress."""
    from tryon_cli.analysis.body import BodyAnalyzer
    from tryon_cli.garments.photo import load_garment
    from tryon_cli.garments.planner import tryon_frames
    from tryon_cli.io.media import read_image
    from tryon_cli.io.video import Frame
    from tryon_cli.render.classical.engine import ClassicalEngine

    person = read_image(shared_media("tryon", "images", "headless_halter_dress.jpg"))
    model = load_garment(shared_media("tryon", "garments", "dress_bold_print.jpg"), "dress")
    out = {}
    with BodyAnalyzer() as analyzer:
        tryon_frames(iter([Frame(0, person, 0, 0.0)]), model, ClassicalEngine(), MaskOptions(category="dress"),
                     "mask", False, 0, lambda frame, result: out.setdefault("image", result), analyzer=analyzer)
    bag = (slice(540, 600), slice(262, 328))  # (rows, columns) inside the bag, below the hand and its handle
    unchanged = (np.abs(out["image"][bag].astype(int) - person[bag]).max(axis=2) <= 2).mean()
    assert unchanged > 0.95


def test_colour_distance_and_person_skin_equal_their_whole_image_formulas():
    """The held-object search's colour distance (nearest centre by squared distance, channel by channel) and
    the person's skin (chroma read on the skin-range pixels only) are exact shortcuts of the plain
    formulas: the same values, bit for bit."""
    from tryon_cli.analysis.body import is_skin
    from tryon_cli.masks.occluders import SKIN_CHROMA, colour_distance, colour_lab, person_skin

    rng = np.random.default_rng(3)
    image, body, _, _ = scene(trousers=True)
    image[10:400, 360:495] = (230, 190, 150)  # a beige wall beside the person: skin range, another chroma
    noisy = np.clip(image.astype(int) + rng.integers(-6, 7, image.shape), 0, 255).astype(np.uint8)
    lab = colour_lab(noisy)
    centres = rng.uniform(0, 100, (5, 3)).astype(np.float32)
    plain = np.min(np.stack([np.linalg.norm(lab - c, axis=2) for c in centres]), axis=0)
    assert np.array_equal(colour_distance(lab, centres), plain)
    skin = is_skin(noisy)
    ab = cv2.cvtColor(noisy, cv2.COLOR_RGB2LAB)[..., 1:].astype(np.float32)
    skin &= np.linalg.norm(ab - np.median(ab[skin & (body.person > 0)], axis=0), axis=2) < SKIN_CHROMA
    expected = cv2.morphologyEx(skin.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)) > 0
    assert 10000 < expected.sum() < 30000  # the arms and hands, not the wall
    assert np.array_equal(person_skin(noisy, body.person), expected)


def test_the_old_trousers_lit_by_a_hand_are_no_held_object():
    """full_body_dance frame 7: the black jeans beside the hand, lit warmer by it, were taken for a held
    object and kept in front of the new jeans (a black patch on the hip). Its colour is the jeans' own."""
    from tryon_cli.analysis.body import BodyAnalyzer

    image = dance_frame(7)
    with BodyAnalyzer() as analyzer:
        body = analyzer.analyse(image)
    built = build_mask(image, body, MaskOptions(category="lower"))
    dark = image.max(axis=2) < 60  # the black jeans
    assert ((built.front > 0) & dark).sum() < 1500  # (6324 px before)


def test_a_forearm_across_the_hips_stays_in_front_of_new_trousers():
    """full_body_dance frame 25: the mustard sleeve of a forearm swinging across the hips was painted
    over by the new jeans."""
    image = dance_frame(25)
    body, tried = pink_jeans_on(image)
    hips = body.visible((bp.LEFT_HIP, bp.RIGHT_HIP))
    hips = int(hips[:, 1].mean() - 0.2 * np.ptp(body.visible((bp.LEFT_SHOULDER, bp.RIGHT_SHOULDER))[:, 0]))
    r, g, b = (image[hips:].astype(int)[..., k] for k in range(3))
    sleeve = (r - b > 70) & (g - b > 30) & (body.person[hips:] > 0)  # the mustard sleeve from just above the hips
    kept = (np.abs(tried[hips:].astype(int) - image[hips:]).max(axis=2) <= 12)[sleeve].mean()
    assert sleeve.sum() > 500 and kept > 0.6  # (none before)


def test_a_dark_edge_along_a_sleeved_forearm_is_no_held_object():
    """full_body_dance frame 22: beside a swinging forearm in a long sleeve (the keypoints a little behind
    it) a dark edge touching the hand was taken for a held object and grown into the whole sleeve, kept in
    front of the new tee as a mustard block. What lies along the forearm is the arm's; a bag is still kept."""
    image, body, hand, _ = scene(bag=False)
    sleeve = np.zeros(SHAPE, np.uint8)
    cv2.polylines(sleeve, [np.array([(180, 160), (175, 290), (185, 390)], np.int32)], False, 255, 28)
    image[(sleeve > 0) & (hand == 0)] = GARMENT  # the image-left arm sleeved down to the wrist
    edge = np.zeros(SHAPE, np.uint8)
    cv2.line(edge, (192, 300), (201, 398), 255, 5)  # a dark edge along its inner side, touching the hand
    image[edge > 0] = (35, 30, 30)
    garment = np.zeros(SHAPE, np.uint8)
    garment[(np.abs(image.astype(int) - GARMENT).sum(axis=2) < 10)] = 255
    front = in_front(image, body, garment, scale=140.0)
    assert _share(front, edge) < 0.1
    image, body, _, bag = scene()  # (a bag below the same hand stays in front)
    garment = np.zeros(SHAPE, np.uint8)
    garment[(np.abs(image.astype(int) - GARMENT).sum(axis=2) < 10)] = 255
    assert _share(in_front(image, body, garment, scale=140.0), bag) > 0.9
