"""Try-on on video: the pose a garment is placed on holds from frame to frame."""

from __future__ import annotations

import numpy as np

from conftest import shared_media
from tryon_cli.analysis import body as bp
from tryon_cli.analysis.body import BodyAnalyzer
from tryon_cli.garments.planner import FrameMasker
from tryon_cli.io.video import iter_frames
from tryon_cli.masks.garment import MaskOptions


def test_a_shop_video_cut_at_the_chin_keeps_its_pose():
    """upper1.mp4 never shows a face: its torso is trusted as a headless photo's is, so sleeves follow the
    arms (it had no pose on any frame, and the garment hung flat from the mask's box); its mask stays the
    segmentation's (built on the headless skeleton it covered less of the reference mask)."""
    video = shared_media("tryon", "video", "upper1.mp4")
    with BodyAnalyzer(tracking=True, fps=24) as analyzer:
        sources = [analyzer.analyse(frame.image).source for frame in iter_frames(video, start=1.0, end=1.5)]
    assert sources.count("headless") >= 0.8 * len(sources), sources


def test_a_headless_video_frame_is_masked_from_the_segmentation():
    video = shared_media("tryon", "video", "upper1.mp4")
    masker = FrameMasker(MaskOptions(category="upper"), tracking=True)
    try:
        for frame in iter_frames(video, start=1.0, end=1.1):
            body, mask, source = masker(frame)
            assert body.source == "headless" and source == "segmentation" and mask is not None
    finally:
        masker.close()


def _keypoints(shift: float, rng: np.random.Generator) -> np.ndarray:
    """A standing skeleton (shoulders 140 px apart) moved `shift` px right, with 1.5 px detection noise."""
    points = np.zeros((33, 3), np.float32)
    points[:, 2] = 1.0
    points[:, :2] = (300.0, 300.0)
    points[bp.LEFT_SHOULDER, :2], points[bp.RIGHT_SHOULDER, :2] = (230.0, 200.0), (370.0, 200.0)
    points[:, 0] += shift
    points[:, :2] += rng.normal(0.0, 1.5, (33, 2))
    return points


def test_a_still_bodys_keypoints_hold_still_and_a_moving_one_is_followed():
    """The keypoints a garment is placed on: on a still presenter the detector's noise is smoothed to under
    a tenth of its frame-to-frame jitter (at 1 Hz it was 0.14: a striped top shimmered), while a body
    stepping sideways at a shoulder width per second is followed within a tenth of a shoulder width."""
    rng = np.random.default_rng(0)
    with BodyAnalyzer(tracking=True, fps=30) as analyzer:
        raw = [_keypoints(0.0, rng) for _ in range(60)]
        smooth = [analyzer._smoothed(k) for k in raw]
        jitter = (lambda seq: np.mean([np.linalg.norm(a[:, :2] - 2 * b[:, :2] + c[:, :2], axis=1).mean()
                                       for a, b, c in zip(seq, seq[1:], seq[2:])]))
        assert jitter(smooth) < 0.1 * jitter(raw)
        analyzer.reset()
        moving = [analyzer._smoothed(_keypoints(140.0 * t / 30, rng)) for t in range(45)]
        lag = 140.0 * 44 / 30 - (moving[-1][bp.LEFT_SHOULDER, 0] - 230.0)
        assert abs(lag) < 14.0, lag


def test_the_keypoints_smoothing_keeps_pace_with_the_frames_timestamps():
    """The analyser reads the time between frames from their timestamps, so a 60 fps (or variable-rate)
    video is smoothed at the same cutoff in hertz as a 25 fps one: twice the frames in a second, each moved
    less. Assuming its default 25 fps, a still presenter at 60 fps kept about twice the per-frame jitter."""
    def jitter_kept(timestamps: bool) -> float:
        rng = np.random.default_rng(0)
        raw, smooth = [], []
        with BodyAnalyzer(tracking=True) as analyzer:  # default rate 25 fps
            for t in range(90):
                if timestamps:
                    analyzer._tick(t / 60)
                raw.append(_keypoints(0.0, rng))
                smooth.append(analyzer._smoothed(raw[-1]))
        jitter = (lambda seq: np.mean([np.linalg.norm(a[:, :2] - 2 * b[:, :2] + c[:, :2], axis=1).mean()
                                       for a, b, c in zip(seq, seq[1:], seq[2:])]))
        return jitter(smooth[30:]) / jitter(raw[30:])

    assert jitter_kept(True) < 0.7 * jitter_kept(False)


class _ScriptedAnalyzer:
    """An analyser that finds no keypoints on the first `blind` frames, then `posed`'s pose."""

    def __init__(self, posed, blind: int) -> None:
        self.posed, self.blind, self.calls = posed, blind, 0

    def analyse(self, image, time=None):
        from tryon_cli.analysis.body import Body

        self.calls += 1
        if self.calls <= self.blind:
            return Body(None, self.posed.person, (), "none")
        return self.posed

    def reset(self) -> None:
        pass

    def close(self) -> None:
        pass


class _PaintingEngine:
    """Paints every render item's mask flat red: what the planner hands over, frame by frame."""

    def prepare(self, kind) -> None:
        pass

    def render_stream(self, items, progress=None):
        for item in items:
            out = item.frame.copy()
            if item.mask is not None:
                out[item.mask > 0] = (255, 0, 0)
            yield item.key, out


