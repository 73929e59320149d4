"""Which part of a swap's output carries the target's identity: dlib's distances per frame, and with one
region of the output put back to the target's pixels.

For each sampled frame of OUTPUT (a swap of SOURCE onto VIDEO, trimmed alike with --end) dlib's distance of
the output face to the source photo and to the target frame is measured; then again with one region of the
output (from the target's mesh: eyes, brows, nose, lips, the mouth's opening, the face oval's outer band,
its part below the nose, the lower cheeks and chin) replaced by the target frame's pixels. A region whose
return moves the distance to the source up a lot carried the source's identity in the output; one that
moves nothing was the target's already (or does not count). `grey-outside`: the output and the source
photo both with everything outside their face oval grey (the target's hair, ears and backdrop out).
Below 0.6 reads as the same person.

    python benchmarks/identity_regions.py SOURCE VIDEO OUTPUT [--end 2] [--step 2] [--per-frame]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from tryon_cli.analysis.face import FaceMeshAnalyzer
from tryon_cli.analysis.identity import SAME_PERSON_DISTANCE, DlibFaceEncoder, descriptor_distance
from tryon_cli.face3d import landmarks as lm
from tryon_cli.io.media import read_image
from tryon_cli.io.target_media import frames_of
from tryon_cli.masks.shapes import dilate, erode, polygon_mask

NOSE = [6, 48, 64, 98, 97, 2, 326, 327, 294, 278, 168, 197, 195, 5, 4]  # the nose's bridge, tip and wings
NOSE_TIP = 1
GREY = 128
BAND_PER_FACE_WIDTH = 0.16  # the oval's outer band this deep: the blend's feather (0.06 face widths) mixes the
# target in up to about twice its radius inside the outline


def _hull(shape: tuple[int, int], points: np.ndarray) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    cv2.fillConvexPoly(mask, cv2.convexHull(np.round(points[:, :2]).astype(np.int32)), 255)
    return mask


def regions(shape: tuple[int, int], points: np.ndarray) -> dict[str, np.ndarray]:
    """The probed regions (uint8 masks) of a face mesh `points`, and its oval."""
    width = float(np.ptp(points[:, 0]))
    grow = lambda mask, share: dilate(mask, max(int(share * width), 1))  # noqa: E731
    oval = polygon_mask(shape, points[lm.FACE_OVAL])
    lips = polygon_mask(shape, points[lm.OUTER_LIPS])
    band = oval & ~erode(oval, max(int(BAND_PER_FACE_WIDTH * width), 1))
    lower = np.zeros(shape, np.uint8)
    lower[int(points[NOSE_TIP, 1]):] = 255
    return {
        "eyes": grow(polygon_mask(shape, points[lm.RIGHT_EYE]) | polygon_mask(shape, points[lm.LEFT_EYE]), 0.04),
        "brows": grow(_hull(shape, points[lm.RIGHT_BROW]) | _hull(shape, points[lm.LEFT_BROW]), 0.03),
        "nose": grow(_hull(shape, points[NOSE]), 0.02),
        "lips": grow(lips, 0.04),
        "mouth_opening": polygon_mask(shape, points[lm.INNER_LIPS]),
        "band": band,
        "band_below_nose": band & lower,
        "chin_and_low_cheeks": oval & lower & ~grow(lips, 0.04),
        "oval": oval,
    }


def _grey_outside(image: np.ndarray, oval: np.ndarray) -> np.ndarray:
    return np.where(oval[..., None] > 0, image, np.uint8(GREY)).astype(np.uint8)


def probe_frame(encoder: DlibFaceEncoder, output: np.ndarray, target: np.ndarray, out_box, target_face,
                source: np.ndarray, source_grey: np.ndarray) -> dict[str, tuple[float, float]] | None:
    """(to source, to target) per variant of one output frame; None where dlib finds no face."""
    out_d, target_d = encoder.encode(output, out_box), encoder.encode(target, target_face.bbox)
    if out_d is None or target_d is None:
        return None
    figures = {"output": (descriptor_distance(out_d, source), descriptor_distance(out_d, target_d))}
    masks = regions(target.shape[:2], target_face.points)
    for name, mask in masks.items():
        if name == "oval":
            continue
        mixed = np.ascontiguousarray(np.where(mask[..., None] > 0, target, output).astype(np.uint8))
        d = encoder.encode(mixed, out_box)
        figures[f"target's {name}"] = (descriptor_distance(d, source), descriptor_distance(d, target_d))
    grey_out = encoder.encode(_grey_outside(output, masks["oval"]), out_box)
    grey_target = encoder.encode(_grey_outside(target, masks["oval"]), target_face.bbox)
    figures["grey-outside"] = (descriptor_distance(grey_out, source_grey), descriptor_distance(grey_out, grey_target))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", type=Path)
    parser.add_argument("video", type=Path)
    parser.add_argument("output", type=Path)
    parser.add_argument("--end", type=float, default=2.0, help="The output covers the video's first N seconds.")
    parser.add_argument("--step", type=int, default=2, help="Every Nth frame is probed.")
    parser.add_argument("--per-frame", action="store_true", help="Also print each frame's distances.")
    args = parser.parse_args()
    encoder = DlibFaceEncoder()
    photo = read_image(args.source)
    targets, outputs = list(frames_of(args.video, None, args.end)), list(frames_of(args.output))
    rows: dict[str, list[tuple[float, float]]] = {}
    per_frame = []
    with FaceMeshAnalyzer(1, tracking=False) as mesh:
        face = mesh.detect(photo)[0]
        source = encoder.encode(photo, face.bbox)
        source_grey = encoder.encode(_grey_outside(photo, polygon_mask(photo.shape[:2], face.points[lm.FACE_OVAL])),
                                     face.bbox)
        for i in range(0, min(len(targets), len(outputs)), args.step):
            target, output = np.ascontiguousarray(targets[i].image), np.ascontiguousarray(outputs[i].image)
            found_target, found_output = mesh.detect(target), mesh.detect(output)
            if not found_target or not found_output:
                continue
            figures = probe_frame(encoder, output, target, found_output[0].bbox, found_target[0], source, source_grey)
            if figures is None:
                continue
            for name, pair in figures.items():
                rows.setdefault(name, []).append(pair)
            per_frame.append((i, figures["output"]))
    print(f"{args.source.stem} -> {args.video.stem}: {len(per_frame)} frames")
    if args.per_frame:
        print("frame:to source/to target " + " ".join(f"{i}:{s:.2f}/{t:.2f}" for i, (s, t) in per_frame))
    base = np.array(rows["output"])
    print(f"{'variant':<28}{'to src':>8}{'to tgt':>8}{'same':>6}{'closer':>7}{'d src':>7}{'d tgt':>7}")
    for name, pairs in rows.items():
        v = np.array(pairs)
        print(f"{name:<28}{v[:, 0].mean():>8.3f}{v[:, 1].mean():>8.3f}{np.mean(v[:, 0] < SAME_PERSON_DISTANCE):>6.2f}"
              f"{np.mean(v[:, 0] < v[:, 1]):>7.2f}{(v[:, 0] - base[:, 0]).mean():>+7.3f}{(v[:, 1] - base[:, 1]).mean():>+7.3f}")


if __name__ == "__main__":
    main()
