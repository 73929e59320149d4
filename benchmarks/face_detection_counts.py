"""Faces found, tracked and swapped per frame, and per visible face the share of its frames swapped.

For each video (default: the shared crowd and several-people videos, with `--target-face all`) it runs
the swap's pass 1 (`analyse_frames`: full-range detection, the mesh on each face's crop, tracks, short
misses bridged) and the face choice of pass 2, and prints:
- faces found (and bridged) per frame, and pass 1's seconds per frame (CPU and wall);
- pass 1's tracks (frames, bridged frames, median width);
- the reference: the tiled full-range detector run on every frame (no schedule, no tracking), its boxes
  at least --min-width px wide linked into faces across frames (overlapping boxes of similar width, gaps
  of up to 3 frames, broken at scene cuts; faces seen in fewer than 5 frames dropped); per reference face, its frames, width and
  the share of those frames in which a swapped face covers it (the bar: at least 0.9), and the frames
  missed. A reference face on none of whose sampled frames (up to 8) the still mesh fits a face (the
  back of a head, a blurred shape the detector took for a face) is listed but not counted.
The reference is only a candidate list of what a person can see: `--sheet` draws it (yellow, numbered)
and the swapped faces (green found, cyan bridged) on sampled frames, with crops of every reference face,
so a person judges which reference faces are real, visible faces. `--swapped VIDEO` adds that video's
frames (the swap's output) to the sheet. `--max-gap` sets pass 1's bridged gap.

    python benchmarks/face_detection_counts.py [VIDEOS...] [--min-width 40] [--sheet DIR] [--swapped OUT.mp4 ...]
        [--compare-old] [--max-gap 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import av
import cv2
import numpy as np

from tryon_cli.analysis.detection import FaceDetector
from tryon_cli.analysis.face import CropMeshFitter, FaceMeshAnalyzer, box_overlap
from tryon_cli.analysis.tracking import DETECTOR_CROPS
from tryon_cli.faceswap.analysis_pass import analyse_frames, choose_faces
from tryon_cli.faceswap.options import SwapOptions
from tryon_cli.io.video import Frame
from tryon_cli.temporal import SceneCutDetector

ROOT = Path(__file__).resolve().parents[1]
FACES = ROOT.parent / "shared" / "media" / "faces"
BAR = 0.9
SIZE_RATIO = 1.5  # the largest width ratio of two boxes linked into one reference face


def frames_of(path: Path):
    with av.open(str(path)) as container:
        for index, frame in enumerate(container.decode(video=0)):
            yield Frame(index=index, image=frame.to_ndarray(format="rgb24"), pts=index, time=float(frame.time or 0.0))


def same_size(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    """Whether two boxes' widths are within `SIZE_RATIO` of each other: a face's box does not halve or double
    between two sightings a few frames apart, but a small blurred face's box lies inside a close-up's that
    passes in front of it (movie_several_people's lead dancer over an audience face), and linking the two
    made one reference face of two."""
    wa, wb = a[2] - a[0], b[2] - b[0]
    return max(wa, wb) <= SIZE_RATIO * min(wa, wb)


def reference_faces(path: Path, min_width: float, max_gap: int = 3, min_frames: int = 5) -> list[dict]:
    """The detector on every frame, boxes linked by overlap into faces: {frames: {index: box}}."""
    faces: list[dict] = []
    live: list[dict] = []
    cuts = SceneCutDetector()
    with FaceDetector() as detector:
        for frame in frames_of(path):
            if cuts(frame.image):
                live = []
            live = [f for f in live if frame.index - f["last"] <= max_gap + 1]
            for found in sorted(detector.detect(frame.image), key=lambda b: -b.width):
                if found.width < min_width:
                    continue
                best = max((f for f in live if same_size(f["box"], found.box)),
                           key=lambda f: box_overlap(f["box"], found.box), default=None)
                if best is None or best["last"] == frame.index or box_overlap(best["box"], found.box) < 0.4:
                    best = {"frames": {}, "box": found.box, "last": frame.index}
                    faces.append(best)
                    live.append(best)
                best["frames"][frame.index] = found.box
                best["box"], best["last"] = found.box, frame.index
    kept = []
    for face in faces:
        if len(face["frames"]) < min_frames:
            continue
        seen = sorted(face["frames"])
        visible = dict(face["frames"])
        for a, b in zip(seen, seen[1:]):  # a short miss of the reference detector: still visible
            for k in range(a + 1, b):
                share = (k - a) / (b - a)
                visible[k] = tuple((1 - share) * np.array(face["frames"][a]) + share * np.array(face["frames"][b]))
        kept.append({"visible": visible, "seen": sorted(face["frames"]), "width": float(np.median([x1 - x0 for x0, _, x1, _ in face["frames"].values()]))})
    return kept


def check_with_mesh(path: Path, reference: list[dict], samples: int = 8) -> None:
    """Mark each reference face with `mesh`: (frames of up to `samples` of its detected ones, spread over
    them, on which the still mesh fits a face in its box, frames tried). The mesh's landmarks need a face
    (eyes, nose, mouth): the back of a head or a blurred shape the detector took for one gets none."""
    wanted: dict[int, list[int]] = {}
    for rid, ref in enumerate(reference):
        seen = sorted(ref["seen"])
        for k in sorted({seen[int(i)] for i in np.linspace(0, len(seen) - 1, min(samples, len(seen)))}):
            wanted.setdefault(k, []).append(rid)
    counts = [[0, 0] for _ in reference]
    with CropMeshFitter() as fitter:
        for frame in frames_of(path):
            for rid in wanted.get(frame.index, []):
                box = reference[rid]["visible"][frame.index]
                found = any(fitter.fit(frame.image, box, scale) is not None for scale in DETECTOR_CROPS)
                counts[rid][0] += found
                counts[rid][1] += 1
            if frame.index >= max(wanted, default=-1):
                break
    for ref, count in zip(reference, counts):
        ref["mesh"] = tuple(count)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("videos", nargs="*", type=Path)
    parser.add_argument("--min-width", type=int, default=40)
    parser.add_argument("--sheet", type=Path, help="write a contact sheet per video into this folder")
    parser.add_argument("--swapped", type=Path, nargs="*", default=[], help="the swap's outputs, in the videos' order")
    parser.add_argument("--sheet-frames", type=int, default=6)
    parser.add_argument("--compare-old", action="store_true", help="also print the face mesh alone's faces per frame")
    parser.add_argument("--max-gap", type=int, default=3, help="frames of a miss bridged (the swap's default: 3)")
    args = parser.parse_args()
    videos = args.videos or [FACES / "crowd_1080p.mp4", FACES / "movie_several_people_720p.mp4"]
    if not all(v.exists() for v in videos):
        print("videos not found (the shared media folder is absent); pass video paths", file=sys.stderr)
        return 2
    options = SwapOptions(target_face="all")
    for number, video in enumerate(videos):
        wall, cpu = time.perf_counter(), time.process_time()
        frontal = np.random.default_rng(0).normal(size=(478, 3)).astype(np.float32)  # for identity samples
        cache, tracks = analyse_frames(frames_of(video), frontal, True, options.max_faces, min_face=options.min_face,
                                       max_gap=args.max_gap)
        doubtful = frozenset(tid for tid, state in tracks.items() if state.doubtful)
        turned = {tid: state.turned for tid, state in tracks.items() if state.turned}
        analyses = list(cache)
        cache.close()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        swapped = {a.index: [a.faces[i] for i in choose_faces(a, options, set(), doubtful, turned)[0]]
                   for a in analyses}
        print(f"\n{video.name}: {len(analyses)} frames, pass 1 {1000 * wall / len(analyses):.0f} ms/frame wall, "
              f"{1000 * cpu / len(analyses):.0f} ms/frame CPU")
        print("  faces found per frame:   " + "".join(str(min(a.found, 9)) for a in analyses))
        print("  faces bridged per frame: " + "".join(str(min(len(a.faces) - a.found, 9)) for a in analyses))
        print(f"  doubtful tracks (the detector rarely saw them; not swapped): {sorted(doubtful) or 'none'}")
        print("  near-profile stretches (not swapped): " + (", ".join(
            f"{tid} " + " ".join(f"{a}-{min(b, len(analyses) - 1)}" for a, b in spans)
            for tid, spans in sorted(turned.items())) or "none"))
        if args.compare_old:  # what the swap used before: the face mesh alone, tracking mode, whole frame
            with FaceMeshAnalyzer(max_faces=options.max_faces, tracking=True) as mesh:
                print("  before (mesh alone):     " + "".join(str(min(len(mesh.detect(f.image)), 9))
                                                          for f in frames_of(video)))
        tracks: dict[int, list] = {}
        for a in analyses:
            for tid, face, bridged in zip(a.tracks, a.faces, a.bridged_flags):
                tracks.setdefault(tid, []).append((a.index, bridged, face.bbox[2] - face.bbox[0]))
        print("  tracks: id frames (bridged) median mesh width")
        for tid, rows in tracks.items():
            print(f"    {tid:3d} {rows[0][0]:4d}-{rows[-1][0]:<4d} {len(rows):4d} ({sum(r[1] for r in rows)}) "
                  f"{np.median([r[2] for r in rows]):5.0f}")
        reference = reference_faces(video, args.min_width)
        check_with_mesh(video, reference)
        print(f"  reference faces (detector on every frame, >= {args.min_width} px): id frames width swapped-share")
        shares = []
        for rid, ref in enumerate(reference):
            missed = [k for k, box in ref["visible"].items()
                      if not any(box_overlap(box, f.bbox) >= 0.5 for f in swapped.get(k, []))]
            ref["share"] = 1 - len(missed) / len(ref["visible"])
            frames = sorted(ref["visible"])
            line = (f"    {rid:3d} {frames[0]:4d}-{frames[-1]:<4d} {len(frames):4d} {ref['width']:5.0f} "
                    f"{ref['share']:.2f} mesh {ref['mesh'][0]}/{ref['mesh'][1]}")
            if not ref["mesh"][0]:
                print(line + "  not counted: the mesh fits a face on none of its frames (not a face)")
                continue
            shares.append(ref["share"])
            print(line + ("" if ref["share"] >= BAR else "  below the bar") + _ranges(missed))
        if shares:
            print(f"  reference faces at or above {BAR}: {sum(s >= BAR for s in shares)} of {len(shares)}"
                  f" ({len(reference) - len(shares)} not counted)")
        if args.sheet:
            after = args.swapped[number] if number < len(args.swapped) else None
            write_sheet(args.sheet / f"faces_{video.stem}.png", video, after, analyses, reference, args.sheet_frames)
    return 0


def _ranges(indices: list[int]) -> str:
    """'  missed 3-5 9' for frame indices, or '' when there are none."""
    runs: list[list[int]] = []
    for k in sorted(indices):
        if runs and k == runs[-1][1] + 1:
            runs[-1][1] = k
        else:
            runs.append([k, k])
    return ("  missed " + " ".join(f"{a}-{b}" if b > a else f"{a}" for a, b in runs)) if runs else ""


def _draw(image: np.ndarray, index: int, analyses: dict, reference: list[dict]) -> np.ndarray:
    out = image.copy()
    thick = max(2, image.shape[1] // 640)
    analysis = analyses.get(index)
    if analysis is not None:
        for face, bridged in zip(analysis.faces, analysis.bridged_flags):
            x0, y0, x1, y1 = map(int, face.bbox)
            cv2.rectangle(out, (x0, y0), (x1, y1), (0, 255, 255) if bridged else (0, 255, 0), thick)
    for rid, ref in enumerate(reference):
        box = ref["visible"].get(index)
        if box is not None:
            x0, y0, x1, y1 = map(int, box)
            cv2.rectangle(out, (x0, y0), (x1, y1), (255, 220, 0), 1)
            cv2.putText(out, str(rid), (x0, max(y0 - 4, 12)), cv2.FONT_HERSHEY_SIMPLEX, 0.4 * thick, (255, 220, 0), thick)
    cv2.putText(out, str(index), (10, 20 * thick), cv2.FONT_HERSHEY_SIMPLEX, 0.6 * thick, (255, 255, 255), thick)
    return out


def write_sheet(path: Path, video: Path, after: Path | None, analyses: list, reference: list[dict], count: int) -> None:
    """Sampled frames with boxes (left), the swap's output (right), then crops of every reference face."""
    by_index = {a.index: a for a in analyses}
    wanted = set(np.linspace(0, len(analyses) - 1, count).astype(int).tolist())
    crops_at = {(rid, k) for rid, ref in enumerate(reference)
                for k in np.array(sorted(ref["visible"]))[[0, len(ref["visible"]) // 2, -1]].tolist()}
    frame_keys = wanted | {k for _, k in crops_at}
    before: dict[int, np.ndarray] = {}
    crops: dict[tuple[int, int], np.ndarray] = {}
    for frame in frames_of(video):
        if frame.index in wanted:
            before[frame.index] = _draw(frame.image, frame.index, by_index, reference)
        for rid, k in crops_at:
            if k == frame.index:
                x0, y0, x1, y1 = map(int, reference[rid]["visible"][k])
                pad = (x1 - x0) // 3
                patch = frame.image[max(y0 - pad, 0) : y1 + pad, max(x0 - pad, 0) : x1 + pad]
                crops[(rid, k)] = cv2.resize(patch, (96, 96)) if patch.size else np.zeros((96, 96, 3), np.uint8)
        if frame.index > max(frame_keys):
            break
    swapped: dict[int, np.ndarray] = {}
    if after is not None:
        for frame in frames_of(after):
            if frame.index in wanted:
                swapped[frame.index] = frame.image
    width = 900
    rows = []
    for k in sorted(wanted):
        left = before[k]
        right = swapped.get(k, np.zeros_like(left))
        pair = np.concatenate([left, right], 1)
        rows.append(cv2.resize(pair, (2 * width, int(pair.shape[0] * 2 * width / pair.shape[1]))))
    strips = []
    for rid, ref in enumerate(reference):
        keys = sorted(k for r, k in crops if r == rid)
        tiles = [crops[(rid, k)] for k in keys]
        label = np.zeros((96, 150, 3), np.uint8)
        cv2.putText(label, f"ref {rid}", (5, 35), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (255, 220, 0), 2)
        counted = ref["mesh"][0] > 0
        cv2.putText(label, f"{ref['share']:.2f}" if counted else "no mesh", (5, 75), cv2.FONT_HERSHEY_SIMPLEX, 0.7,
                    (160, 160, 160) if not counted else (0, 255, 0) if ref["share"] >= BAR else (255, 60, 60), 2)
        strips.append(np.concatenate([label, *tiles, *[np.zeros((96, 96, 3), np.uint8)] * (3 - len(tiles))], 1))
    per_row = max(1, (2 * width) // strips[0].shape[1]) if strips else 1
    for i in range(0, len(strips), per_row):
        row = np.concatenate(strips[i : i + per_row], 1)
        rows.append(np.pad(row, ((0, 0), (0, 2 * width - row.shape[1]), (0, 0))))
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(np.concatenate(rows, 0), cv2.COLOR_RGB2BGR))
    print(f"  sheet: {path}")


if __name__ == "__main__":
    sys.exit(main())
