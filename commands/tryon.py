"""`tryon tryon PERSON GARMENT -o OUT`: dress the person (photo or video) in the garment."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

import typer

from tryon_cli.render.registry import EngineOptions, create_engine
from tryon_cli.garments.photo import prepare_garment
from tryon_cli.masks.garment import CATEGORIES, STRATEGIES, MaskOptions
from tryon_cli.io.media import read_image, read_mask
from tryon_cli.io.target_media import EncodeOptions, check_target, open_target
from tryon_cli.garments.planner import tryon_frames

from .common import (DEBUG_OPTION, JSON_OPTION, OVERWRITE_OPTION, QUIET_OPTION, emit, progress_bar, read_paths,
                     reported_errors, stderr_console)
from .mask import _choice, load_configured_sam

MODES = ("mask", "mask-free")


def tryon(
    person: Path = typer.Argument(..., help="Person photo or video ('-' reads one path from stdin)."),
    garment: Path = typer.Argument(..., help="Flat photo of the garment on a plain background."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Output file (default: PERSON's name + '_tryon')."),
    category: str = typer.Option("upper", help="upper, lower or dress."),
    mode: str = typer.Option("mask", help="mask (agnostic mask, then fill) or mask-free (garment over the person)."),
    strategy: str = typer.Option("dilate-relax", help="Mask strategy in mask mode: dilate-relax, tight or box."),
    garment_mask: Optional[Path] = typer.Option(None, help="The garment's own mask (default: segmented from the photo)."),
    engine: str = typer.Option("auto", help="Engine: auto, classical or diffusion."),
    checkpoint: Optional[str] = typer.Option(None, help="Diffusion checkpoint (9-channel inpainting for mask mode, 8-channel for mask-free)."),
    device: str = typer.Option("auto", help="Diffusion device: auto, cpu, cuda or mps."),
    steps: int = typer.Option(30, min=1, help="Diffusion steps."),
    strength: float = typer.Option(1.0, min=0.0, max=1.0, help="Diffusion strength (below 1 starts from the classical render)."),
    resolution: int = typer.Option(768, min=32, help="Diffusion working size (long side)."),
    window: int = typer.Option(8, min=1, help="Diffusion: frames per window."),
    overlap: int = typer.Option(2, min=0, help="Diffusion: frames shared by consecutive windows."),
    allow_download: bool = typer.Option(False, "--allow-download", help="Let the diffusion engine fetch missing weights."),
    prompt: str = typer.Option("", help="Diffusion: text prompt (checkpoints with a text encoder)."),
    negative_prompt: str = typer.Option("", help="Diffusion: negative prompt (used when --guidance > 1)."),
    guidance: float = typer.Option(1.0, min=1.0, help="Diffusion: classifier-free guidance scale (1 = off, half the cost)."),
    seed: int = typer.Option(0, help="Random seed."),
    start: Optional[float] = typer.Option(None, help="Start time in seconds."),
    end: Optional[float] = typer.Option(None, help="End time in seconds."),
    crf: int = typer.Option(18, min=0, max=51, help="Output quality (lower is better)."),
    audio: bool = typer.Option(True, "--audio/--no-audio", help="Copy the person video's audio."),
    allow_partial: bool = typer.Option(False, "--allow-partial", help="Keep the frames of a damaged person video instead of failing."),
    sam: Optional[str] = typer.Option(None, help="SAM checkpoint for a sharper garment region (default: TRYON_SAM or the config file; none: GrabCut)."),
    overwrite: bool = OVERWRITE_OPTION,
    json_out: bool = JSON_OPTION,
    quiet: bool = QUIET_OPTION,
    debug: bool = DEBUG_OPTION,
) -> None:
    """Virtual try-on for photos and videos: mask-based or mask-free, classical or diffusion."""
    console = stderr_console(quiet)
    with reported_errors(debug, quiet):
        person = read_paths([person])[0]
        options = MaskOptions(category=_choice(category, CATEGORIES, "--category"),
                              strategy=_choice(strategy, STRATEGIES, "--strategy"))
        mode = _choice(mode, MODES, "--mode")
        output = output or Path.cwd() / f"{person.stem}_tryon{person.suffix}"
        inputs = [garment, *([garment_mask] if garment_mask is not None else [])]
        encode = EncodeOptions(crf=crf, keep_audio=audio, allow_partial=allow_partial)
        check_target(person, output, inputs, overwrite, encode)
        garment_image = read_image(garment)
        model = prepare_garment(garment_image, category, read_mask(garment_mask) if garment_mask else None)
        render_engine = create_engine(EngineOptions(
            name=engine, checkpoint=checkpoint, device=device, steps=steps, strength=strength, seed=seed,
            allow_download=allow_download, task="tryon", mode=mode, resolution=resolution, window=window,
            overlap=overlap, prompt=prompt, negative_prompt=negative_prompt, guidance=guidance))
        console.print(f"[dim]engine: {render_engine.name}[/]")
        predictor = load_configured_sam(sam)
        started = time.perf_counter()
        with progress_bar(quiet) as progress, open_target(
            person, output, overwrite=overwrite, extra_inputs=inputs, start=start, end=end, encode=encode,
        ) as io:
            if hasattr(render_engine, "progress"):
                render_engine.progress = progress
            report = tryon_frames(io.frames(), model, render_engine, options, mode, io.is_video, seed, io.write,
                                  progress, io.total, predictor)
        summary = report.as_dict()
        summary.pop("per_frame")
        missed = report.frames - report.frames_rendered
        if missed:
            console.print(f"[yellow]warning:[/] {missed} of {report.frames} frames of {person} had no person to "
                          "dress; they are copied unchanged")
        emit({"output": str(output), "engine": render_engine.name, "mode": mode, **summary,
              "frames_rendered": report.frames_rendered, "frames_without_person": missed, "seconds": round(time.perf_counter() - started, 3)},
             json_out, str(output))
