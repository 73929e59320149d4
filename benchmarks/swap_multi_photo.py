"""Several source photos against one: frames of one person from a shared video serve as the "selfies".

The photos are frames of PHOTOS_VIDEO spread over its head turns (most frontal first); each target is
swapped with the first photo alone and with all of them, and both outputs are scored by `tryon eval
swap` against the first photo. Photos are written to a temporary folder, never to the repository.

    python benchmarks/swap_multi_photo.py [--photos-video talking_head_turns.mp4] [--count 5]
        [--targets talking_gaze_blinks.mp4 grimaces_blinks.mp4] [--end 2]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import OUT, SHARED_MEDIA, run_measured, tryon  # noqa: E402


def pick_photos(video: Path, count: int, folder: Path) -> list[Path]:
    """`count` frames spread over the video's head turns (yaw), the most frontal first."""
    from tryon_cli.analysis.face import FaceMeshAnalyzer
    from tryon_cli.face3d.fitting import frontalize, normalized_shape
    from tryon_cli.io.media import write_image
    from tryon_cli.io.video import iter_frames

    frames, yaws, reference = [], [], None
    with FaceMeshAnalyzer(1, tracking=True) as analyzer:
        for frame in iter_frames(video):
            if frame.index % 3:
                continue
            faces = analyzer.detect(frame.image)
            if not faces:
                continue
            reference = reference if reference is not None else frontalize(faces[0].points)
            pose, _ = normalized_shape(reference, faces[0].points)
            frames.append(frame.image)
            yaws.append(pose.euler_degrees()[0])
    yaws = np.array(yaws)
    frontal = int(np.argmin(np.abs(yaws - np.median(yaws))))
    wanted = np.quantile(yaws, np.linspace(0.05, 0.95, count - 1))
    chosen = [frontal] + [int(np.argmin(np.abs(yaws - w))) for w in wanted]
    paths = []
    for i, index in enumerate(chosen):
        path = folder / f"photo_{i}.png"
        write_image(path, frames[index])
        paths.append(path)
    print(f"photos at yaw {[round(float(yaws[i]), 1) for i in chosen]}", file=sys.stderr)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos-video", default="talking_head_turns.mp4")
    parser.add_argument("--count", type=int, default=5)
    parser.add_argument("--targets", nargs="*", default=["talking_gaze_blinks.mp4", "grimaces_blinks.mp4"])
    parser.add_argument("--end", type=float, default=2.0)
    args = parser.parse_args()
    faces = SHARED_MEDIA / "faces"
    if not faces.exists():
        raise SystemExit(f"{faces} not found: this benchmark needs the shared media")
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        photos = pick_photos(faces / args.photos_video, args.count, Path(tmp))
        for target in args.targets:
            for label, sources in (("one photo", photos[:1]), (f"{len(photos)} photos", photos)):
                out = OUT / f"multi_{len(sources)}_{Path(target).stem}.mp4"
                run_measured(tryon("swap", *map(str, sources), str(faces / target), "-o", str(out), "--overwrite", "-q",
                                   "--end", str(args.end)))
                _, _, stdout = run_measured(tryon("eval", "swap", str(photos[0]), str(faces / target), str(out), "-q",
                                                  "--json", "--end", str(args.end)))
                report = json.loads(stdout)
                print(json.dumps({
                    "target": target, "sources": label,
                    "same_person": report["identity"]["same_person_rate"],
                    "distance_to_source": round(report["identity"]["distance_to_source"]["median"], 3),
                    "mouth_corr": report["expression"]["mouth_open_correlation"],
                    "pose_err": report["pose_error_degrees"]["median"],
                    "delta_e": report["cheek_delta_e"]["median"],
                    "flicker": report["flicker_ratio"],
                }), flush=True)


if __name__ == "__main__":
    main()
