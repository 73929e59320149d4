"""Make the demo's inputs from images that ship inside installed packages (nothing is committed).

- target: skimage's astronaut photo animated into a short talking video with audio;
- sources: the sample portraits inside the insightface package (Tom Hanks; t1.jpg).
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
from pathlib import Path

from skimage import data

from tryon_cli.faceswap.synthetic import synthetic_talking_video


def insightface_image(name: str) -> Path | None:
    spec = importlib.util.find_spec("insightface")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "data" / "images" / name
    return path if path.exists() else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folder", type=Path, nargs="?", default=Path(__file__).parent / "inputs")
    parser.add_argument("--seconds", type=float, default=4.0)
    args = parser.parse_args()
    args.folder.mkdir(parents=True, exist_ok=True)
    target = args.folder / "astronaut_talking.mp4"
    if not target.exists():
        synthetic_talking_video(data.astronaut(), target, seconds=args.seconds, fps=25)
    source = insightface_image("Tom_Hanks_54745.png")
    if source is None:
        raise SystemExit("the insightface package is not installed: pip install --no-deps insightface")
    shutil.copyfile(source, args.folder / "source.png")
    print(target)
    print(args.folder / "source.png")


if __name__ == "__main__":
    main()
