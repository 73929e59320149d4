"""`tryon eval swap SOURCE TARGET OUTPUT`: identity, pose, expression, skin tone and flicker."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from tryon_cli.io.media import is_video
from tryon_cli.io.target_media import check_comparable
from tryon_cli.io.video import probe_video

from .common import DEBUG_OPTION, JSON_OPTION, QUIET_OPTION, progress_bar, read_paths, reported_errors

app = typer.Typer(help="Measure the quality of an output.", no_args_is_help=True)


@app.command("swap")
def eval_swap(
    source: Path = typer.Argument(..., help="Source photo or folder used for the swap."),
    target: Path = typer.Argument(..., help="The target video or image that was swapped."),
    output: Path = typer.Argument(..., help="The swapped output."),
    samples: int = typer.Option(40, min=1, help="Frames sampled for identity, pose and skin tone."),
    start: Optional[float] = typer.Option(None, help="The --start the swap used."),
    end: Optional[float] = typer.Option(None, help="The --end the swap used."),
    sheet: Optional[Path] = typer.Option(None, help="Also write a contact sheet PNG here: target | output | source "
                                         "at several frames, and a strip of consecutive face crops."),
    json_out: bool = JSON_OPTION,
    quiet: bool = QUIET_OPTION,
    debug: bool = DEBUG_OPTION,
) -> None:
    """Identity distance to source and target (dlib), pose error, expression and gaze fidelity, cheek Delta E,
    sharpness, flicker."""
    with reported_errors(debug, quiet):
        from tryon_cli.analysis.identity import DlibFaceEncoder
        from tryon_cli.faceswap.evaluate import EvalOptions, evaluate_swap

        check_comparable(target, output, start, end)
        total = probe_video(output).frame_count if is_video(output) else 1
        with progress_bar(quiet, "eval ") as progress:
            result = evaluate_swap(read_paths([source]), target, output, DlibFaceEncoder(),
                                   EvalOptions(samples=samples, start=start, end=end),
                                   progress=lambda done, n: progress("frames", done, n), total=total)
        if sheet is not None:
            from tryon_cli.faceswap.sheet import write_sheet
            from tryon_cli.io.media import expand_image_inputs

            result["sheet"] = str(write_sheet(sheet, expand_image_inputs(read_paths([source])), target, output,
                                              start=start, end=end))
        if json_out:
            typer.echo(json.dumps(result))
        else:
            Console(highlight=False).print(_table(result))


def _figure(value) -> str:
    if isinstance(value, dict):  # a summary: its median, and over how many samples
        if value.get("median") is None:
            return "n/a"
        return f"{value['median']:.3g} (median of {value['n']})"
    return "n/a" if value is None else f"{value:.3g}"


def _table(result: dict) -> Table:
    """The figures a person reads first, one line each (all of them with --json)."""
    identity, expression = result["identity"], result["expression"]
    rows = [
        ("frames with a face", f"{result['frames_with_face']} of {result['frames']}"),
        ("distance to source (dlib, < 0.6 same person)", _figure(identity["distance_to_source"])),
        ("distance to target", _figure(identity["distance_to_target"])),
        ("same-person rate", _figure(identity["same_person_rate"])),
        ("closer to source than target", _figure(identity["closer_to_source_rate"])),
        ("head-pose error (degrees)", _figure(result["pose_error_degrees"])),
        ("mouth-open correlation", _figure(expression["mouth_open_correlation"])),
        ("eye-open correlation", _figure(expression["eye_open_correlation"])),
        ("gaze correlation (iris position)", _figure(expression["gaze_correlation"])),
        ("sharpness ratio (face, output / target)", _figure(result["sharpness_ratio"])),
        ("cheek colour difference (Delta E)", _figure(result["cheek_delta_e"])),
        ("flicker ratio (output / target)", _figure(result["flicker_ratio"])),
    ]
    if result.get("sheet"):
        rows.append(("contact sheet", result["sheet"]))
    table = Table(title="swap evaluation", show_header=False)
    table.add_column("measure")
    table.add_column("value", justify="right")
    for row in rows:
        table.add_row(*row)
    return table
