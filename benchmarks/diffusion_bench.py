"""Diffusion engine: seconds per frame and peak GPU memory for swap and try-on, and the temporal check.

With --checkpoint and a GPU this measures the real model. Without a checkpoint it builds a tiny model
(the test suite's) and runs on CPU: those figures are plumbing overhead only. The temporal check
prints the mean frame-to-frame change inside the mask with consistency on and off (same seed).

    python benchmarks/diffusion_bench.py [--checkpoint DIR] [--device auto] [--sizes 512 1024] [--frames 8]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))


def tiny_checkpoint(folder: Path, channels: int) -> Path:
    from test_diffusion import build_tiny_checkpoint

    return build_tiny_checkpoint(folder / f"tiny{channels}", channels)


def frames_of(size: int, count: int) -> list[np.ndarray]:
    from skimage import data

    from tryon_cli.faceswap.synthetic import synthetic_talking_video
    from tryon_cli.io.video import iter_frames

    path = Path(tempfile.mkdtemp()) / "talk.mp4"
    synthetic_talking_video(cv2.resize(data.astronaut(), (size, size)), path, seconds=count / 25 + 0.1, fps=25,
                            audio=False)
    return [f.image for f in iter_frames(path)][:count]


def engine_for(checkpoint: Path, device: str, resolution: int, steps: int, consistency: bool = True, strength=0.5):
    from tryon_cli.render.classical.engine import ClassicalEngine
    from tryon_cli.render.diffusion.engine import DiffusionEngine
    from tryon_cli.render.options import DiffusionOptions

    options = DiffusionOptions(checkpoint=str(checkpoint), device=device, steps=steps, strength=strength,
                               resolution=resolution, window=4, overlap=1, consistency=consistency)
    return DiffusionEngine.load(options, ClassicalEngine())


def peak_memory() -> str:
    return f"{torch.cuda.max_memory_allocated() / 2**30:.2f} GiB" if torch.cuda.is_available() else "n/a (cpu)"


def time_swap(checkpoint: Path, device: str, size: int, count: int, steps: int, working: int) -> float:
    import importlib.util

    from tryon_cli.io.media import read_image
    from tryon_cli.faceswap.runner import swap_frames
    from tryon_cli.faceswap.source import prepare_source
    from tryon_cli.io.video import Frame

    spec = importlib.util.find_spec("insightface")
    source_path = Path(spec.origin).parent / "data" / "images" / "Tom_Hanks_54745.png"
    source = prepare_source([(source_path, read_image(source_path))])
    frames = [Frame(i, f, i, i / 25) for i, f in enumerate(frames_of(size, count))]
    engine = engine_for(checkpoint, device, working, steps)
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    swap_frames(lambda: iter(frames), source, engine, lambda frame, image: None)
    return (time.perf_counter() - started) / count


def time_tryon(checkpoint: Path, device: str, size: int, count: int, steps: int, working: int) -> float:
    from skimage import data

    from test_tryon import tshirt
    from tryon_cli.render.classical.engine import ClassicalEngine
    from tryon_cli.render.diffusion.engine import DiffusionEngine
    from tryon_cli.render.options import DiffusionOptions
    from tryon_cli.garments.photo import prepare_garment
    from tryon_cli.masks.garment import MaskOptions
    from tryon_cli.garments.planner import tryon_frames
    from tryon_cli.io.video import Frame

    person = cv2.resize(data.astronaut(), (size, size))
    options = DiffusionOptions(checkpoint=str(checkpoint), device=device, steps=steps, strength=1.0,
                               resolution=working, window=4, overlap=1)
    engine = DiffusionEngine.load(options, ClassicalEngine())
    frames = [Frame(i, person, i, i / 25) for i in range(count)]
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    tryon_frames(iter(frames), prepare_garment(tshirt(), "upper"), engine, MaskOptions(), "mask", True, 0,
                 lambda frame, image: None)
    return (time.perf_counter() - started) / count


def temporal_check(checkpoint: Path, device: str, count: int = 12) -> tuple[float, float]:
    from tryon_cli.render.contract import SwapConditions

    frames = frames_of(256, count)
    mask = np.zeros(frames[0].shape[:2], np.uint8)
    mask[60:200, 70:190] = 255
    changes = []
    for consistency in (True, False):
        engine = engine_for(checkpoint, device, 64, 4, consistency=consistency, strength=1.0)
        outputs = engine.render(frames, [mask] * count, [SwapConditions(source=None, faces=())] * count)
        diffs = [np.abs(a.astype(float) - b.astype(float))[mask > 0].mean() for a, b in zip(outputs, outputs[1:])]
        changes.append(float(np.mean(diffs)))
    return changes[0], changes[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", type=Path, help="9-channel inpainting checkpoint (default: a tiny one)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--sizes", type=int, nargs="*", default=[512, 1024])
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--steps", type=int, default=None)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp())
    checkpoint = args.checkpoint or tiny_checkpoint(scratch, 9)
    steps = args.steps or (20 if args.checkpoint else 4)
    label = "real checkpoint" if args.checkpoint else \
        "tiny model at a 64 px working size (plumbing overhead only: analysis, classical start, crop, paste-back)"
    print(f"model: {label}; device: {args.device}; steps: {steps}; frames: {args.frames}")
    print(f"{'task':<8}{'frame':>6}{'s/frame':>10}{'peak GPU':>14}")
    for size in args.sizes:
        for task, timer in (("swap", time_swap), ("try-on", time_tryon)):
            seconds = timer(checkpoint, args.device, size, args.frames, steps, size if args.checkpoint else 64)
            print(f"{task:<8}{size:>6}{seconds:>10.2f}{peak_memory():>14}")
    on, off = temporal_check(checkpoint if not args.checkpoint else tiny_checkpoint(scratch, 9), "cpu")
    print(f"\ntemporal check (tiny model, 12 frames, same seed): mean frame-to-frame change inside the mask\n"
          f"  consistency on: {on:.2f}   off: {off:.2f}   ratio on/off: {on / off:.2f}")


if __name__ == "__main__":
    main()
