"""Make the demo's inputs from images that ship inside installed packages (nothing is committed).

- target: skimage's astronaut photo animated into a short talking video with audio;
- source: the most frontal colour face of insightface's group photo (t1.jpg), cropped with its hair
  (the package's other portrait is a 112-pixel black-and-white face: a poor first impression).
"""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

import numpy as np
from skimage import data

from tryon_cli.analysis.face import FaceMeshAnalyzer
from tryon_cli.analysis.parsing import crop, crop_box
from tryon_cli.face3d import landmarks as lm
from tryon_cli.faceswap.synthetic import synthetic_talking_video
from tryon_cli.io.media import read_image, write_image

SOURCE_CROP_SCALE = 2.0  # face box side to crop side: the face, its hair and some shoulders


def insightface_image(name: str) -> Path | None:
    spec = importlib.util.find_spec("insightface")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "data" / "images" / name
    return path if path.exists() else None


def frontal_face_crop(image: np.ndarray) -> np.ndarray:
    """The crop of the face that looks most straight at the camera (nose tip nearest the eyes' midline)."""
    with FaceMeshAnalyzer(max_faces=8, tracking=False) as analyzer:
        faces = analyzer.detect(image)
    if not faces:
        raise SystemExit("no face found in the group photo")

    def turn(points: np.ndarray) -> float:
        right, left = points[lm.RIGHT_EYE_CORNERS[0], :2], points[lm.LEFT_EYE_CORNERS[1], :2]
        return abs(float(points[1, 0] - (right[0] + left[0]) / 2)) / max(float(np.linalg.norm(left - right)), 1.0)

    best = min(faces, key=lambda f: turn(f.points))
    return crop(image, crop_box(best.bbox, SOURCE_CROP_SCALE, image.shape))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folder", type=Path, nargs="?", default=Path(__file__).parent / "inputs")
    parser.add_argument("--seconds", type=float, default=4.0)
    args = parser.parse_args()
    args.folder.mkdir(parents=True, exist_ok=True)
    target = args.folder / "astronaut_talking.mp4"
    if not target.exists():
        synthetic_talking_video(data.astronaut(), target, seconds=args.seconds, fps=25)
    group = insightface_image("t1.jpg")
    if group is None:
        raise SystemExit("the insightface package is not installed: pip install --no-deps insightface")
    write_image(args.folder / "source.png", frontal_face_crop(read_image(group)))
    print(target)
    print(args.folder / "source.png")


if __name__ == "__main__":
    main()
