"""Face parser: a contact sheet to look at, and the time per crop at several input sizes.

For every image given (default: the shared portraits), the face mesh finds the face, the parser labels
a CelebAMask-HQ-style crop around it, and one row shows crop | colourised labels | overlay. Then every
crop is parsed at each --sizes value on one thread, and the time per crop is printed with its ratio to
the largest size measured in the same run.

    python benchmarks/parser_sheet.py [IMAGES...] [-o benchmarks/out/parsing_sheet.png] [--sizes 512 448 320 256]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from tryon_cli.analysis.face import FaceMeshAnalyzer
from tryon_cli.analysis.parsing import CLASSES, PALETTE, FaceParser, crop, crop_box

ROOT = Path(__file__).resolve().parents[1]
ROW = 256


def legend(width: int) -> np.ndarray:
    """Class names on their colours, wrapped to `width`."""
    cell_w, cell_h = 128, 22
    per_row = max(width // cell_w, 1)
    rows = -(-len(CLASSES) // per_row)
    out = np.full((rows * cell_h, width, 3), 255, np.uint8)
    for i, name in enumerate(CLASSES):
        r, c = divmod(i, per_row)
        x, y = c * cell_w, r * cell_h
        colour = tuple(int(v) for v in PALETTE[i])
        cv2.rectangle(out, (x + 2, y + 3), (x + 18, y + 19), colour, -1)
        cv2.rectangle(out, (x + 2, y + 3), (x + 18, y + 19), (0, 0, 0), 1)
        cv2.putText(out, name, (x + 22, y + 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("images", nargs="*", type=Path)
    parser.add_argument("-o", "--output", type=Path, default=ROOT / "benchmarks" / "out" / "parsing_sheet.png")
    parser.add_argument("--size", type=int, default=448, help="parser input size for the sheet")
    parser.add_argument("--sizes", type=int, nargs="*", default=[512, 448, 320, 256], help="sizes to time")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    images = args.images or sorted((ROOT.parent / "shared" / "media" / "faces").glob("portrait_*"))
    if not images:
        print("no images (the shared media folder is absent); pass image paths", file=sys.stderr)
        return 2
    torch.set_num_threads(1)
    face_parser = FaceParser.load(size=args.size)
    crops, rows = [], []
    with FaceMeshAnalyzer(max_faces=1, tracking=False) as mesh:
        for path in images:
            image = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
            faces = mesh.detect(image)
            box = crop_box(faces[0].bbox, image_shape=image.shape) if faces else (0, 0, image.shape[1], image.shape[0])
            face = crop(image, box)
            crops.append(face)
            labels = face_parser.parse(face)
            colour = labels.colourise()
            overlay = (0.55 * face + 0.45 * colour).astype(np.uint8)
            row = np.hstack([cv2.resize(v, (ROW, ROW), interpolation=cv2.INTER_AREA if v.shape[0] > ROW
                                        else cv2.INTER_NEAREST) for v in (face, colour, overlay)])
            cv2.putText(row, path.name + ("" if faces else " (no face found: whole image)"), (6, 18),
                        cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 0), 1, cv2.LINE_AA)
            rows.append(row)
    sheet = np.vstack([*rows, legend(rows[0].shape[1])])
    args.output.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.output), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
    print(args.output)

    # the best of the repeats per crop, averaged over crops: other processes on the machine only ever
    # add time, so the minimum is the steadiest estimate of the parser's own cost
    print(f"time per crop, one thread, best of {args.repeats} per crop, mean over {len(crops)} crops "
          f"(ratio to {max(args.sizes)} px):")
    timings = {}
    for size in args.sizes:
        face_parser.parse(crops[0], size)  # warm-up
        best = []
        for face in crops:
            runs = []
            for _ in range(args.repeats):
                start = time.perf_counter()
                face_parser.parse(face, size)
                runs.append(time.perf_counter() - start)
            best.append(min(runs))
        timings[size] = float(np.mean(best))
    base = timings[max(timings)]
    for size, seconds in timings.items():
        print(f"  {size:4d} px: {seconds * 1000:6.0f} ms  ({seconds / base:.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
