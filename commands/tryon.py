"""`tryon tryon PERSON GARMENT -o OUT`: dress the person (photo or video) in the garment."""

from __future__ import annotations

import threading
import time
from enum import Enum
from pathlib import Path
from typing import Callable, Optional

import typer

from tryon_cli.batch import BatchItem
from tryon_cli.garments.photo import load_garment
from tryon_cli.garments.planner import NO_TORSO, tryon_frames
from tryon_cli.io.target_media import EncodeOptions, check_target, open_target
from tryon_cli.masks.garment import Category, MaskOptions, Strategy
from tryon_cli.render.options import TRYON_DIFFUSION_DEFAULTS, EngineOptions
from tryon_cli.render.registry import create_engine

from .batch import cancellable, debug_folder, is_batch, run_batch_command
from .common import emit, progress_bar, read_paths, reported_errors, stderr_console
from .options import RunFlags, encode_options, engine_options, run_flags


class Mode(str, Enum):
    mask = "mask"
    mask_free = "mask-free"


@engine_options(TRYON_DIFFUSION_DEFAULTS, classical=False)
@encode_options()
@run_flags()
def tryon(
    engine_options: EngineOptions,
    encode: EncodeOptions,
    flags: RunFlags,
    person: Path = typer.Argument(..., help="Person photo or video; a folder of them, or '-' for paths on stdin (a batch with -o FOLDER)."),
    garment: Path = typer.Argument(..., help="Flat photo of the garment on a plain background."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Output file (default: PERSON's name + '_tryon')."),
    category: Category = typer.Option(Category.upper, help="Which garment the photo shows."),
    mode: Mode = typer.Option(Mode.mask, help="mask (agnostic mask, then fill) or mask-free (garment over the person)."),
    strategy: Strategy = typer.Option(Strategy.dilate_relax, help="Mask strategy in mask mode."),
    garment_mask: Optional[Path] = typer.Option(None, help="The garment's own mask (default: segmented from the photo)."),
    debug_dir: Optional[Path] = typer.Option(None, help="Write per-frame masks and mask overlays here."),
    workers: int = typer.Option(1, min=1, help="People processed at once when PERSON is a folder or a list."),
    start: Optional[float] = typer.Option(None, help="Start time in seconds."),
    end: Optional[float] = typer.Option(None, help="End time in seconds."),
    sam: Optional[str] = typer.Option(None, help="SAM checkpoint for a sharper garment region (default: TRYON_SAM or the config file; none: GrabCut)."),
) -> None:
    """Virtual try-on for photos and videos: mask-based or mask-free, classical or diffusion."""
    with reported_errors(flags.debug, flags.quiet):
        people = read_paths([person])
        batch = len(people) != 1 or is_batch(people[0]) or (str(person) == "-" and output is not None and not output.suffix)
        console = stderr_console(flags.quiet)
        options = MaskOptions(category=category.value, strategy=strategy.value)
        inputs = [garment, *([garment_mask] if garment_mask is not None else [])]
        if not batch:
            person = people[0]
            output = output or Path.cwd() / f"{person.stem}_tryon{person.suffix}"
            check_target(person, output, inputs, flags.overwrite, encode)
        model = load_garment(garment, options.category, garment_mask)
        from tryon_cli.masks.sam import configured_sam  # torch: imported only when a command runs

        predictor = configured_sam(sam)

        def make_work(cancelled: threading.Event | None = None) -> Callable[[BatchItem], dict]:
            """One worker's engine, and the try-on of one person (photo or video) with it."""
            render_engine = create_engine(engine_options)

            def work(item: BatchItem) -> dict:
                frames_dir = debug_folder(debug_dir, item, batch)
                started = time.perf_counter()
                with progress_bar(flags.quiet, f"{item.target.name}: " if batch else "") as progress, open_target(
                    item.target, item.output, overwrite=flags.overwrite, extra_inputs=inputs, start=start, end=end,
                    encode=encode,
                ) as io:
                    write = cancellable(io.write, cancelled)
                    report = tryon_frames(io.frames(), model, render_engine, options, mode.value, io.is_video,
                                          engine_options.diffusion.seed, write, progress, io.total, predictor,
                                          debug_dir=frames_dir)
                summary = report.as_dict()
                no_torso = summary.pop("per_frame").count(NO_TORSO)
                missed = report.frames - report.frames_rendered - no_torso
                if missed:
                    console.print(f"[yellow]warning:[/] {missed} of {report.frames} frames of {item.target} had no "
                                  "person to dress; they are copied unchanged")
                if no_torso:
                    console.print(f"[yellow]warning:[/] {no_torso} of {report.frames} frames of {item.target} "
                                  "showed a person but no torso to place the garment on; they are copied unchanged")
                return {"output": str(item.output), "engine": render_engine.name, "mode": mode.value, **summary,
                        "frames_rendered": report.frames_rendered, "frames_without_person": missed,
                        "frames_without_torso": no_torso,
                        "seconds": round(time.perf_counter() - started, 3)}

            return work

        if batch:
            run_batch_command(people, output, flags, workers, make_work)
            return
        emit(make_work()(BatchItem(person, output)), flags.json_out, str(output))
