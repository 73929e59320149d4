"""Build the morphable model (tryon_cli/face3d/data/morphable_model.npz) from videos and photos.

Every frame's MediaPipe mesh is pose-normalised against a fixed reference; each face track of a video
(or each face of a photo) is one person. Per-person means give the identity PCA, per-frame residuals
from the person's mean give the expression PCA (mouth, smiles, brows, blinks, gaze). Only these
statistics are written: no media, no per-frame mesh.

    python scripts/build_morphable_model.py ../shared/media/faces/*.mp4 path/to/t1.jpg \
        [--out tryon_cli/face3d/data/morphable_model.npz] [--meshes /tmp/meshes.npz]

The shipped file was built with (talking_frontal.mp4 held out: tests/test_morphable.py uses it):

    python scripts/build_morphable_model.py --every 2 ../shared/media/faces/{talking_head_turns,\
        talking_glasses,talking_gaze_blinks,grimaces_blinks,music_video_turns_720p,\
        movie_several_people_720p,phone_portrait_dance}.mp4 SITE_PACKAGES/insightface/data/images/t1.jpg

`--meshes` caches the extracted meshes (a file under /tmp, never in the repository) so the PCA can
be rebuilt with other component counts without running the face mesh again.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tryon_cli.analysis.face import FaceMeshAnalyzer, FaceTracker  # noqa: E402
from tryon_cli.face3d import landmarks as lm  # noqa: E402
from tryon_cli.face3d.fitting import frontalize, normalized_shape  # noqa: E402
from tryon_cli.face3d.morphable import MODEL_FILE, MorphableModel, mirror_partners  # noqa: E402
from tryon_cli.io.media import is_image, load_image  # noqa: E402
from tryon_cli.io.video import iter_frames  # noqa: E402
from tryon_cli.temporal import SceneCutDetector  # noqa: E402


def extract(paths: list[Path], min_face: float, every: int) -> dict[str, list[np.ndarray]]:
    """Meshes per person: '<file>#<track>' -> list of (478, 3) pixel meshes."""
    people: dict[str, list[np.ndarray]] = defaultdict(list)
    for path in paths:
        if is_image(path):
            with FaceMeshAnalyzer(max_faces=16, tracking=False) as analyzer:
                for i, face in enumerate(analyzer.detect(load_image(path).rgb)):
                    if face.size >= min_face:
                        people[f"{path.name}#{i}"].append(face.points)
            continue
        tracker, cuts = FaceTracker(), SceneCutDetector()
        with FaceMeshAnalyzer(max_faces=4, tracking=True) as analyzer:
            for frame in iter_frames(path, allow_partial=True):
                if frame.index % every:
                    continue
                if cuts(frame.image):
                    tracker.reset()
                faces = analyzer.detect(frame.image)
                for tid, face in zip(tracker.assign(faces), faces):
                    if face.size >= min_face:
                        people[f"{path.name}#{tid}"].append(face.points)
        print(f"{path.name}: {sum(len(v) for k, v in people.items() if k.startswith(path.name + '#'))} meshes",
              file=sys.stderr)
    return people


def normalise_all(people: dict[str, list[np.ndarray]]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """A fixed reference (the frontalised mean face, two refinements) and every mesh normalised to it."""
    reference = frontalize(next(iter(people.values()))[0])
    for _ in range(3):
        shapes = {k: np.stack([normalized_shape(reference, p)[1] for p in v]) for k, v in people.items()}
        reference = frontalize(np.mean([s.mean(axis=0) for s in shapes.values()], axis=0))
    shapes = {k: np.stack([normalized_shape(reference, p)[1] for p in v]) for k, v in people.items()}
    return reference, shapes


def pca(rows: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Top `count` principal directions of zero-mean rows, their variances, and the leftover per-coordinate variance."""
    _, singular, vt = np.linalg.svd(rows, full_matrices=False)
    variance = singular**2 / max(len(rows) - 1, 1)
    leftover = float(variance[count:].sum() / rows.shape[1])
    return vt[:count], variance[:count], leftover


