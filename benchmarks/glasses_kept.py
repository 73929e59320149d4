"""The target's glasses kept by a swap: the share of the target's glasses pixels (face parser class)
that are glasses in the output too, on sampled frames, with parsing on and off.

    python benchmarks/glasses_kept.py [--portraits portrait_a.png ...] [--videos talking_glasses.mp4] [--end 3]

Both frames are cropped with the target's face box and parsed at 448 px; kept = |G_target & G_output| /
|G_target|, summed over the sampled frames. The bar (issue 14): at least 0.9 on the glasses videos.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import OUT, SHARED_MEDIA, run_measured, tryon  # noqa: E402

CONFIGS = {"parsing": ["--parsing"], "no-parsing": []}


def kept_fraction(target: Path, output: Path, samples: int) -> float:
    from tryon_cli.analysis.face import FaceMeshAnalyzer
    from tryon_cli.analysis.parsing import FaceParser, crop, crop_box
    from tryon_cli.io.video import iter_frames

    parser = FaceParser.load(size=448)
    analyser = FaceMeshAnalyzer(tracking=False)
    targets = list(iter_frames(target))
    outputs = list(iter_frames(output))
    count = min(len(targets), len(outputs))
    hit = total = 0
    for index in np.linspace(0, count - 1, samples).round().astype(int):
        image = targets[index].image
        faces = analyser.detect(image)
        if not faces:
            continue
        box = crop_box(max(faces, key=lambda f: f.area).bbox, image_shape=image.shape)
        before = parser.parse(crop(image, box)).mask("eyeglasses")
        after = parser.parse(crop(outputs[index].image, box)).mask("eyeglasses")
        hit += int((before & after).sum())
        total += int(before.sum())
    return hit / max(total, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--portraits", nargs="*", default=["portrait_a.png", "portrait_b.png", "portrait_glasses.jpg"])
    parser.add_argument("--videos", nargs="*", default=["talking_glasses.mp4"])
    parser.add_argument("--end", type=float, default=3.0)
    parser.add_argument("--samples", type=int, default=6)
    parser.add_argument("--configs", nargs="*", default=list(CONFIGS))
    args = parser.parse_args()
    faces = SHARED_MEDIA / "faces"
    if not faces.exists():
        raise SystemExit(f"{faces} not found: this benchmark needs the shared media")
    OUT.mkdir(parents=True, exist_ok=True)
    for video in args.videos:
        target = OUT / f"{Path(video).stem}_first{args.end:g}s.mp4"
        if not target.exists():
            from tryon_cli.benchmarking import rescale_video

            rescale_video(faces / video, target, None, args.end)
        for portrait in args.portraits:
            row = {"video": video, "portrait": portrait}
            for name in args.configs:
                out = OUT / f"glasses_{Path(portrait).stem}_{Path(video).stem}_{name}.mp4"
                run_measured(tryon("swap", str(faces / portrait), str(target), "-o", str(out), "--overwrite", "-q",
                                   *CONFIGS[name]))
                row[name] = round(kept_fraction(target, out, args.samples), 3)
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
