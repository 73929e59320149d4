"""Try-on on video: the pose a garment is placed on holds from frame to frame."""

from __future__ import annotations

from conftest import shared_media
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
