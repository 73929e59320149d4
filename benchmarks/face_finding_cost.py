"""What finding every face costs per frame: the swap's pass 1 face analysis against the face mesh alone
(what pass 1 ran before: the whole-frame mesh in tracking mode), and against decoding plus encoding the
video (the floor of any swap), all measured in the same run.

Prints per video, in milliseconds per frame (CPU time of the process, all threads, and wall time):
decode + encode, the mesh alone, pass 1 now, the added cost, and the added cost over decode + encode.

    python benchmarks/face_finding_cost.py [VIDEOS...] [--max-frames 150] [--target-face all]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from tryon_cli.analysis.face import FaceMeshAnalyzer
from tryon_cli.faceswap.analysis_pass import analyse_frames
from tryon_cli.faceswap.options import SwapOptions
from tryon_cli.io.video import Frame

FACES = Path(__file__).resolve().parents[2] / "shared" / "media" / "faces"


def load(path: Path, limit: int) -> list[Frame]:
    with av.open(str(path)) as container:
        return [Frame(i, f.to_ndarray(format="rgb24"), i, float(f.time or 0.0))
                for i, f in zip(range(limit), container.decode(video=0))]


def timed(work) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return time.process_time() - cpu, time.perf_counter() - wall


def decode_encode(path: Path, limit: int) -> None:
    with av.open(str(path)) as source, tempfile.TemporaryDirectory() as tmp:
        with av.open(str(Path(tmp) / "out.mp4"), "w") as out:
            stream = None
            for i, frame in zip(range(limit), source.decode(video=0)):
                image = frame.to_ndarray(format="rgb24")
                if stream is None:
                    stream = out.add_stream("libx264", rate=25)
                    stream.width, stream.height, stream.pix_fmt = image.shape[1], image.shape[0], "yuv420p"
                    stream.options = {"crf": "18", "preset": "veryfast"}
                encoded = av.VideoFrame.from_ndarray(image, format="rgb24")
                encoded.pts, encoded.time_base = i, Fraction(1, 25)
                for packet in stream.encode(encoded):
                    out.mux(packet)
            for packet in stream.encode(None):
                out.mux(packet)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("videos", nargs="*", type=Path)
    parser.add_argument("--max-frames", type=int, default=150)
    parser.add_argument("--target-face", default="largest", help="largest (the default swap) or all")
    args = parser.parse_args()
    videos = args.videos or [FACES / "talking_frontal.mp4", FACES / "music_video_turns_720p.mp4", FACES / "crowd_1080p.mp4"]
    if not all(v.exists() for v in videos):
        print("videos not found (the shared media folder is absent); pass video paths", file=sys.stderr)
        return 2
    options = SwapOptions(target_face=args.target_face)
    max_faces = 1 if args.target_face == "largest" else options.max_faces
    frontal = np.random.default_rng(0).normal(size=(478, 3)).astype(np.float32)  # identity samples need a mesh
    print(f"--target-face {args.target_face}; ms per frame, CPU (wall)")
    print(f"{'video':<34}{'frames':>7}{'dec+enc':>16}{'mesh alone':>16}{'pass 1 now':>16}{'added':>16}{'added/dec+enc':>15}")
    for video in videos:
        frames = load(video, args.max_frames)
        n = len(frames)

        def mesh_alone() -> None:
            with FaceMeshAnalyzer(max_faces=max_faces, tracking=True) as mesh:
                for frame in frames:
                    mesh.detect(frame.image)

        def pass_one() -> None:
            cache, _ = analyse_frames(iter(frames), frontal, True, max_faces, min_face=options.min_face)
            cache.close()

        floor = timed(lambda: decode_encode(video, n))
        before, now = timed(mesh_alone), timed(pass_one)
        cells = [f"{1000 * c / n:7.1f} ({1000 * w / n:5.1f})" for c, w in (floor, before, now)]
        added = (now[0] - before[0], now[1] - before[1])
        print(f"{video.name:<34}{n:>7}{cells[0]:>16}{cells[1]:>16}{cells[2]:>16}"
              f"{f'{1000 * added[0] / n:7.1f} ({1000 * added[1] / n:5.1f})':>16}{added[0] / floor[0]:>15.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
