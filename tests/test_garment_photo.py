"""Garment photos: white on white segmented, person photos refused (exit 2, the file named)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from conftest import run_cli, shared_media
from tryon_cli.errors import InputError
from tryon_cli.garments.photo import load_garment, prepare_garment, segment_garment
from tryon_cli.io.media import read_image, write_image


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max((a | b).sum(), 1))


def white_tee(size=(512, 384)) -> tuple[np.ndarray, np.ndarray]:
    """An off-white T-shirt (L about 95) on a white backdrop (L about 97), anti-aliased, with soft folds,
    a faint drop shadow and sensor noise: the case colour distance alone cannot separate."""
    height, width = size
    outline = np.array([[130, 70], [254, 70], [350, 150], [318, 205], [280, 180], [285, 460], [99, 460], [104, 180],
                        [66, 205], [34, 150]], np.float32)
    truth = np.zeros(size, np.uint8)
    cv2.fillPoly(truth, [np.round(outline).astype(np.int32)], 255)
    cv2.ellipse(truth, (192, 70), (45, 25), 0, 0, 180, 0, -1)
    rng = np.random.default_rng(0)
    image = np.full(size + (3,), 247.0, np.float32)
    shadow = cv2.GaussianBlur(np.roll(truth, (6, 6), axis=(0, 1)).astype(np.float32), (0, 0), 6) / 255
    image -= 6 * shadow[..., None]
    folds = 4 * np.sin(np.arange(height) / 23.0)[:, None] * np.ones((1, width))
    tee = np.dstack([240 + folds, 239 + folds, 234 + folds])
    alpha = cv2.GaussianBlur(truth.astype(np.float32), (0, 0), 0.8)[..., None] / 255
    image = image * (1 - alpha) + tee * alpha + rng.normal(0, 0.6, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8), truth > 0


def test_white_garment_on_white_is_segmented_whole():
    image, truth = white_tee()
    mask = segment_garment(image) > 0
    assert iou(mask, truth) > 0.93


def sleeves_against_torso(size=(512, 384)) -> np.ndarray:
    """A navy long-sleeve top whose sleeves hang 10 px from its torso: a channel of backdrop between
    them, open below the cuffs, that the segmentation's closing seals into the mask."""
    image = np.full(size + (3,), 246, np.uint8)
    navy = (40, 45, 80)
    cv2.rectangle(image, (110, 60), (274, 470), navy, -1)  # torso
    for x0, x1 in ((60, 100), (284, 324)):  # sleeves
        cv2.rectangle(image, (x0, 60), (x1, 400), navy, -1)
    cv2.rectangle(image, (60, 60), (324, 110), navy, -1)  # the shoulders join them
    return cv2.GaussianBlur(image, (3, 3), 0)


CHANNELS = ((104, 107), (278, 281))  # the middle of each channel (its rims are the garment's edges)


def test_backdrop_between_sleeve_and_torso_is_worn_as_the_torso():
    """Worn, the channel was a white strip down the body: the photo to warp carries the torso over it."""
    model = prepare_garment(sleeves_against_torso(), "upper")
    for x0, x1 in CHANNELS:
        assert model.mask[150:390, x0:x1].all(), "a top's outline stays whole"
        assert (model.bled[150:390, x0:x1].astype(int) - (40, 45, 80)).max() < 20, "no backdrop in the top"


def test_backdrop_between_trouser_legs_is_no_garment():
    """Between a bottom's legs the channel is backdrop: cut from its mask (the legs are warped apart)."""
    image = sleeves_against_torso()
    model = prepare_garment(image, "lower")
    for x0, x1 in CHANNELS:
        assert not model.mask[150:390, x0:x1].any()
    assert model.mask[150:390, 115:270].all() and model.mask[150:390, 65:95].all()
    assert (segment_garment(image)[150:390, 104:107] > 0).all()  # (the outline alone holds it)


def test_tiny_or_whole_photo_segmentation_is_refused(tmp_path):
    image, _ = white_tee()
    path = tmp_path / "flat.png"
    write_image(path, np.full_like(image, 200))
    with pytest.raises(InputError, match="flat.png"):
        load_garment(path, "upper")


