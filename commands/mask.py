"""`tryon mask PERSON -o OUT`: the try-on mask of a person photo or video."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import Optional

import numpy as np
import typer

from tryon_cli.garments.planner import mask_frames
from tryon_cli.io.media import is_video
from tryon_cli.io.target_media import EncodeOptions, check_target, open_target
from tryon_cli.masks.garment import Category, MaskOptions, Strategy, overlay

from .common import DEBUG_OPTION, JSON_OPTION, OVERWRITE_OPTION, QUIET_OPTION, emit, progress_bar, read_paths, reported_errors


def mask(
    person: Path = typer.Argument(..., help="Person photo or video ('-' reads one path from stdin)."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Mask image, mask video, or a folder for PNG frames (no suffix). Default: PERSON's name + '_mask'."),
    category: Category = typer.Option(Category.upper, help="Which garment the mask is for."),
    strategy: Strategy = typer.Option(Strategy.dilate_relax, help="Mask shape."),
    train_jitter: bool = typer.Option(False, "--train-jitter", help="Push each box edge out by a random amount (training data)."),
    pad: float = typer.Option(0.3, min=0.0, help="Box padding, in shoulder widths."),
    seed: int = typer.Option(0, help="Seed for --train-jitter."),
    preview: Optional[Path] = typer.Option(None, help="Also write the mask over the person here (image or video)."),
    start: Optional[float] = typer.Option(None, help="Start time in seconds."),
    end: Optional[float] = typer.Option(None, help="End time in seconds."),
    sam: Optional[str] = typer.Option(None, help="SAM checkpoint for a sharper garment region (default: TRYON_SAM or the config file; none: GrabCut)."),
    overwrite: bool = OVERWRITE_OPTION,
    json_out: bool = JSON_OPTION,
    quiet: bool = QUIET_OPTION,
    debug: bool = DEBUG_OPTION,
) -> None:
    """Where a new garment may go: FitDiT-style dilate-relax masks, with face, hair, hands and feet protected."""
    with reported_errors(debug, quiet):
        person = read_paths([person])[0]
        options = MaskOptions(category=category.value, strategy=strategy.value, pad=pad, train_jitter=train_jitter)
        output = output or Path.cwd() / f"{person.stem}_mask{person.suffix if person.suffix.lower() != '.jpg' else '.png'}"
        check_target(person, output, [], overwrite)
        if preview is not None:
            check_target(person, preview, [output], overwrite)
        from tryon_cli.masks.sam import configured_sam  # torch: imported only when a command runs

        predictor = configured_sam(sam)
        encode = EncodeOptions(crf=4, keep_audio=False)
        with progress_bar(quiet) as progress, ExitStack() as stack:
            io = stack.enter_context(open_target(person, output, overwrite=overwrite, start=start, end=end, encode=encode))
            preview_io = stack.enter_context(open_target(person, preview, overwrite=overwrite, start=start, end=end)) \
                if preview is not None else None

            def write(frame, result: np.ndarray) -> None:
                io.write(frame, np.repeat(result[..., None], 3, axis=2) if is_video(output) else result)
                if preview_io is not None:
                    preview_io.write(frame, overlay(frame.image, result))

            report = mask_frames(io.frames(), options, io.is_video, seed, write, progress, io.total, predictor)
        emit({"output": str(output), "preview": str(preview) if preview else None, **report.as_dict()}, json_out,
             str(output))
