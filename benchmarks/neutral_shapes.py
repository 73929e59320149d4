"""What neutralising does to each shared portrait's lower face: mouth width, lip thickness, chin length and
lip gap (inner-lip gap over mouth width), source -> neutralised, per morphable model file.

A neutral face has closed lips and keeps its own mouth, lips and chin. talking_frontal.mp4 (held out of
the shipped model) adds its median frame, its most closed and most open frames, and the spread of the
measures over its first 4 s neutralised frame by frame (a person's neutral face should not move).

    python benchmarks/neutral_shapes.py [MODEL.npz ...]   (default: the shipped model)
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import SHARED_MEDIA  # noqa: E402

from tryon_cli.analysis.face import FaceMeshAnalyzer  # noqa: E402
from tryon_cli.face3d import landmarks as lm  # noqa: E402
from tryon_cli.face3d.fitting import frontalize, normalized_shape  # noqa: E402
from tryon_cli.face3d.morphable import MODEL_FILE, MorphableModel  # noqa: E402
from tryon_cli.io.media import read_image  # noqa: E402
from tryon_cli.io.video import iter_frames  # noqa: E402

PORTRAITS = ["portrait_a.png", "portrait_b.png", "portrait_c.png", "portrait_side_light.jpg", "portrait_glasses.jpg",
             "portrait_anger.png", "portrait_fringe_laughing.jpg", "portrait_wink_hand.jpg"]


def measures(shape: np.ndarray) -> tuple[float, float, float, float]:
    """Mouth width, lip thickness, chin length (eye distances) and the lips' gap over the mouth's width."""
    width = float(np.linalg.norm(shape[61, :2] - shape[291, :2]))
    lips = float((shape[13, 1] - shape[0, 1]) + (shape[17, 1] - shape[14, 1]))
    return width, lips, float(shape[lm.CHIN, 1] - shape[17, 1]), lm.mouth_open_ratio(shape)


def main() -> None:
    faces = SHARED_MEDIA / "faces"
    if not faces.exists():
        raise SystemExit(f"{faces} not found: this benchmark needs the shared media")
    models = [Path(p) for p in sys.argv[1:]] or [MODEL_FILE]
    shapes: dict[str, np.ndarray] = {}
    with FaceMeshAnalyzer(1, tracking=False) as analyzer:
        for name in PORTRAITS:
            found = analyzer.detect(read_image(faces / name))
            if found:
                shapes[name] = normalized_shape(frontalize(found[0].points), found[0].points)[1]
    with FaceMeshAnalyzer(1, tracking=True) as analyzer:
        meshes = [f[0].points for f in (analyzer.detect(fr.image) for fr in iter_frames(faces / "talking_frontal.mp4", end=4.0)) if f]
    reference = frontalize(meshes[0])
    frames = np.stack([normalized_shape(reference, m)[1] for m in meshes])
    gaps = np.array([lm.mouth_open_ratio(s) for s in frames])
    shapes["talking_frontal median"] = np.median(frames, axis=0)
    shapes["talking_frontal closed"] = frames[np.argmin(gaps)]
    shapes["talking_frontal open"] = frames[np.argmax(gaps)]
    for path in models:
        model = MorphableModel.load(path)
        print(f"\n{path}: {len(model.identity_basis)} identity, {len(model.expression_basis)} expression components; "
              f"mean lip gap {lm.mouth_open_ratio(model.mean):.3f}")
        print(f"{'face':<28}" + "".join(f"{k:>17}" for k in ("mouth width", "lips", "chin", "lip gap")))
        for name, shape in shapes.items():
            before, after = measures(shape), measures(model.neutralise(shape))
            print(f"{name:<28}" + "".join(f"{b:>8.3f} ->{a:>6.3f}" for b, a in zip(before, after)))
        raw = np.array([measures(s) for s in frames])
        neutral = np.array([measures(model.neutralise(s)) for s in frames])
        print(f"{'talking_frontal spread':<28}" + "".join(f"{b:>8.3f} ->{a:>6.3f}" for b, a in zip(raw.std(axis=0), neutral.std(axis=0))))


if __name__ == "__main__":
    main()
