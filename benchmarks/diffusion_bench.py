"""Diffusion engine: seconds per frame and peak GPU memory for swap and try-on, and the temporal check.

With --checkpoint and a GPU this measures the real model. Without a checkpoint it builds a tiny model
(the test suite's) and runs on CPU: those figures are plumbing overhead only. The temporal check
prints the mean frame-to-frame change inside the mask with consistency on and off (same seed).

The FLUX part (Fill, ControlNet inpainting, Kontext; tiny models on CPU) times one window through the
engine against the bare diffusers pipeline with the same settings (same model, size, steps, batch,
decoding included) and prints the ratio: our plumbing overhead per step.

    python benchmarks/diffusion_bench.py [--checkpoint DIR] [--device auto] [--sizes 512 1024] [--frames 8]
    python benchmarks/diffusion_bench.py --only flux [--frames 4] [--steps 4]
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


def flux_overhead(family: str, frames: int, steps: int, size: int = 64,
                  repeats: int = 3) -> tuple[float, float, float]:
    """Seconds per step of one window of `frames` frames, best of `repeats`: (engine, engine without the
    consistency features (shared noise, cross-frame attention, blending), bare pipeline)."""
    from test_flux import build_tiny_flux, build_tiny_flux_controlnet, make_engine, swap

    from tryon_cli.render.contract import GarmentConditions, RenderItem

    scratch = Path(tempfile.mkdtemp())
    pipeline = {"fill": "FluxFillPipeline", "controlnet": "FluxPipeline", "kontext": "FluxKontextPipeline"}[family]
    checkpoint = build_tiny_flux(scratch / family, pipeline)
    controlnet = build_tiny_flux_controlnet(scratch / "cn") if family == "controlnet" else None
    engine = make_engine(checkpoint, controlnet, steps=steps, window=frames, resolution=size)
    plain_engine = make_engine(checkpoint, controlnet, steps=steps, window=frames, resolution=size,
                               consistency=False)
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (size, size, 3), np.uint8)
    mask = np.zeros((size, size), np.uint8)
    mask[size // 4 : 3 * size // 4, size // 4 : 3 * size // 4] = 255
    if family == "kontext":
        garment = rng.integers(0, 255, (size, size, 3), np.uint8)
        conditions = [GarmentConditions(garment=garment, garment_mask=np.full((size, size), 255, np.uint8),
                                        warped=image, warped_alpha=np.zeros((size, size), np.float32),
                                        mode="mask-free")] * frames
    else:
        conditions = [swap(np.full((size, size, 3), 128, np.uint8))] * frames
    pipe = engine.components.pipeline
    x0, y0, x1, y1 = engine.crop_for(mask, RenderItem(0, image, mask, conditions[0]))
    width, height = engine.processing_size((x0, y0, x1, y1))
    crop = cv2.resize(image[y0:y1, x0:x1], (width, height), interpolation=cv2.INTER_AREA)
    person = torch.from_numpy(crop).permute(2, 0, 1)[None].float().div(255).expand(frames, -1, -1, -1)
    small = torch.from_numpy(cv2.resize(mask[y0:y1, x0:x1], (width, height), interpolation=cv2.INTER_NEAREST))
    small_mask = (small[None, None].float() / 255).expand(frames, -1, -1, -1)
    strategy = engine.strategy
    bare = dict(prompt_embeds=strategy.prompt_embeds.expand(frames, -1, -1),
                pooled_prompt_embeds=strategy.pooled_embeds.expand(frames, -1), height=height, width=width,
                num_inference_steps=steps, output_type="np", guidance_scale=30.0)
    if family == "kontext":
        bare.update(image=torch.cat([person, person], dim=-1), max_area=height * width, _auto_resize=False)
    else:
        bare.update(image=person, mask_image=small_mask, strength=1.0)
        if family == "controlnet":
            bare.update(control_image=person)

    def best(run) -> float:
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            run()
            times.append(time.perf_counter() - started)
        return min(times) / steps

    ours = best(lambda: engine.render([image] * frames, [mask] * frames, conditions))
    plain = best(lambda: plain_engine.render([image] * frames, [mask] * frames, conditions))
    pipe = plain_engine.components.pipeline
    from tryon_cli.render.diffusion.flux_attention import set_flux_video_attention

    set_flux_video_attention(pipe.transformer, 0)  # the bare pipeline: diffusers' own attention
    if family == "controlnet":
        set_flux_video_attention(pipe.controlnet, 0)
    with torch.no_grad():
        theirs = best(lambda: pipe(generator=torch.Generator("cpu").manual_seed(0), **bare))
    return ours, plain, theirs


def flux_table(frames: int, steps: int) -> None:
    torch.set_num_threads(1)
    print(f"FLUX families, tiny models on CPU (1 thread): one window of {frames} frames, {steps} steps, 64 px crop;"
          f" seconds per step, engine vs bare diffusers pipeline (same model, size, steps, batch)")
    print("(engine: with consistency; plain: --no-consistency, i.e. plumbing only; ratios against bare)")
    print(f"{'family':<12}{'engine':>9}{'plain':>9}{'bare':>9}{'engine/bare':>13}{'plain/bare':>12}")
    for family in ("fill", "controlnet", "kontext"):
        ours, plain, theirs = flux_overhead(family, frames, steps)
        print(f"{family:<12}{ours:>9.4f}{plain:>9.4f}{theirs:>9.4f}{ours / theirs:>13.2f}{plain / theirs:>12.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", type=Path, help="9-channel inpainting checkpoint (default: a tiny one)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--sizes", type=int, nargs="*", default=[512, 1024])
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--only", choices=("unet", "flux"), help="run only the UNet or only the FLUX part")
    args = parser.parse_args()
    if args.only != "unet":
        flux_table(args.frames if args.only == "flux" else 4, args.steps or 4)
        if args.only == "flux":
            return
        print()
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
