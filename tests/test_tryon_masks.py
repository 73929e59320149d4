"""Try-on masks on frames: no person, no mask; lower masks stop at the ankles; keypoints smoothed on video."""

from __future__ import annotations

import numpy as np

from conftest import shared_media
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