def test_a_video_frame_without_a_torso_is_left_as_it_was_and_the_garment_dissolves_in():
    """upper1.mp4's walk-in (side-on, the pose found on the legs) had no keypoints: its garment sat on the
    mask's growing box and swam. Such frames are left as they were and reported, and once a torso is
    found the try-on dissolves in over DISSOLVE_SECONDS (no garment popping on in one frame)."""
    import cv2

    from test_tryon_worn import SHAPE, body_with, long_sleeve
    from tryon_cli.garments.photo import prepare_garment
    from tryon_cli.garments.planner import DISSOLVE_SECONDS, NO_TORSO, tryon_frames
    from tryon_cli.io.video import Frame

    posed = body_with((160, 270), (155, 380))
    image = np.full((*SHAPE, 3), 235, np.uint8)
    image[posed.person > 0] = (60, 110, 170)
    cv2.circle(image, (250, 70), 45, (200, 160, 140), -1)
    fps, blind, count = 25.0, 3, 3 + int(DISSOLVE_SECONDS * 25) + 3
    frames = [Frame(i, image, i, i / fps) for i in range(count)]
    out = []
    report = tryon_frames(iter(frames), prepare_garment(long_sleeve(), "upper"), _PaintingEngine(),
                          MaskOptions(category="upper"), "mask", True, 0, lambda f, r: out.append(r),
                          analyzer=_ScriptedAnalyzer(posed, blind))
    assert report.per_frame[:blind] == [NO_TORSO] * blind
    for frame in out[:blind]:
        np.testing.assert_array_equal(frame, image)
    changed = [float(np.abs(frame.astype(int) - image).sum()) for frame in out[blind:]]
    assert changed[0] > 0 and changed[0] < 0.3 * changed[-1]  # the first tried-on frame: a little of it
    assert all(b >= a for a, b in zip(changed, changed[1:]))  # more of it frame by frame ...
    assert changed[-2] == changed[-1]  # ... all of it after DISSOLVE_SECONDS


HEM = 180


def _cream_top_over_white_skirt():
    """A headless frame: a cream top over a high white skirt on a grey wall, its torso's keypoints."""
    from tryon_cli.analysis.body import Body

    shape = (600, 500)
    image = np.zeros((*shape, 3), np.uint8)
    image[:] = (200, 200, 200)
    person = np.zeros(shape, np.uint8)
    person[:, 150:350] = 255
    image[:HEM, 150:350] = CREAM
    image[HEM:, 160:340] = WHITE
    keypoints = np.zeros((33, 3), np.float32)
    for index, (x, y) in {bp.LEFT_SHOULDER: (180, 20), bp.RIGHT_SHOULDER: (320, 20), bp.LEFT_HIP: (210, 250),
                          bp.RIGHT_HIP: (290, 250), bp.LEFT_ELBOW: (165, 140), bp.RIGHT_ELBOW: (335, 140),
                          bp.LEFT_WRIST: (160, 260), bp.RIGHT_WRIST: (340, 260)}.items():
        keypoints[index] = (x, y, 1.0)
    keypoints[bp.NOSE] = (250, -60, 1.0)
    return image, Body(keypoints, person, (), "headless")


CREAM, WHITE = (236, 231, 214), (248, 248, 246)


def test_a_headless_frames_mask_stops_at_the_tops_hem_over_a_high_white_skirt():
    """upper1.mp4: a cream top over a high white skirt, the head cut at the chin. The mask, made from the
    segmentation, ran down over the skirt to the wrists (1.59 times the reference mask's area, bar 1.6);
    across the hips it now ends at the top's hem, though cream and white differ by less than ROW_CHANGE."""
    from tryon_cli.io.video import Frame
    from tryon_cli.masks.garment import ROW_CHANGE
    from tryon_cli.masks.occluders import colour_lab

    change = np.linalg.norm(colour_lab(np.array([[CREAM]], np.uint8)) - colour_lab(np.array([[WHITE]], np.uint8)))
    assert change < ROW_CHANGE  # (the lower garment's usual test would not see this hem)
    image, headless = _cream_top_over_white_skirt()
    masker = FrameMasker(MaskOptions(category="upper"), tracking=True, analyzer=_ScriptedAnalyzer(headless, 0))
    _, mask, _ = masker(Frame(0, image, 0, 0.0))
    assert mask.mask[HEM - 30 : HEM - 5, 210:290].all()  # the top above its hem
    assert not mask.mask[HEM + 10 :, 210:290].any()  # no skirt across the hips


def test_a_headless_frames_try_on_keeps_room_for_a_longer_top():
    """Cut at the old top's hem, a try-on's region cut a long tee short, a strip of it hanging beside the
    skirt: the try-on's region keeps the rows below the hem (the new top's own length decides)."""
    from test_tryon_worn import long_sleeve
    from tryon_cli.garments.photo import prepare_garment
    from tryon_cli.garments.planner import tryon_frames
    from tryon_cli.io.video import Frame

    image, headless = _cream_top_over_white_skirt()
    out = []
    tryon_frames(iter([Frame(0, image, 0, 0.0)]), prepare_garment(long_sleeve(), "upper"), _PaintingEngine(),
                 MaskOptions(category="upper"), "mask", True, 0, lambda f, r: out.append(r),
                 analyzer=_ScriptedAnalyzer(headless, 0))
    painted = (out[0] == (255, 0, 0)).all(axis=2)
    assert painted[HEM + 10 : HEM + 40, 210:290].all()
