"""Batch runs: one command over a folder (or a list) of targets, one output per target.

Outputs already present are skipped (a rerun resumes), a failing target is reported and the rest go
on, and `workers` threads share the work, each with its own engine and analysers (OpenCV, PyAV,
MediaPipe and numpy release the GIL, so threads keep the cores busy without copying models across
processes).
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from .errors import InputError, TryonError
from .io.media import is_image, is_video


@dataclass(frozen=True)
class BatchItem:
    """One target and where its output goes."""

    target: Path
    output: Path


@dataclass
class BatchSummary:
    """What a batch did: per target, the result (a dict) or why it failed or was skipped."""

    done: list[tuple[BatchItem, dict]] = field(default_factory=list)
    skipped: list[BatchItem] = field(default_factory=list)
    failed: list[tuple[BatchItem, str]] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return {"targets": len(self.done) + len(self.skipped) + len(self.failed), "done": len(self.done),
                "skipped": len(self.skipped), "failed": len(self.failed), "seconds": round(self.seconds, 3),
                "failures": [{"target": str(item.target), "reason": reason} for item, reason in self.failed]}


def batch_targets(paths: Iterable[Path]) -> list[Path]:
    """Folders expanded to the videos and images directly inside them (sorted), files kept as given."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.iterdir() if p.is_file() and (is_video(p) or is_image(p))))
        else:
            found.append(path)
    if not found:
        raise InputError(f"no videos or images found in {', '.join(str(p) for p in paths) or 'the input'}")
    return found


def plan_batch(targets: list[Path], out_dir: Path, overwrite: bool) -> tuple[list[BatchItem], list[BatchItem]]:
    """(to do, already done): each target's output is OUT_DIR/<target's name>; InputError on clashes."""
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"{out_dir}: a batch writes into a folder, and this is a file")
    seen: dict[str, Path] = {}
    todo, done = [], []
    for target in targets:
        if target.name in seen:
            raise InputError(f"{target} and {seen[target.name]} would both write {out_dir / target.name}")
        seen[target.name] = target
        if target.resolve().parent == out_dir.resolve():
            raise InputError(f"{out_dir}: the output folder holds the targets; choose another folder")
        item = BatchItem(target, out_dir / target.name)
        (done if item.output.exists() and not overwrite else todo).append(item)
    return todo, done


Work = Callable[[BatchItem], dict]


class Cancelled(Exception):
    """Raised inside a worker when the batch was interrupted: its output is discarded like any failure."""


def run_batch(items: list[BatchItem], make_work: Callable[[threading.Event], Work], workers: int = 1,
              on_result: Callable[[BatchItem, dict | None, str | None], None] | None = None) -> BatchSummary:
    """Run `work(item)` for every item on `workers` threads; `make_work(cancelled)` is called once per
    thread (each thread's own engine and analysers) and its work should raise `Cancelled` soon after
    `cancelled` is set (between frames). Errors of one item are recorded, never raised. On Ctrl-C the
    workers are cancelled, their partial outputs removed, and KeyboardInterrupt is raised."""
    summary = BatchSummary()
    cancelled = threading.Event()
    started = time.perf_counter()
    pending: queue.Queue[BatchItem] = queue.Queue()
    for item in items:
        pending.put(item)
    lock = threading.Lock()
    setup_errors: list[BaseException] = []

    def worker() -> None:
        try:
            work = make_work(cancelled)
        except BaseException as error:  # noqa: BLE001 - surfaced to the caller below
            setup_errors.append(error)
            return
        while True:
            try:
                item = pending.get_nowait() if not cancelled.is_set() else None
            except queue.Empty:
                item = None
            if item is None:
                return
            try:
                result, reason = work(item), None
            except Cancelled:
                return
            except (TryonError, OSError, ValueError) as error:
                result, reason = None, str(error)
            with lock:
                if reason is None:
                    summary.done.append((item, result))
                else:
                    summary.failed.append((item, reason))
                if on_result:
                    on_result(item, result, reason)

    if workers <= 1:
        worker()  # in this thread: Ctrl-C reaches the work directly
    else:
        threads = [threading.Thread(target=worker, daemon=True) for _ in range(min(workers, len(items)))]
        for thread in threads:
            thread.start()
        try:
            for thread in threads:
                thread.join()
        except KeyboardInterrupt:
            cancelled.set()
            for thread in threads:
                thread.join()
            raise
    if setup_errors and not summary.done and not summary.failed:
        raise setup_errors[0]
    summary.seconds = time.perf_counter() - started
    return summary
