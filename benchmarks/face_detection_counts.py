"""Faces found per frame: full-range detection on tiles against the face mesh's own detector.

For sampled frames of each video (default: the shared crowd and several-people videos) prints the faces
at least --min-width px wide found by the tiled full-range detector, how many of those the face mesh fits
on when given the face's crop (a check that they are faces), the whole-frame full-range detector alone,
the face mesh on still images (whole frame plus square tiles), and the face mesh in tracking mode run on
every frame (what the swap uses today), and the detector's seconds per frame.

    python benchmarks/face_detection_counts.py [VIDEOS...] [--every 15] [--min-width 40]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import av
import cv2

from tryon_cli.analysis.detection import FaceDetector
from tryon_cli.analysis.face import FaceMeshAnalyzer
from tryon_cli.analysis.parsing import crop, crop_box

ROOT = Path(__file__).resolve().parents[1]
FACES = ROOT.parent / "shared" / "media" / "faces"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("videos", nargs="*", type=Path)
    parser.add_argument("--every", type=int, default=15, help="sample one frame in this many")
    parser.add_argument("--min-width", type=int, default=40)
    args = parser.parse_args()
    videos = args.videos or [FACES / "crowd_1080p.mp4", FACES / "movie_several_people_720p.mp4"]
    if not all(v.exists() for v in videos):
        print("videos not found (the shared media folder is absent); pass video paths", file=sys.stderr)
        return 2
    with FaceDetector() as tiled, FaceDetector(tile=None) as whole, \
            FaceMeshAnalyzer(max_faces=20, tracking=False) as still, \
            FaceMeshAnalyzer(max_faces=1, tracking=False) as single:
        for video in videos:
            print(f"{video.name}: frame | tiled full-range | mesh fits the crop | whole-frame full-range | "
                  f"mesh (still + tiles) | mesh (tracking) | s/frame")
            with av.open(str(video)) as container, FaceMeshAnalyzer(max_faces=20, tracking=True) as tracking:
                for index, frame in enumerate(container.decode(video=0)):
                    image = frame.to_ndarray(format="rgb24")
                    tracked = len(tracking.detect(image))  # tracking mode needs every frame in order
                    if index % args.every:
                        continue
                    start = time.perf_counter()
                    found = [f for f in tiled.detect(image) if f.width >= args.min_width]
                    seconds = time.perf_counter() - start
                    fits = sum(bool(single.detect(cv2.resize(crop(image, crop_box(f.box, 2.0)), (256, 256))))
                               for f in found)
                    alone = sum(f.width >= args.min_width for f in whole.detect(image))
                    print(f"  {index:4d} | {len(found):3d} | {fits:3d} | {alone:3d} | {len(still.detect(image)):3d} | "
                          f"{tracked:3d} | {seconds:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
