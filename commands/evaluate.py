"""`tryon eval swap SOURCE TARGET OUTPUT`: identity, pose, expression, skin tone and flicker.
`tryon eval tryon PERSON GARMENT OUTPUT`: garment colour, old-garment leftovers, pixels outside the mask."""

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
    """The figures a person reads first, one line each, with issue 14's bar where there is one (all of
    them with --json)."""
    from tryon_cli.faceswap.evaluate import GAZE_MOVES, SWAP_BARS

    identity, expression = result["identity"], result["expression"]
    gaze_std = expression.get("gaze_target_std")
    rows = [
        ("frames with a face", f"{result['frames_with_face']} of {result['frames']}", None),
        ("distance to source (dlib; same person < 0.6)", identity["distance_to_source"], None),
        ("distance to target", identity["distance_to_target"], None),
        ("same-person rate", identity["same_person_rate"], "same_person_rate"),
        ("closer to source than target", identity["closer_to_source_rate"], "closer_to_source_rate"),
        ("same-person rate, hair-blind (inner face only)", identity["hair_blind"]["same_person_rate"],
         "same_person_rate"),
        ("closer to source, hair-blind", identity["hair_blind"]["closer_to_source_rate"], "closer_to_source_rate"),
        ("head-pose error (degrees)", result["pose_error_degrees"], "pose_error_degrees"),
        ("mouth-open correlation", expression["mouth_open_correlation"], "mouth_open_correlation"),
        ("eye-open correlation", expression["eye_open_correlation"], None),
        ("gaze correlation (iris, eyes open)", expression["gaze_correlation"],
         "gaze_correlation" if gaze_std is not None and gaze_std >= GAZE_MOVES else None),
        ("target gaze movement (std, eye widths)", gaze_std, None),
        ("sharpness ratio (face, output / target)", result["sharpness_ratio"], "sharpness_ratio"),
        ("feature sharpness ratio, worst tenth (96-px face)", result["feature_sharpness_ratio"]["p90"],
         "feature_sharpness_ratio"),
        ("cheek colour difference (Delta E)", result["cheek_delta_e"], "cheek_delta_e"),
        ("flicker ratio (output / target)", result["flicker_ratio"], "flicker_ratio"),
    ]
    table = Table(title="swap evaluation")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("bar", justify="right")
    for name, value, bar_key in rows:
        shown = value if isinstance(value, str) else _figure(value)
        bar = SWAP_BARS.get(bar_key) if bar_key else None
        verdict = ""
        if bar is not None:
            number = value.get("median") if isinstance(value, dict) else value
            met = bar.met(number)
            verdict = f"{bar} " + ("[green]ok[/]" if met else "[red]off[/]" if met is False else "")
        table.add_row(name, shown, verdict.strip())
    if result.get("sheet"):
        table.caption = f"contact sheet: {result['sheet']}"
    return table


@app.command("tryon")
def eval_tryon(
    person: Path = typer.Argument(..., help="The person photo that was dressed."),
    garment: Path = typer.Argument(..., help="The garment photo used."),
    output: Path = typer.Argument(..., help="The try-on output (a photo)."),
    category: str = typer.Option("upper", help="The --category the try-on used (upper, lower, dress)."),
    mask: Optional[Path] = typer.Option(None, help="The try-on mask used (default: rebuilt as `tryon mask` builds it)."),
    garment_mask: Optional[Path] = typer.Option(None, help="The garment's own mask, as given to the try-on."),
    sheet: Optional[Path] = typer.Option(None, help="Write a contact sheet PNG: person | garment | mask | result."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing sheet."),
    json_out: bool = JSON_OPTION,
    quiet: bool = QUIET_OPTION,
    debug: bool = DEBUG_OPTION,
) -> None:
    """Worn garment colour vs the photo where it was placed (Delta E, bar 10; and vs the whole photo), old-garment leftovers (bar 2% of the mask),
    pixels changed outside the mask (bar 0)."""
    with reported_errors(debug):
        from tryon_cli.garments.evaluate import evaluate_tryon
        from tryon_cli.io.media import write_image
        from tryon_cli.io.outputs import check_output_path
        from tryon_cli.masks.garment import MaskOptions

        MaskOptions(category=category)  # an unknown category fails here, before any work
        if sheet is not None:
            check_output_path(sheet, [person, garment, output], overwrite, allowed_suffixes=(".png",))
        result, picture = evaluate_tryon(person, garment, output, category, mask, garment_mask)
        if sheet is not None:
            write_image(sheet, picture)
            result["sheet"] = str(sheet)
        if json_out:
            typer.echo(json.dumps(result))
        else:
            Console(highlight=False).print(_tryon_table(result))


def _tryon_table(result: dict) -> Table:
    bars = result["bars"]
    mark = lambda ok: "n/a" if ok is None else ("pass" if ok else "FAIL")  # noqa: E731
    colour, placed = result["colour_delta_e"], result["colour_delta_e_placed"]
    rows = [
        ("garment colour where placed (Delta E, bar 10)", "n/a" if placed is None else f"{placed:.1f}",
         mark(bars["colour_within_10"])),
        ("garment colour against the whole photo (Delta E)", "n/a" if colour is None else f"{colour:.1f}", ""),
        ("old garment left (share of mask, bar 2%)", f"{100 * result['leftover_share']:.2f}%",
         mark(bars["leftover_under_2pct"])),
        ("pixels changed outside the mask (bar 0)", str(result["changed_outside_mask"]),
         mark(bars["outside_mask_bit_exact"])),
    ]
    table = Table(title="try-on evaluation", show_header=False)
    for _ in range(3):
        table.add_column()
    for row in rows:
        table.add_row(*row)
    return table
