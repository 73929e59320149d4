"""`tryon build-triplets FOLDER -o OUT`: training triplets from a folder of try-on pairs, resumable and shardable."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from tryon_cli.errors import InputError
from tryon_cli.data.triplets import TripletSettings, build_triplets

from .common import DEBUG_OPTION, JSON_OPTION, QUIET_OPTION, emit, fail, progress_bar, reported_errors, stderr_console


def _shard(value: str) -> tuple[int, int]:
    try:
        index, count = (int(v) for v in value.split("/"))
    except ValueError:
        raise InputError(f"--shard must look like i/n (e.g. 0/8), not '{value}'") from None
    if count < 1 or not 0 <= index < count:
        raise InputError(f"--shard {value}: need 0 <= i < n")
    return index, count


def build_triplets_command(
    folder: Path = typer.Argument(..., help="VITON-HD (image/ + cloth/), DressCode (*_0/*_1), or a folder with pairs.csv."),
    output: Path = typer.Option(..., "--output", "-o", help="Output folder (manifest.jsonl, failed.jsonl, triplets/)."),
    pairs: Optional[Path] = typer.Option(None, help="A pairs CSV (person,garment[,category]) instead of the layout's."),
    category: str = typer.Option("auto", help="auto (from the layout or the garment photo), upper, lower or dress."),
    strategy: str = typer.Option("dilate-relax", help="Mask strategy."),
    train_jitter: bool = typer.Option(True, "--train-jitter/--no-train-jitter", help="Jitter mask edges (seeded)."),
    engine: str = typer.Option("classical", help="Engine for the repaint: classical or diffusion."),
    workers: int = typer.Option(1, min=1, help="Worker processes."),
    shard: str = typer.Option("0/1", help="Build only shard i of n (Slurm array, Kubernetes job, Ray task)."),
    seed: int = typer.Option(0, help="Seed (mask jitter, repaint garment choice)."),
    retry_failed: bool = typer.Option(False, "--retry-failed", help="Try items in failed.jsonl again."),
    json_out: bool = JSON_OPTION,
    quiet: bool = QUIET_OPTION,
    debug: bool = DEBUG_OPTION,
) -> None:
    """Mask each person's garment, repaint it with another garment, and write (input, condition, target)."""
    with reported_errors(debug):
        settings = TripletSettings(seed=seed, engine=engine, strategy=strategy, category=category,
                                   train_jitter=train_jitter)
        with progress_bar(quiet) as progress:
            summary = build_triplets(folder, output, settings, workers, _shard(shard), pairs, retry_failed, progress)
        emit({"output": str(output), **summary.as_dict()}, json_out, str(output))
        if summary.failed:
            failed_file = sorted(output.glob("failed*.jsonl"))
            stderr_console(quiet).print(f"[yellow]warning:[/] {summary.failed} item(s) failed; the reasons are in "
                                        f"{failed_file[-1] if failed_file else output}")
        if summary.failed and not summary.built:
            fail(f"{folder}: all {summary.failed} items failed; see the failed*.jsonl in {output}", 1)
