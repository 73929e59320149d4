"""Face swap quality on ../shared/media/faces: each portrait onto each talking video, with ablations.

Configurations: the default pipeline; a naive baseline (per-frame 2D warp onto the target's landmarks,
Poisson blend, no colour match, no smoothing, no occlusion or mouth masks); and the default with one
part off at a time (3D split, colour matching, smoothing, source neutralisation, chroma weighting, grain
matching, detail restoration, shaving a bearded target's chin) or one opt-in part on (grain, gaze, relight, source delighting, evening a source's side light, the
target's creases, the face parser's masks, the source clean-up `clean`) or other eyes: the source's
irises following the target's glances (follow-eyes) or as photographed (source-eyes). Each output is
scored by `tryon eval swap`.

    python benchmarks/swap_quality.py [--end 8] [--configs full naive no-3d no-colour no-smooth no-neutralise]
        [--portraits portrait_a.png] [--videos talking_frontal.mp4] [--sheets DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import OUT, SHARED_MEDIA, run_measured, tryon  # noqa: E402

CONFIGS = {
    "full": [],
    "naive": ["--2d", "--no-colour-match", "--blend", "poisson", "--smooth", "0", "--no-occlusion", "--no-mouth-mask", "--no-shave"],
    "no-3d": ["--2d"],
    "no-colour": ["--no-colour-match"],
    "no-smooth": ["--smooth", "0"],
    "no-neutralise": ["--no-neutralise"],
    "no-chroma": ["--no-chroma-weight"],
    "no-grain": ["--no-match-grain"],
    "grain": ["--grain"],
    "follow-eyes": ["--eyes", "follow"],
    "gaze": ["--eyes", "gaze"],
    "source-eyes": ["--eyes", "source"],
    "relight": ["--relight"],
    "delight": ["--delight"],
    "even-light": ["--even-light"],
    "no-detail": ["--no-restore-detail"],
    "creases": ["--target-creases"],
    "parsing": ["--parsing"],
    "clean": ["--clean-source"],
    "no-clean": ["--no-clean-source"],
    "no-shave": ["--no-shave"],
}


def score(report: dict) -> dict:
    identity = report["identity"]
    return {
        "same_person": identity["same_person_rate"],
        "closer_to_source": identity["closer_to_source_rate"],
        "same_person_hair_blind": identity["hair_blind"]["same_person_rate"],
        "mouth_corr": report["expression"]["mouth_open_correlation"],
        "eye_corr": report["expression"]["eye_open_correlation"],
        "gaze_corr": report["expression"]["gaze_correlation"],
        "gaze_std": report["expression"].get("gaze_target_std"),
        "sharpness": report["sharpness_ratio"]["median"],
        "feature_sharpness": report["feature_sharpness_ratio"]["p90"],
        "delta_e": report["cheek_delta_e"]["median"],
        "flicker": report["flicker_ratio"],
        "pose_err": report["pose_error_degrees"]["median"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--end", type=float, default=None, help="Use the first N seconds of each video.")
    parser.add_argument("--configs", nargs="*", default=["full", "naive", "no-3d", "no-colour", "no-smooth", "no-neutralise"],
                        choices=list(CONFIGS))
    parser.add_argument("--portraits", nargs="*", default=None, help="Portrait file names (default: every portrait_*.png).")
    parser.add_argument("--videos", nargs="*", default=None, help="Video file names (default: every *.mp4).")
    parser.add_argument("--sheets", type=Path, default=None, help="Also write each output's contact sheet here.")
    parser.add_argument("--swap-args", default="", help="Extra `tryon swap` options for every config, e.g. '--relight'.")
    args = parser.parse_args()
    if args.sheets:
        args.sheets.mkdir(parents=True, exist_ok=True)
    faces = SHARED_MEDIA / "faces"
    if not faces.exists():
        raise SystemExit(f"{faces} not found: this benchmark needs the shared media")
    OUT.mkdir(parents=True, exist_ok=True)
    trim = ["--end", str(args.end)] if args.end else []
    results: dict[str, list[dict]] = {name: [] for name in args.configs}
    portraits = [faces / name for name in args.portraits] if args.portraits else sorted(faces.glob("portrait_*.png"))
    videos = [faces / name for name in args.videos] if args.videos else sorted(faces.glob("*.mp4"))
    for portrait in portraits:
        for video in videos:
            for name in args.configs:
                out = OUT / f"{portrait.stem}_{video.stem}_{name}.mp4"
                try:
                    run_measured(tryon("swap", str(portrait), str(video), "-o", str(out), "--overwrite", "-q",
                                       *trim, *CONFIGS[name], *args.swap_args.split()))
                    sheet = ["--sheet", str(args.sheets / f"{out.stem}.png")] if args.sheets else []
                    _, _, stdout = run_measured(tryon("eval", "swap", str(portrait), str(video), str(out), "-q",
                                                      "--json", *trim, *sheet))
                except RuntimeError as error:  # one pair failing (e.g. no face eval can find) keeps the others
                    print(json.dumps({"config": name, "pair": f"{portrait.stem}->{video.stem}", "error": str(error)[-300:]}),
                          flush=True)
                    continue
                row = {"pair": f"{portrait.stem}->{video.stem}", **score(json.loads(stdout))}
                results[name].append(row)
                print(json.dumps({"config": name, **row}), flush=True)
    keys = ["same_person", "closer_to_source", "same_person_hair_blind", "mouth_corr", "eye_corr", "gaze_corr", "gaze_std", "sharpness",
            "feature_sharpness", "delta_e", "flicker", "pose_err"]
    print(f"\n{'config':<11}" + "".join(f"{k:>19}" for k in keys))
    for name, rows in results.items():
        cells = []
        for k in keys:
            values = np.array([r[k] for r in rows if r[k] is not None], dtype=float)
            cells.append(f"{values.min():.2f}..{values.max():.2f}/{np.median(values):.2f}" if len(values) else "n/a")
        print(f"{name:<11}" + "".join(f"{c:>19}" for c in cells))
    print("\ncells: min..max/median over the portrait x video pairs")


if __name__ == "__main__":
    main()
