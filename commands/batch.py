"""The command side of batch runs: plan, run, print one result per target and a summary."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Callable

from tryon_cli.batch import BatchItem, Cancelled, Work, batch_targets, plan_batch, run_batch
from tryon_cli.errors import InputError

from .common import emit, fail, stderr_console
from .options import RunFlags


def cancellable(write: Callable, cancelled: threading.Event | None) -> Callable:
    """`write` that raises Cancelled once the batch is interrupted (the output is then discarded)."""

    def checked(frame, image) -> None:
        if cancelled is not None and cancelled.is_set():
            raise Cancelled()
        write(frame, image)

    return checked


def debug_folder(debug_dir: Path | None, item: BatchItem, batch: bool) -> Path | None:
    """Where one target's debug images go: the folder itself, or a subfolder per target in a batch."""
    if debug_dir is None:
        return None
    folder = debug_dir / item.target.stem if batch else debug_dir
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def is_batch(target: Path) -> bool:
    """A folder of targets, or '-' for target paths on stdin."""
    return str(target) == "-" or target.is_dir()


def run_batch_command(paths: list[Path], output: Path | None, flags: RunFlags, workers: int,
                      make_work: Callable[[threading.Event], Work]) -> None:
    """Run a batch over `paths` (files and folders of targets): print each target's result (its path,
    or JSON), warn about failures, exit 1 if any failed."""
    if output is None:
        raise InputError(f"{paths[0] if paths else 'stdin'}: a batch needs an output folder (-o FOLDER)")
    targets = batch_targets(paths)
    todo, done = plan_batch(targets, output, flags.overwrite)
    console, errors = stderr_console(flags.quiet), stderr_console(False)
    if done:
        console.print(f"[dim]{len(done)} of {len(targets)} outputs already exist in {output}; skipped "
                      "(--overwrite redoes them)[/]")
    output.mkdir(parents=True, exist_ok=True)

    def report(item: BatchItem, result: dict | None, reason: str | None) -> None:
        if reason is not None:  # an error of this target: shown even with -q
            errors.print(f"[bold red]error:[/] {item.target}: {reason}", highlight=False, soft_wrap=True)
            emit({"target": str(item.target), "output": None, "error": reason}, flags.json_out)
        else:
            emit({"target": str(item.target), **result}, flags.json_out, str(item.output))

    summary = run_batch(todo, make_work, workers, report)
    for item in done:
        emit({"target": str(item.target), "output": str(item.output), "skipped": "already done"}, flags.json_out)
    summary.skipped.extend(done)
    figures = summary.as_dict()
    console.print(f"batch: {figures['done']} done, {figures['skipped']} skipped, {figures['failed']} failed "
                  f"in {figures['seconds']} s")
    if summary.failed:
        fail(f"{output}: {len(summary.failed)} of {len(targets)} targets failed (reasons above)", 1)
