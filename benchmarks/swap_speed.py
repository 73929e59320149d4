"""Face swap speed and memory on synthetic 720p talking videos.

Prints end-to-end fps, the ratio to a decode+encode-only pass over the same video (measured in the same
run), and peak memory for a 10 s and a 60 s video (flat memory means the two peaks are close).

    python benchmarks/swap_speed.py [--seconds 30] [--memory-seconds 10 60]
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import OUT, run_measured, tryon, widescreen_portrait  # noqa: E402

PASSTHROUGH = """
import sys
from pathlib import Path
from tryon_cli.io.target_media import open_target
with open_target(Path(sys.argv[1]), Path(sys.argv[2]), overwrite=True) as io:
    for frame in io.frames():
        io.write(frame, frame.image)
"""


def make_video(seconds: float, path: Path) -> Path:
    from skimage import data

    from tryon_cli.faceswap.synthetic import synthetic_talking_video

    if not path.exists():
        synthetic_talking_video(widescreen_portrait(data.astronaut(), (1280, 720)), path, seconds=seconds, fps=30)
    return path


def source_photo() -> str:
    spec = importlib.util.find_spec("insightface")
    return str(Path(spec.origin).parent / "data" / "images" / "Tom_Hanks_54745.png")


def measure(video: Path, frames: int) -> dict:
    out = OUT / f"{video.stem}_swapped.mp4"
    copy = OUT / f"{video.stem}_copy.mp4"
    base_s, base_peak, _ = run_measured([sys.executable, "-c", PASSTHROUGH, str(video), str(copy)])
    swap_s, swap_peak, _ = run_measured(tryon("swap", source_photo(), str(video), "-o", str(out), "--overwrite", "-q"))
    return {"video": video.name, "frames": frames, "decode_encode_fps": frames / base_s, "swap_fps": frames / swap_s,
            "ratio_to_decode_encode": swap_s / base_s, "swap_peak_mb": swap_peak / 2**20,
            "decode_encode_peak_mb": base_peak / 2**20}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--memory-seconds", type=float, nargs="*", default=[10.0, 60.0])
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    rows = []
    for seconds in [args.seconds, *args.memory_seconds]:
        video = make_video(seconds, OUT / f"talking_720p_{int(seconds)}s.mp4")
        rows.append(measure(video, int(round(seconds * 30))))
    print(f"{'video':<26}{'frames':>7}{'dec+enc fps':>13}{'swap fps':>10}{'ratio':>7}{'peak MB':>9}{'dec+enc MB':>11}")
    for r in rows:
        print(f"{r['video']:<26}{r['frames']:>7}{r['decode_encode_fps']:>13.1f}{r['swap_fps']:>10.1f}"
              f"{r['ratio_to_decode_encode']:>7.2f}{r['swap_peak_mb']:>9.0f}{r['decode_encode_peak_mb']:>11.0f}")


if __name__ == "__main__":
    main()
