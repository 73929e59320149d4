"""`tryon eval swap SOURCE TARGET OUTPUT`: identity, pose, expression, skin tone and flicker as JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from tryon_cli.io.media import is_video
from tryon_cli.io.target_media import check_comparable
from tryon_cli.io.video import probe_video

from .common import DEBUG_OPTION, QUIET_OPTION, progress_bar, read_paths, reported_errors

app = typer.Typer(help="Measure the quality of an output.", no_args_is_help=True)


@app.command("swap")
def eval_swap(
    source: Path = typer.Argument(..., help="Source photo or folder used for the swap."),
    target: Path = typer.Argument(..., help="The target video or image that was swapped."),
    output: Path = typer.Argument(..., help="The swapped output."),
    samples: int = typer.Option(40, min=1, help="Frames sampled for identity, pose and skin tone."),
    start: Optional[float] = typer.Option(None, help="The --start the swap used."),
    end: Optional[float] = typer.Option(None, help="The --end the swap used."),
    quiet: bool = QUIET_OPTION,
    debug: bool = DEBUG_OPTION,
) -> None:
    """Identity distance to source and target (dlib), pose error, expression fidelity, cheek Delta E, flicker."""
    with reported_errors(debug, quiet):
        from tryon_cli.analysis.identity import DlibFaceEncoder
        from tryon_cli.faceswap.evaluate import EvalOptions, evaluate_swap

        check_comparable(target, output, start, end)
        total = probe_video(output).frame_count if is_video(output) else 1
        with progress_bar(quiet, "eval ") as progress:
            result = evaluate_swap(read_paths([source]), target, output, DlibFaceEncoder(),
                                   EvalOptions(samples=samples, start=start, end=end),
                                   progress=lambda done, n: progress("frames", done, n), total=total)
        typer.echo(json.dumps(result))
