"""`tryon swap SOURCE... TARGET -o OUT`: put the face in SOURCE onto the face(s) in TARGET."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from tryon_cli.errors import InputError
from tryon_cli.faceswap.options import SwapOptions
from tryon_cli.faceswap.runner import swap_frames
from tryon_cli.faceswap.source import prepare_source
from tryon_cli.io.media import expand_image_inputs, read_image
from tryon_cli.io.target_media import EncodeOptions, check_target, open_target
from tryon_cli.render.options import SWAP_DIFFUSION_DEFAULTS, EngineOptions
from tryon_cli.render.registry import create_engine

from .common import (DEBUG_OPTION, JSON_OPTION, OVERWRITE_OPTION, QUIET_OPTION, emit, progress_bar, read_paths,
                     reported_errors, stderr_console)
from .options import encode_options, engine_options


def _parse_target_face(value: str) -> str:
    if value in {"largest", "all"} or value.isdigit():
        return value
    raise InputError(f"--target-face must be 'largest', 'all' or a face number (0 = leftmost), not '{value}'")


@engine_options(SWAP_DIFFUSION_DEFAULTS)
@encode_options()
def swap(
    sources: Optional[List[Path]] = typer.Argument(None, metavar="SOURCE", help="Source photo(s) or a folder of photos of one person; '-' reads paths from stdin.", show_default=False),
    target: Optional[Path] = typer.Argument(None, metavar="TARGET", help="Target video or image.", show_default=False),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Output file (default: TARGET's name + '_swapped' in the current folder)."),
    target_face: str = typer.Option("largest", help="Which faces to replace: largest, all, or a number (0 = leftmost)."),
    reference: Optional[Path] = typer.Option(None, help="Replace only the person in this photo."),
    start: Optional[float] = typer.Option(None, help="Start time in seconds (trim)."),
    end: Optional[float] = typer.Option(None, help="End time in seconds (trim)."),
    mouth_mask: bool = typer.Option(True, "--mouth-mask/--no-mouth-mask", help="Keep the target's mouth interior (teeth, tongue)."),
    occlusion: bool = typer.Option(True, "--occlusion/--no-occlusion", help="Keep hair, glasses and objects in front of the face."),
    smooth: float = typer.Option(0.5, min=0.0, max=1.0, help="Temporal smoothing strength, 0 (off) to 1."),
    use_3d: bool = typer.Option(True, "--3d/--2d", help="3D identity/expression split (--2d: naive warp onto the target's landmarks)."),
    debug_dir: Optional[Path] = typer.Option(None, help="Write per-frame masks, landmark overlays and normal maps here."),
    *,
    engine_options: EngineOptions,
    encode: EncodeOptions,
    overwrite: bool = OVERWRITE_OPTION,
    json_out: bool = JSON_OPTION,
    quiet: bool = QUIET_OPTION,
    debug: bool = DEBUG_OPTION,
) -> None:
    """Swap the face in SOURCE onto the face(s) in TARGET (video or image), 3D-aware, on CPU."""
    console = stderr_console(quiet)
    with reported_errors(debug):
        if target is None:
            raise InputError("missing SOURCE and TARGET: give the source photo(s), then the target video or image")
        if not sources:
            raise InputError(f"missing TARGET: {target} is the only path given; give the source photo(s), then "
                             "the target video or image")
        source_paths = expand_image_inputs(read_paths(sources))
        output = output or Path.cwd() / f"{target.stem}_swapped{target.suffix}"
        check_target(target, output, source_paths + ([reference] if reference else []), overwrite)
        reference_descriptor = None
        encoder = None
        if reference is not None:
            from tryon_cli.analysis.identity import DlibFaceEncoder

            encoder = DlibFaceEncoder()
            reference_descriptor = encoder.encode(read_image(reference))
            if reference_descriptor is None:
                raise InputError(f"{reference}: no face found in the reference photo")
        options = SwapOptions(target_face=_parse_target_face(target_face), reference_descriptor=reference_descriptor,
                              mouth_mask=mouth_mask, occlusion=occlusion, smooth=smooth, use_3d=use_3d)
        if debug_dir is not None:
            debug_dir.mkdir(parents=True, exist_ok=True)
        render_engine = create_engine(engine_options)
        console.print(f"[dim]engine: {render_engine.name}[/]")
        source = prepare_source([(p, read_image(p)) for p in source_paths])
        with progress_bar(quiet) as progress, open_target(
            target, output, overwrite=overwrite, extra_inputs=source_paths, start=start, end=end, encode=encode
        ) as io:
            report = swap_frames(io.frames, source, render_engine, io.write, options, tracking=io.is_video,
                                 total=io.total, encoder=encoder, progress=progress, debug_dir=debug_dir)
        if report.swapped == 0:
            console.print(f"[yellow]warning:[/] no frame of {target} had a face to swap; the output is a copy")
        emit({"output": str(output), "engine": render_engine.name, **report.as_dict()}, json_out, str(output))