def test_person_photo_as_garment_is_refused_with_exit_2(astronaut, tmp_path):
    person, garment = tmp_path / "person.png", tmp_path / "me.png"
    write_image(person, astronaut)
    write_image(garment, astronaut)
    out = tmp_path / "out.png"
    result = run_cli("tryon", str(person), str(garment), "-o", str(out))
    assert result.returncode == 2
    assert "me.png" in result.stderr and "face" in result.stderr and "Traceback" not in result.stderr
    assert not out.exists()


def test_face_printed_on_a_tee_is_not_a_person(astronaut, tmp_path):
    image, _ = white_tee()
    face = cv2.resize(astronaut[20:230, 130:320], (110, 120))
    image[200:320, 137:247] = face  # a photo print in the middle of the shirt
    path = tmp_path / "print_tee.png"
    write_image(path, image)
    model = load_garment(path, "upper")
    assert model.mask[200:320, 137:247].all()


@pytest.mark.media
def test_reference_mask_iou_and_white_garments_on_shared_photos():
    folder = "garments"
    photo = read_image(shared_media("tryon", folder, "00057_00.jpg"))
    reference = read_image(shared_media("tryon", folder, "00057_00_mask.jpg"))[..., 0] > 127
    assert iou(segment_garment(photo) > 0, reference) > 0.97
    for name in ("upper_white_blouse_corset.jpg", "upper_white_print_tee.jpg"):
        mask = segment_garment(read_image(shared_media("tryon", folder, name))) > 0
        # a white garment is a large, solid shape, not the print alone
        assert 0.25 < mask.mean() < 0.6, name
        ys, xs = np.nonzero(mask)
        box_fill = mask.sum() / ((np.ptp(ys) + 1) * (np.ptp(xs) + 1))
        assert box_fill > 0.6, name


@pytest.mark.media
def test_shared_person_photo_as_garment_is_refused():
    with pytest.raises(InputError, match="01008_00.jpg: .*face"):
        load_garment(shared_media("tryon", "images", "01008_00.jpg"), "upper")


def test_drop_shadow_the_mask_took_in_is_not_worn():
    """A pink trouser leg whose mask took in the grey drop shadow along its side (the segmentation's
    outline overshoots by a few px): worn, it was a light strip along the leg. The photo to warp carries
    the garment's own colour over it; a dark garment's own rim (neutral, but darker) is kept."""
    image = np.full((1000, 600, 3), 252, np.uint8)
    image[:, 100:109] = 232  # the shadow: the backdrop's chroma, a little darker
    image[:, 109:300] = (200, 150, 150)  # the pink leg
    image[:, 300:310] = (60, 60, 60)  # a charcoal seam band: neutral, but no shadow
    mask = np.zeros((1000, 600), np.uint8)
    mask[50:950, 100:310] = 255
    bled = prepare_garment(image, "lower", mask).bled.astype(int)
    rows = slice(100, 900)
    assert (np.abs(bled[rows, 100:109] - (200, 150, 150)).max(axis=2) < 12).all(), "the shadow strip is worn pink"
    assert (bled[rows, 303:307] == 60).all(), "the garment's own dark rim stays"


def test_white_stripes_reaching_the_outline_stay_white():
    """A striped top's white stripes reach its outline every other stripe: they are the garment, not its
    shadow (bled over, the top was worn with a dark outline)."""
    image = np.full((1000, 600, 3), 252, np.uint8)
    stripes = (np.arange(1000) // 12) % 2 == 0
    image[50:950, 100:500] = np.where(stripes[50:950, None, None], (30, 35, 70), (246, 246, 246))
    mask = np.zeros((1000, 600), np.uint8)
    mask[50:950, 100:500] = 255
    bled = prepare_garment(image, "upper", mask).bled.astype(int)
    white = ~stripes & (np.arange(1000) > 100) & (np.arange(1000) < 900)
    assert (bled[white, 102:108] > 235).all()  # (beyond the 2 px rim every outline takes from inside)
