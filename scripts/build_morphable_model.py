"""Build the morphable model (tryon_cli/face3d/data/morphable_model.npz) from videos and photos.

Faces are found as the swap finds them (full-range detection, the mesh on each face's crop); every
frame's mesh is pose-normalised against a fixed reference, and each face track of a video (or each
face of a photo: a group photo's every face) is one person. A person's identity is the mean of their
REST frames (lips closed, eyes open, no smile: `morphable.rest_frames`); people with none are left out
of it. Identities give the identity PCA, over the whole face; each frame's residual from its person's
rest identity gives the expression PCA (uncentred: zero expression is the closed, neutral face). Only
these statistics are written: no media, no per-frame mesh.

    python scripts/build_morphable_model.py ../shared/media/faces/*.mp4 path/to/t1.jpg \
        [--out tryon_cli/face3d/data/morphable_model.npz] [--meshes /tmp/meshes.npz]

The shipped file was built with (talking_frontal.mp4 held out: tests/test_morphable.py uses it):

    python scripts/build_morphable_model.py --every 2 --min-face 70 ../shared/media/faces/{talking_head_turns,\
        talking_glasses,talking_gaze_blinks,grimaces_blinks,music_video_turns_720p,\
        movie_several_people_720p,phone_portrait_dance,crowd_1080p}.mp4 ../shared/media/faces/portrait_*.* \
        SITE_PACKAGES/insightface/data/images/t1.jpg

(74 people, 56 of them with rest frames, 1035 meshes.) `--meshes` caches the extracted meshes (a file
under /tmp, never in the repository) so the PCA can be rebuilt with other component counts without
running the face mesh again.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tryon_cli.analysis.tracking import FaceFinder  # noqa: E402
from tryon_cli.face3d import landmarks as lm  # noqa: E402
from tryon_cli.face3d.fitting import frontalize, normalized_shape  # noqa: E402
from tryon_cli.face3d.morphable import MODEL_FILE, REST_GAP, MorphableModel, mirror_partners, rest_frames  # noqa: E402
from tryon_cli.io.media import is_image, load_image  # noqa: E402
from tryon_cli.io.video import iter_frames  # noqa: E402
from tryon_cli.temporal import SceneCutDetector  # noqa: E402


def extract(paths: list[Path], min_face: float, every: int) -> dict[str, list[np.ndarray]]:
    """Meshes per person: '<file>#<track>' -> list of (478, 3) pixel meshes.

    Faces are found as the swap finds them (`FaceFinder`: full-range detection, the mesh fitted on each
    face's crop, tracks cut at scene cuts), so a crowd's small faces and a group photo's each count as a
    person; tracks the finder doubts (near-profiles, not faces) are left out."""
    people: dict[str, list[np.ndarray]] = defaultdict(list)
    for path in paths:
        still = is_image(path)
        frames = [load_image(path).rgb] if still else None
        with FaceFinder(max_faces=32, min_size=24.0, tracking=not still) as finder:
            cuts = SceneCutDetector()
            found: dict[int, list[np.ndarray]] = defaultdict(list)
            images = frames if still else (f.image for f in iter_frames(path, allow_partial=True) if f.index % every == 0)
            for index, image in enumerate(images):  # every Nth frame: the tracker sees them as consecutive
                if not still and cuts(image):
                    finder.reset()
                faces, ids = finder.find(image, index)
                for tid, face in zip(ids, faces):
                    if face.size >= min_face:
                        found[tid].append(face.points)
            doubtful = finder.doubtful() if not still else set()
        for tid, meshes in found.items():
            if tid not in doubtful:
                people[f"{path.name}#{tid}"] = meshes
        print(f"{path.name}: {sum(len(v) for k, v in people.items() if k.startswith(path.name + '#'))} meshes, "
              f"{sum(k.startswith(path.name + '#') for k in people)} people", file=sys.stderr)
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
          max_frames: int, min_frames: int, rest_gap: float) -> tuple[MorphableModel, dict[str, int]]:
    """The model, and per person the rest frames its identity came from (0: left out).

    A person's identity is the mean of their rest frames (`rest_frames`), never of all their frames: a
    talking person's mean has a half-open mouth, and a model whose mean and identities hold it puts every
    face's mouth there when it removes an expression. Expression is each frame's residual from its
    person's rest identity, uncentred, so zero expression is the closed, neutral face and a fitted
    expression removed leaves the person's own lips, mouth width and chin."""
    rests = {k: rest_frames(s, rest_gap) for k, s in shapes.items()}
    identities = {k: shapes[k][r].mean(axis=0) for k, r in rests.items() if r.any()}
    mean = np.mean(list(identities.values()), axis=0)
    region = expression_region(mean)
    residuals = []
    for k, identity in identities.items():
        s = shapes[k]
        if len(s) < min_frames:
            continue  # one photo's expression cannot be told from its identity
        step = max(len(s) // max_frames, 1)
        residuals.append((s[::step] - identity).reshape(len(s[::step]), -1))
    expression_rows = (np.concatenate(residuals).reshape(-1, 478, 3) * region[None, :, None]).reshape(-1, 478 * 3)
    expression_basis, expression_variance, _ = pca(expression_rows, expression_count)
    # Identity spans the whole face, mouth and chin included: a person's rest face holds no expression,
    # so nothing of it is projected out (a smile widens a mouth; a wide mouth at rest is who one is).
    identity_rows = np.stack([(m - mean).reshape(-1) for m in identities.values()])
    identity_count = min(identity_count, len(identity_rows) - 1)
    identity_basis, identity_variance, _ = pca(identity_rows, identity_count)
    # In the expression fit a new person's own shape is the noise: people's rest faces differ by this
    # much per coordinate inside the expression region, so only what moves far more than that is called
    # expression, and a photo keeps the rest of its shape as its own. (The PCAs' leftover, 8e-5, about
    # a tenth of it, made every small difference of a closed mouth an expression: portrait_b's mouth
    # came out 10% narrower than photographed, and a target's constant smile its identity.)
    spread = np.stack([(m - mean) for m in identities.values()])[:, region]
    noise = float(spread.var(axis=0).mean())
    model = MorphableModel(
        mean=mean.astype(np.float32),
        identity_basis=identity_basis.reshape(-1, 478, 3).astype(np.float32),
        identity_variance=identity_variance,
        expression_basis=expression_basis.reshape(-1, 478, 3).astype(np.float32),
        expression_variance=expression_variance,
        noise_variance=max(noise, 1e-8),
        mirror=mirror_partners(mean),
    )
    return model, {k: int(r.sum()) for k, r in rests.items()}


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
    parser.add_argument("--rest-gap", type=float, default=REST_GAP,
                        help="Largest inner-lip gap over mouth width of a rest frame (a person's identity).")
    args = parser.parse_args()
    if args.meshes and args.meshes.exists() and not args.inputs:
        with np.load(args.meshes) as data:
            people = {k: list(data[k]) for k in data.files}
    else:
        people = extract(args.inputs, args.min_face, args.every)
        if args.meshes:
            np.savez_compressed(args.meshes, **{k: np.stack(v) for k, v in people.items()})
    _, shapes = normalise_all(people)
    model, rests = build(shapes, args.identity_components, args.expression_components, args.max_frames,
                         args.min_frames, args.rest_gap)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    model.save(args.out)
    explained = model.expression_variance / model.expression_variance.sum()
    print(f"{sum(n > 0 for n in rests.values())} of {len(shapes)} people have rest frames", file=sys.stderr)
    print(f"{len(shapes)} people, {sum(len(s) for s in shapes.values())} meshes; "
          f"{len(model.identity_basis)} identity, {len(model.expression_basis)} expression components "
          f"(variance shares {np.round(explained, 3).tolist()}); noise {model.noise_variance:.2e} -> {args.out}")


if __name__ == "__main__":
    main()
