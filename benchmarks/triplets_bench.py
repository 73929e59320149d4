"""Triplets per second on CPU with 1 and 2 workers (a synthetic VITON-HD folder of N items).

    python benchmarks/triplets_bench.py [--items 12]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import run_measured, tryon  # noqa: E402

COLOURS = [(40, 90, 200), (200, 40, 40), (40, 160, 60), (230, 200, 40), (120, 40, 160), (20, 20, 20)]


def make_folder(root: Path, items: int) -> Path:
    from skimage import data

    from test_tryon import tshirt
    from tryon_cli.io.media import write_image

    (root / "image").mkdir(parents=True)
    (root / "cloth").mkdir()
    plain = root / "plain.png"
    write_image(plain, cv2.resize(data.astronaut(), (384, 384)))
    for i in range(items):
        colour = COLOURS[i % len(COLOURS)]
        shirt = root / "cloth" / f"{i:05d}_00.png"
        write_image(shirt, tshirt(tuple(int(c * (0.7 + 0.3 * (i // len(COLOURS)) % 1)) for c in colour)))
        run_measured(tryon("tryon", str(plain), str(shirt), "-o", str(root / "image" / f"{i:05d}_00.png"), "-q",
                           "--mode", "mask-free"))
    plain.unlink()
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=12)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp())
    folder = make_folder(scratch / "viton", args.items)
    print(f"{'workers':>8}{'items':>7}{'seconds':>9}{'items/s':>9}{'peak MB':>9}")
    for workers in (1, 2):
        out = scratch / f"out{workers}"
        seconds, peak, stdout = run_measured(tryon("build-triplets", str(folder), "-o", str(out), "-q", "--json",
                                                   "--workers", str(workers)))
        built = json.loads(stdout)["built"]
        print(f"{workers:>8}{built:>7}{seconds:>9.1f}{built / seconds:>9.2f}{peak / 2**20:>9.0f}")
    shutil.rmtree(scratch, ignore_errors=True)
    print("(wall time includes process start and model loading; peak memory is the largest process)")


if __name__ == "__main__":
    main()