def expression_region(mean: np.ndarray) -> np.ndarray:
    """Points an expression moves and a person's identity barely does: lips, jaw and chin, brows.

    Eyelids stay out (how open a person's eyes are at rest is identity; blinks reach the output
    from the target through the eye gains), and so do the nose, eye corners and face outline above
    the mouth, so neutralising never reshapes them.
    """
    nose_bottom = mean[2, 1]
    lower = mean[:, 1] > nose_bottom + 0.05
    region = lower.copy()
    region[np.concatenate([lm.RIGHT_BROW, lm.LEFT_BROW])] = True
    return region


def build(shapes: dict[str, np.ndarray], identity_count: int, expression_count: int,
          max_frames: int, min_frames: int) -> MorphableModel:
    means = {k: s.mean(axis=0) for k, s in shapes.items()}
    mean = np.mean(list(means.values()), axis=0)
    region = expression_region(mean)
    residuals = []
    for k, s in shapes.items():
        if len(s) < min_frames:
            continue  # one photo's expression cannot be told from its identity
        step = max(len(s) // max_frames, 1)
        residuals.append((s[::step] - means[k]).reshape(len(s[::step]), -1))
    expression_rows = (np.concatenate(residuals).reshape(-1, 478, 3) * region[None, :, None]).reshape(-1, 478 * 3)
    expression_basis, expression_variance, _ = pca(expression_rows, expression_count)
    # In the expression fit a new person's own shape is the noise: people differ by this much per
    # coordinate inside the region, so only what moves far more than that is called expression.
    spread = np.stack([(m - mean) for m in means.values()])[:, region]
    noise = float(spread.var(axis=0).mean())
    # A person's mean still holds their average expression (a singer's open mouth, one photo's smile):
    # identity is what is left of the means outside the expression space, so the two never compete.
    identity_rows = np.stack([(m - mean).reshape(-1) for m in means.values()])
    identity_rows -= (identity_rows @ expression_basis.T) @ expression_basis
    identity_count = min(identity_count, len(identity_rows) - 1)
    identity_basis, identity_variance, _ = pca(identity_rows, identity_count)
    return MorphableModel(
        mean=mean.astype(np.float32),
        identity_basis=identity_basis.reshape(-1, 478, 3).astype(np.float32),
        identity_variance=identity_variance,
        expression_basis=expression_basis.reshape(-1, 478, 3).astype(np.float32),
        expression_variance=expression_variance,
        noise_variance=max(noise, 1e-8),
        mirror=mirror_partners(mean),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("inputs", nargs="*", type=Path, help="Videos and photos of faces.")
    parser.add_argument("--out", type=Path, default=MODEL_FILE)
    parser.add_argument("--meshes", type=Path, default=None, help="Cache of the extracted meshes (npz).")
    parser.add_argument("--identity-components", type=int, default=12)
    parser.add_argument("--expression-components", type=int, default=12)
    parser.add_argument("--min-face", type=float, default=90.0, help="Smallest face width in pixels to use.")
    parser.add_argument("--every", type=int, default=1, help="Use every Nth video frame.")
    parser.add_argument("--max-frames", type=int, default=200, help="Most frames per person in the expression PCA.")
    parser.add_argument("--min-frames", type=int, default=20, help="Fewest frames for a person's residuals to count.")
    args = parser.parse_args()
    if args.meshes and args.meshes.exists() and not args.inputs:
        with np.load(args.meshes) as data:
            people = {k: list(data[k]) for k in data.files}
    else:
        people = extract(args.inputs, args.min_face, args.every)
        if args.meshes:
            np.savez_compressed(args.meshes, **{k: np.stack(v) for k, v in people.items()})
    _, shapes = normalise_all(people)
    model = build(shapes, args.identity_components, args.expression_components, args.max_frames, args.min_frames)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    model.save(args.out)
    explained = model.expression_variance / model.expression_variance.sum()
    print(f"{len(shapes)} people, {sum(len(s) for s in shapes.values())} meshes; "
          f"{len(model.identity_basis)} identity, {len(model.expression_basis)} expression components "
          f"(variance shares {np.round(explained, 3).tolist()}); noise {model.noise_variance:.2e} -> {args.out}")


if __name__ == "__main__":
    main()
