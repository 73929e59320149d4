"""`tryon benchmark [VIDEO...]`: fps, ratio to the decode+encode floor, and peak memory per command."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import List, Optional

import typer

from tryon_cli.errors import InputError

from .common import DEBUG_OPTION, JSON_OPTION, QUIET_OPTION, read_paths, reported_errors, stderr_console


def benchmark(
    videos: Optional[List[Path]] = typer.Argument(None, metavar="VIDEO", help="Videos to measure ('-' reads paths from stdin); none: generated talking heads.", show_default=False),
    tasks: List[str] = typer.Option(["swap"], "--task", help="Command to measure: swap, mask or tryon (repeatable)."),
    heights: List[int] = typer.Option([], "--resolution", min=64, help="Rescale each VIDEO so its short side is this, e.g. 720 or 1080 (repeatable); generated videos use 480, 720, 1080 by default."),
    faces: List[str] = typer.Option(["closeup", "small"], "--face", help="Generated videos' face layout: closeup or small (repeatable)."),
    seconds: Optional[float] = typer.Option(None, min=0.1, help="Loop or cut each video to this length (generated: default 3 s)."),
    source: Optional[Path] = typer.Option(None, help="Source photo for swap (default: the portrait shipped with insightface)."),
    garment: Optional[Path] = typer.Option(None, help="Garment photo for tryon."),
    repeats: int = typer.Option(1, min=1, help="Alternate floor and command this many times; keep the fastest."),
    workdir: Optional[Path] = typer.Option(None, help="Keep prepared videos and outputs here (default: a temporary folder, removed)."),
    command_options: List[str] = typer.Option([], "--command-option", help="An option for every measured command, e.g. --command-option=--parsing (repeatable)."),
    json_out: bool = JSON_OPTION,
    quiet: bool = QUIET_OPTION,
    debug: bool = DEBUG_OPTION,
) -> None:
    """Measure commands on videos against a decode+encode-only pass over the same video in the same run."""
    from tryon_cli import benchmarking as bench

    with reported_errors(debug):
        console = stderr_console(quiet)
        for task in tasks:
            if task not in bench.TASKS:
                raise InputError(f"--task must be one of {', '.join(bench.TASKS)}, not '{task}'")
        for face in faces:
            if face not in bench.FACE_LAYOUTS:
                raise InputError(f"--face must be one of {', '.join(bench.FACE_LAYOUTS)}, not '{face}'")
        for option in command_options:
            if not option.startswith("-"):
                raise InputError(f"--command-option takes a command's option (e.g. --command-option=--parsing), not '{option}'")
        paths = read_paths(videos) if videos else []
        for path in paths:
            if not path.is_file():
                raise InputError(f"{path}: no such video")
        if "swap" in tasks:
            source = source or bench.default_source_photo()
            if source is None or not source.is_file():
                raise InputError(f"{source or 'the source photo'}: not found; pass --source PHOTO for the swap")
        if "tryon" in tasks and (garment is None or not garment.is_file()):
            raise InputError(f"{garment or 'the garment photo'}: not found; pass --garment PHOTO for tryon")
        with tempfile.TemporaryDirectory(prefix="tryon-bench-") as tmp:
            work = workdir or Path(tmp)
            work.mkdir(parents=True, exist_ok=True)
            prepared: list[Path] = []
            if paths:
                for path in paths:
                    if seconds is not None or not heights:
                        prepared.append(path if seconds is None else
                                        bench.rescale_video(path, work / f"{path.stem}_{seconds:g}s.mp4", None, seconds))
                    for height in heights:
                        console.log(f"rescaling {path.name} to {height}p")
                        name = f"{path.stem}_{height}p" + (f"_{seconds:g}s" if seconds else "") + ".mp4"
                        prepared.append(bench.rescale_video(path, work / name, height, seconds))
            else:
                from skimage import data

                photo = data.astronaut()
                for height in heights or [480, 720, 1080]:
                    for face in faces:
                        console.log(f"generating a {height}p {face} talking head")
                        prepared.append(bench.generate_video(photo, work / f"generated_{face}_{height}p.mp4", height,
                                                             face, seconds or 3.0))
            rows = []
            for video in prepared:
                console.log(f"measuring {video.name}")
                rows.extend(bench.bench_video(video, tasks, work, source, garment, repeats, command_options))
        if json_out:
            for row in rows:
                typer.echo(json.dumps(row.as_dict()))
        else:
            typer.echo(bench.format_table(rows))
            typer.echo("ratio: seconds of the command / seconds of the decode+encode-only pass over the same video "
                       "(warm: models loaded; cold: whole process; cpu: user+system CPU seconds, whole process)")
