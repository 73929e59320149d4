"""Try-on speed on CPU: masks per second and classical try-on frames per second, 768x1024 photos and
the 624x832 shared video (or synthetic stand-ins when ../shared/media is absent).

    python benchmarks/tryon_bench.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import SHARED_MEDIA  # noqa: E402


def main() -> None:
    from test_tryon import tshirt
    from tryon_cli.render.classical.engine import ClassicalEngine
    from tryon_cli.garments.photo import prepare_garment
    from tryon_cli.masks.garment import MaskOptions
    from tryon_cli.io.media import read_image
    from tryon_cli.garments.planner import mask_frames, tryon_frames
    from tryon_cli.io.video import Frame, iter_frames

    photos_dir = SHARED_MEDIA / "tryon" / "images"
    if photos_dir.exists():
        photos = [read_image(p) for p in sorted(photos_dir.glob("*.jpg"))]
        garment = read_image(SHARED_MEDIA / "tryon" / "garments" / "00055_00.jpg")
        video = list(iter_frames(SHARED_MEDIA / "tryon" / "video" / "upper1.mp4"))
    else:
        from skimage import data

        photos = [cv2.resize(data.astronaut(), (768, 1024))] * 3
        garment = tshirt()
        video = [Frame(i, cv2.resize(data.astronaut(), (624, 832)), i, i / 24) for i in range(48)]
    model = prepare_garment(garment, "upper")
    sink = lambda frame, image: None  # noqa: E731
    rows = []
    for label, frames, tracking in (("768x1024 photos", [Frame(0, p, 0, 0.0) for p in photos], False),
                                    ("624x832 video", video, True)):
        if not tracking:
            started = time.perf_counter()
            for frame in frames:
                mask_frames(iter([frame]), MaskOptions(), False, 0, sink)
            masks = len(frames) / (time.perf_counter() - started)
            started = time.perf_counter()
            for frame in frames:
                tryon_frames(iter([frame]), model, ClassicalEngine(), MaskOptions(), "mask", False, 0, sink)
            tryons = len(frames) / (time.perf_counter() - started)
        else:
            started = time.perf_counter()
            mask_frames(iter(frames), MaskOptions(), True, 0, sink)
            masks = len(frames) / (time.perf_counter() - started)
            started = time.perf_counter()
            tryon_frames(iter(frames), model, ClassicalEngine(), MaskOptions(), "mask", True, 0, sink)
            tryons = len(frames) / (time.perf_counter() - started)
        rows.append((label, len(frames), masks, tryons))
    print(f"{'input':<18}{'items':>6}{'masks/s':>9}{'try-on/s':>10}")
    for label, n, masks, tryons in rows:
        print(f"{label:<18}{n:>6}{masks:>9.2f}{tryons:>10.2f}")
    print("(photos: models loaded for each photo, as a one-off command does; video: loaded once; decode excluded)")


if __name__ == "__main__":
    main()
