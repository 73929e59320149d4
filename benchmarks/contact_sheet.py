"""Contact sheet of face crops from two swaps of the same target (before vs after a change), with |diff| x4.

    python benchmarks/contact_sheet.py BEFORE.mp4 AFTER.mp4 OUT.png [--frames 4] [--label NAME]...

Each row is one frame: the before crop, the after crop and their absolute difference times four (black
means identical); the crop is the face box of the before frame grown by half its size.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from tryon_cli.analysis.face import FaceMeshAnalyzer
from tryon_cli.io.media import write_image
from tryon_cli.io.video import iter_frames

CROP = 256


def pick_frames(path: Path, count: int) -> dict[int, np.ndarray]:
    frames = [f.image for f in iter_frames(path)]
    wanted = np.linspace(0, len(frames) - 1, count).round().astype(int)
    return {int(i): frames[i] for i in wanted}


def face_box(image: np.ndarray, analyzer: FaceMeshAnalyzer) -> tuple[int, int, int, int]:
    faces = analyzer.detect(image)
    h, w = image.shape[:2]
    if not faces:
        return 0, 0, w, h
    points = faces[0].points[:, :2]
    (x0, y0), (x1, y1) = points.min(axis=0), points.max(axis=0)
    side = max(x1 - x0, y1 - y0) * 1.5
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return (int(max(cx - side / 2, 0)), int(max(cy - side / 2, 0)), int(min(cx + side / 2, w)), int(min(cy + side / 2, h)))


def rows_for(before: Path, after: Path, count: int, analyzer: FaceMeshAnalyzer) -> list[np.ndarray]:
    a, b = pick_frames(before, count), pick_frames(after, count)
    rows = []
    for index in a:
        x0, y0, x1, y1 = face_box(a[index], analyzer)
        crops = [cv2.resize(img[y0:y1, x0:x1], (CROP, CROP), interpolation=cv2.INTER_AREA) for img in (a[index], b[index])]
        diff = np.clip(np.abs(a[index][y0:y1, x0:x1].astype(int) - b[index][y0:y1, x0:x1]) * 4, 0, 255).astype(np.uint8)
        crops.append(cv2.resize(diff, (CROP, CROP), interpolation=cv2.INTER_AREA))
        rows.append(np.concatenate(crops, axis=1))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("pairs", nargs="+", type=Path, help="BEFORE AFTER [BEFORE AFTER ...] OUT.png")
    parser.add_argument("--frames", type=int, default=4)
    args = parser.parse_args()
    *videos, out = args.pairs
    if len(videos) % 2:
        raise SystemExit("give BEFORE AFTER pairs, then the output PNG")
    with FaceMeshAnalyzer(1, tracking=False) as analyzer:
        rows = [row for i in range(0, len(videos), 2) for row in rows_for(videos[i], videos[i + 1], args.frames, analyzer)]
    write_image(out, np.concatenate(rows, axis=0))
    print(out)


if __name__ == "__main__":
    main()
