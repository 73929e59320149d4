"""The issue's mask bars on every shared try-on video: per frame, whether a person is visible, the mask's
coverage of the reference agnostic mask (where one exists), its area against the reference, and mask
pixels on the face or the feet. Optionally writes contact sheets (frame | mask overlay | reference).

    python benchmarks/tryon_mask_bars.py [--sheets DIR] [--every N]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import SHARED_MEDIA  # noqa: E402

VIDEOS = (("upper1.mp4", "upper", "upper1_reference_mask.mp4"), ("upper_body_suit.mp4", "upper", None),
          ("full_body_dance.mp4", "upper", None), ("full_body_dance.mp4", "lower", None))


def face_region(faces, image: np.ndarray) -> np.ndarray:
    """The face mesh's lips-to-brows hull (chin excluded: the mask may touch under the chin)."""
    region = np.zeros(image.shape[:2], np.uint8)
    for face in faces.detect(image):
        points = face.points[:, :2]
        # mesh points above the lower lip's bottom (index 17) and below the brows
        keep = points[:, 1] <= points[17, 1]
        cv2.fillConvexPoly(region, cv2.convexHull(np.round(points[keep]).astype(np.int32)), 255)
    return region


def feet_region(body, shape) -> np.ndarray:
    from tryon_cli.analysis import body as bp

    region = np.zeros(shape, np.uint8)
    if body.source == "pose":
        feet = body.visible((bp.LEFT_HEEL, bp.RIGHT_HEEL, bp.LEFT_FOOT_INDEX, bp.RIGHT_FOOT_INDEX)) \
            if hasattr(bp, "LEFT_HEEL") else body.visible((29, 30, 31, 32))
        for point in feet:
            cv2.circle(region, tuple(int(v) for v in point), 4, 255, -1)
    return region


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sheets", type=Path)
    parser.add_argument("--every", type=int, default=12)
    parser.add_argument("--only", default="")
    parser.add_argument("--verbose", action="store_true", help="Print each frame under the coverage bar.")
    args = parser.parse_args()
    from tryon_cli.analysis.face import FaceMeshAnalyzer
    from tryon_cli.garments.planner import FrameMasker
    from tryon_cli.io.media import write_image
    from tryon_cli.io.video import iter_frames
    from tryon_cli.masks.garment import MaskOptions, overlay

    folder = SHARED_MEDIA / "tryon" / "video"
    if not folder.exists():
        print(f"shared media not found: {folder}")
        return
    print(f"{'video':<22}{'cat':<6}{'frames':>7}{'person':>7}{'masked':>7}{'min cov':>8}{'area/ref':>9}"
          f"{'face px':>8}{'feet px':>8}")
    for name, category, reference_name in VIDEOS:
        if args.only and args.only not in name:
            continue
        refs = [f.image[..., 0] > 127 for f in iter_frames(folder / reference_name)] if reference_name else None
        masker = FrameMasker(MaskOptions(category=category), tracking=True)
        coverage, ratios, face_px, feet_px, person, masked, tiles = [], [], 0, 0, 0, 0, []
        with FaceMeshAnalyzer(1, tracking=False) as faces:
            for frame in iter_frames(folder / name):
                body, mask, source = masker(frame)
                result = mask.mask if mask is not None else np.zeros(frame.image.shape[:2], np.uint8)
                visible = bool(body.person.mean() > 0.01)
                person += visible
                masked += result.any()
                face_px += int(((result > 0) & (face_region(faces, frame.image) > 0)).sum())
                feet_px += int(((result > 0) & (feet_region(body, result.shape) > 0)).sum())
                if refs is not None and frame.index < len(refs) and refs[frame.index].any() and visible:
                    ref = refs[frame.index]
                    coverage.append(float((result > 0)[ref].mean()))
                    if args.verbose and coverage[-1] < 0.97:
                        print(f"  frame {frame.index}: coverage {coverage[-1]:.3f} source {source} "
                              f"person {body.person.mean() / 255:.3f}")
                    ratios.append(float((result > 0).sum() / ref.sum()))
                if args.sheets and frame.index % args.every == 0:
                    tile = [frame.image, overlay(frame.image, result)]
                    if refs is not None and frame.index < len(refs):
                        tile.append(overlay(frame.image, refs[frame.index].astype(np.uint8) * 255, (40, 200, 40)))
                    tile = np.concatenate(tile, 1)
                    cv2.putText(tile, f"{frame.index} {source}", (5, 25), 0, 0.8, (255, 255, 0), 2)
                    tiles.append(cv2.resize(tile, (tile.shape[1] * 300 // tile.shape[0], 300)))
        masker.close()
        print(f"{name:<22}{category:<6}{'':>7}{person:>7}{masked:>7}"
              f"{(min(coverage) if coverage else float('nan')):>8.3f}"
              f"{(np.median(ratios) if ratios else float('nan')):>9.2f}{face_px:>8}{feet_px:>8}")
        if args.sheets and tiles:
            args.sheets.mkdir(parents=True, exist_ok=True)
            rows = [np.concatenate(tiles[i : i + 3], 1) for i in range(0, len(tiles) - len(tiles) % 3 or len(tiles), 3)]
            width = max(r.shape[1] for r in rows)
            rows = [np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0))) for r in rows]
            write_image(args.sheets / f"{Path(name).stem}_{category}.png", np.concatenate(rows, 0))


if __name__ == "__main__":
    main()
