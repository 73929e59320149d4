"""Triplets per second on CPU: local executor (1 and 2 workers) and Ray Data (1 and 2 actors).

    python benchmarks/triplets_bench.py [--items 300] [--runs local-1,local-2,ray-1,ray-2]

The folder is a synthetic VITON-HD set: six dressed people and six shirts (made with our own try-on),
each copied with a one-pixel change per item so every item has its own content hash. Each run builds
every item from scratch in a fresh output folder; Ray runs start a local Ray (its start-up is in the
wall time). Ratios are against the first run, measured in the same invocation.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import run_measured, tryon  # noqa: E402

COLOURS = [(40, 90, 200), (200, 40, 40), (40, 160, 60), (230, 200, 40), (120, 40, 160), (20, 20, 20)]


def make_folder(root: Path, items: int) -> Path:
    from skimage import data

    from test_tryon import tshirt
    from tryon_cli.io.media import read_image, write_image

    (root / "image").mkdir(parents=True)
    (root / "cloth").mkdir()
    plain = root / "plain.png"
    write_image(plain, cv2.resize(data.astronaut(), (384, 384)))
    bases = []
    for i, colour in enumerate(COLOURS):
        shirt, person = root / f"shirt{i}.png", root / f"person{i}.png"
        write_image(shirt, tshirt(colour))
        run_measured(tryon("tryon", str(plain), str(shirt), "-o", str(person), "-q", "--mode", "mask-free"))
        bases.append((read_image(person), read_image(shirt)))
        person.unlink()
        shirt.unlink()
    plain.unlink()
    for i in range(items):
        person, shirt = (image.copy() for image in bases[i % len(bases)])
        stamp = np.array([i % 256, i // 256, 7], np.uint8)  # a unique corner pixel: a unique content hash
        person[0, 0], shirt[0, 0] = stamp, stamp
        write_image(root / "image" / f"{i:05d}_00.png", person)
        write_image(root / "cloth" / f"{i:05d}_00.png", shirt)
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=300)
    parser.add_argument("--runs", default="local-1,ray-1,ray-2", help="executor-count, comma separated")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp())
    folder = make_folder(scratch / "viton", args.items)
    print(f"{'run':>8}{'items':>7}{'seconds':>9}{'items/s':>9}{'ratio':>7}{'peak MB':>9}", flush=True)
    baseline = None
    for run in args.runs.split(","):
        executor, count = run.split("-")
        out = scratch / f"out-{run}"
        seconds, peak, stdout = run_measured(tryon("build-triplets", str(folder), "-o", str(out), "-q", "--json",
                                                   "--executor", executor, "--workers", count))
        built = json.loads(stdout)["built"]
        rate = built / seconds
        baseline = baseline or rate
        print(f"{run:>8}{built:>7}{seconds:>9.1f}{rate:>9.2f}{rate / baseline:>7.2f}{peak / 2**20:>9.0f}", flush=True)
    shutil.rmtree(scratch, ignore_errors=True)
    print("(wall time includes process start, model loading and, for Ray, starting a local Ray; "
          "peak memory is the largest single process)")


if __name__ == "__main__":
    main()
