"""`tryon build-triplets FOLDER -o OUT`: training triplets from a folder of try-on pairs, resumable and shardable."""

from __future__ import annotations

import os
from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from tryon_cli.data.store import OutputFormat
from tryon_cli.data.build import build_triplets
from tryon_cli.data.triplets import TripletSettings
from tryon_cli.errors import InputError
from tryon_cli.masks.garment import Category, Strategy
from tryon_cli.render.options import EngineName

from .common import DEBUG_OPTION, QUIET_OPTION, emit, fail, progress_bar, reported_errors, stderr_console


# The garment categories of the masks, plus "auto" (from the layout or the garment photo).
CategoryChoice = Enum("CategoryChoice", {"auto": "auto", **{c.name: c.value for c in Category}}, type=str)


class Executor(str, Enum):
    local = "local"
    ray = "ray"


def parse_shard(value: str | None) -> tuple[int, int]:
    """`i/n`, or (when not given) Slurm's array task id and count, or the whole set."""
    if value is None:
        task, count = os.environ.get("SLURM_ARRAY_TASK_ID"), os.environ.get("SLURM_ARRAY_TASK_COUNT")
        if task is None or count is None:
            return 0, 1
        first = os.environ.get("SLURM_ARRAY_TASK_MIN", "0")  # arrays may start at 1 (--array=1-8)
        try:
            value = f"{int(task) - int(first)}/{int(count)}"
        except ValueError:
            raise InputError(f"SLURM_ARRAY_TASK_ID={task!r} / SLURM_ARRAY_TASK_COUNT={count!r} are not numbers") from None
    try:
        index, count = (int(v) for v in value.split("/"))
    except ValueError:
        raise InputError(f"--shard must look like i/n (e.g. 0/8), not '{value}'") from None
    if count < 1 or not 0 <= index < count:
        raise InputError(f"--shard {value}: need 0 <= i < n")
    return index, count


def build_triplets_command(
    folder: Path = typer.Argument(..., help="VITON-HD (image/ + cloth/), DressCode (*_0/*_1), or a folder with pairs.csv."),
    output: Path = typer.Option(..., "--output", "-o", help="Output folder (manifest.jsonl, failed.jsonl, triplets/ or *.tar)."),
    pairs: Optional[Path] = typer.Option(None, metavar="CSV", help="A pairs CSV (person,garment[,category]) instead of the layout's."),
    category: CategoryChoice = typer.Option(CategoryChoice.auto, help="auto (from the layout or the garment photo), upper, lower or dress."),
    strategy: Strategy = typer.Option(Strategy.dilate_relax, help="Mask strategy."),
    train_jitter: bool = typer.Option(True, "--train-jitter/--no-train-jitter", help="Jitter mask edges (seeded)."),
    engine: EngineName = typer.Option(EngineName.classical, help="Engine for the repaint: classical, diffusion, or auto (diffusion when a checkpoint is configured)."),
    output_format: OutputFormat = typer.Option(OutputFormat.files, "--format", help="files (a folder per item) or webdataset (NNNNNN.tar shards of about 1 GB, plus a Parquet index)."),
    workers: int = typer.Option(1, min=1, help="Worker processes (local) or Ray actors (ray)."),
    executor: Executor = typer.Option(Executor.local, help="local (worker processes) or ray (Ray Data; pip install 'tryon-cli[ray]')."),
    ray_address: Optional[str] = typer.Option(None, metavar="ADDR", help="Ray cluster to join (default: RAY_ADDRESS, else a local Ray)."),
    shard: Optional[str] = typer.Option(None, metavar="I/N", help="Build only shard i of n (default: from SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT, else all)."),
    seed: int = typer.Option(0, help="Seed (mask jitter, repaint garment choice)."),
    retry_failed: bool = typer.Option(False, "--retry-failed", help="Try items in failed.jsonl again."),
    verify: bool = typer.Option(False, "--verify", help="On resume, check done items' SHA-256 too (not only that their files exist with the right size)."),
    json_out: bool = typer.Option(False, "--json", help="Print the run's summary as one JSON object on stdout."),
    quiet: bool = QUIET_OPTION,
    debug: bool = DEBUG_OPTION,
) -> None:
    """Mask each person's garment, repaint it with another garment, and write (input, condition, target)."""
    with reported_errors(debug):
        settings = TripletSettings(seed=seed, engine=engine.value, strategy=strategy.value, category=category.value,
                                   train_jitter=train_jitter)
        chosen_shard = parse_shard(shard)
        console = stderr_console(quiet)
        with progress_bar(quiet) as progress:
            summary = build_triplets(folder, output, settings, workers, chosen_shard, pairs, retry_failed, progress,
                                     output_format=output_format, verify=verify, executor=executor.value,
                                     ray_address=ray_address)
        for warning in summary.warnings:
            console.print(f"[yellow]warning:[/] {warning}", highlight=False, soft_wrap=True)
        emit({"output": str(output), **summary.as_dict()}, json_out, str(output))
        if summary.failed:
            failed_file = sorted(output.glob("failed*.jsonl"))
            console.print(f"[yellow]warning:[/] {summary.failed} item(s) failed; the reasons are in "
                          f"{failed_file[-1] if failed_file else output}")
        if summary.failed and not summary.built and not summary.already_done:
            fail(f"{folder}: all {summary.failed} items failed; see the failed*.jsonl in {output}", 1)
