"""`tryon tryon PERSON GARMENT -o OUT`: dress the person (photo or video) in the garment."""

from __future__ import annotations

import time
from pathlib import Path
from enum import Enum
from typing import Optional

import typer

from tryon_cli.garments.photo import prepare_garment
from tryon_cli.garments.planner import tryon_frames
from tryon_cli.io.media import read_image, read_mask
from tryon_cli.io.target_media import EncodeOptions, check_target, open_target
from tryon_cli.masks.garment import Category, MaskOptions, Strategy
from tryon_cli.masks.sam import configured_sam
from tryon_cli.render.options import TRYON_DIFFUSION_DEFAULTS, EngineOptions
from tryon_cli.render.registry import create_engine

from .common import (DEBUG_OPTION, JSON_OPTION, OVERWRITE_OPTION, QUIET_OPTION, emit, progress_bar, read_paths,
                     reported_errors, stderr_console)
from .options import encode_options, engine_options


class Mode(str, Enum):
    mask = "mask"
    mask_free = "mask-free"


@engine_options(TRYON_DIFFUSION_DEFAULTS, classical=False)
@encode_options()
def tryon(
    person: Path = typer.Argument(..., help="Person photo or video ('-' reads one path from stdin)."),
    garment: Path = typer.Argument(..., help="Flat photo of the garment on a plain background."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Output file (default: PERSON's name + '_tryon')."),
    category: Category = typer.Option(Category.upper, help="Which garment the photo shows."),
    mode: Mode = typer.Option(Mode.mask, help="mask (agnostic mask, then fill) or mask-free (garment over the person)."),
    strategy: Strategy = typer.Option(Strategy.dilate_relax, help="Mask strategy in mask mode."),
    garment_mask: Optional[Path] = typer.Option(None, help="The garment's own mask (default: segmented from the photo)."),
    start: Optional[float] = typer.Option(None, help="Start time in seconds."),
    end: Optional[float] = typer.Option(None, help="End time in seconds."),
    sam: Optional[str] = typer.Option(None, help="SAM checkpoint for a sharper garment region (default: TRYON_SAM or the config file; none: GrabCut)."),
    debug_dir: Optional[Path] = typer.Option(None, help="Write per-frame masks and mask overlays here."),
    *,
    engine_options: EngineOptions,
    encode: EncodeOptions,
    overwrite: bool = OVERWRITE_OPTION,
    json_out: bool = JSON_OPTION,
    quiet: bool = QUIET_OPTION,
    debug: bool = DEBUG_OPTION,
) -> None:
    """Virtual try-on for photos and videos: mask-based or mask-free, classical or diffusion."""
    console = stderr_console(quiet)
    with reported_errors(debug):
        person = read_paths([person])[0]
        options = MaskOptions(category=category.value, strategy=strategy.value)
        output = output or Path.cwd() / f"{person.stem}_tryon{person.suffix}"
        check_target(person, output, [garment], overwrite)
        garment_image = read_image(garment)
        model = prepare_garment(garment_image, options.category, read_mask(garment_mask) if garment_mask else None)
        if debug_dir is not None:
            debug_dir.mkdir(parents=True, exist_ok=True)
        render_engine = create_engine(engine_options)
        console.print(f"[dim]engine: {render_engine.name}[/]")
        predictor = configured_sam(sam)
        started = time.perf_counter()
        with progress_bar(quiet) as progress, open_target(
            person, output, overwrite=overwrite, extra_inputs=[garment], start=start, end=end,
            encode=encode,
        ) as io:
            report = tryon_frames(io.frames(), model, render_engine, options, mode.value, io.is_video,
                                  engine_options.diffusion.seed, io.write, progress, io.total, predictor,
                                  debug_dir=debug_dir)
        summary = report.as_dict()
        summary.pop("per_frame")
        emit({"output": str(output), "engine": render_engine.name, "mode": mode.value, **summary,
              "frames_rendered": report.frames_rendered, "seconds": round(time.perf_counter() - started, 3)},
             json_out, str(output))
