"""Running triplet jobs: in this process, in local worker processes, or on Ray.

Every executor yields one `Outcome` per job (in any order; the caller puts them back in order) and
writes nothing: the parent alone writes files and the manifest. A worker builds its models once,
closes them when it is done, and turns any failure of an item into that item's failure record. A
worker that cannot start ends the run with one error instead of being respawned forever; a worker
that dies mid-item fails that item and is replaced.
"""

from __future__ import annotations

import multiprocessing
import queue
from typing import Iterator

from ..errors import TryonError
from .triplets import Job, Outcome, TripletBuilder, TripletSettings, _failure, limit_threads

EXECUTORS = ("local", "ray")


def _serve(settings: TripletSettings, jobs, results) -> None:
    """A worker process: build the models, then build jobs until the None that ends the queue."""
    import os

    limit_threads()
    try:
        builder = TripletBuilder(settings)
    except Exception as error:  # noqa: BLE001 - reported to the parent, which stops the run
        results.put(("init-failed", os.getpid(), f"{type(error).__name__}: {error}"))
        return
    with builder:
        while (item := jobs.get()) is not None:
            index, row = item
            results.put(("started", os.getpid(), index))
            results.put(("done", os.getpid(), builder.outcome(index, Job.from_row(row))))


def _run_in_process(jobs: list[Job], settings: TripletSettings) -> Iterator[Outcome]:
    with TripletBuilder(settings) as builder:
        for index, job in enumerate(jobs):
            yield builder.outcome(index, job)


def _run_in_workers(jobs: list[Job], settings: TripletSettings, workers: int) -> Iterator[Outcome]:
    context = multiprocessing.get_context("spawn")
    job_queue, results = context.Queue(), context.Queue()
    for index, job in enumerate(jobs):
        job_queue.put((index, job.as_row()))
    processes: dict[int, multiprocessing.Process] = {}
    working: dict[int, int] = {}  # pid -> index of the job it is building

    def start() -> None:
        process = context.Process(target=_serve, args=(settings, job_queue, results), daemon=True)
        process.start()
        processes[process.pid] = process

    for _ in range(min(workers, len(jobs))):
        start()
        job_queue.put(None)
    remaining = len(jobs)
    reported: set[int] = set()
    try:
        while remaining:
            try:
                kind, pid, payload = results.get(timeout=1.0)
            except queue.Empty:
                for pid, process in list(processes.items()):
                    if process.exitcode not in (None, 0):
                        del processes[pid]
                        if pid in working:  # died mid-item: that item fails, a new worker takes over
                            index = working.pop(pid)
                            reported.add(index)
                            yield Outcome(index, _failure(jobs[index].identifier, jobs[index].pair,
                                                          f"the worker process died (exit code {process.exitcode})"))
                            remaining -= 1
                            if remaining:
                                start()
                                job_queue.put(None)
                if remaining and not any(p.is_alive() for p in processes.values()):
                    for index in sorted(set(range(len(jobs))) - reported):  # lost with a dead worker
                        yield Outcome(index, _failure(jobs[index].identifier, jobs[index].pair,
                                                      "no worker process was left to build it"))
                    return
                continue
            if kind == "init-failed":
                raise TryonError(f"a worker process could not load its models: {payload}")
            if kind == "started":
                working[pid] = payload
            else:
                working.pop(pid, None)
                remaining -= 1
                reported.add(payload.index)
                yield payload
    finally:
        for process in processes.values():
            if process.is_alive():
                process.terminate()
        for process in processes.values():
            process.join(timeout=5)


def run_jobs(jobs: list[Job], settings: TripletSettings, workers: int = 1, executor: str = "local",
             ray_address: str | None = None) -> Iterator[Outcome]:
    """One outcome per job, from the chosen executor."""
    if not jobs:
        return iter(())
    if executor == "ray":
        from .ray_executor import run_on_ray

        return run_on_ray(jobs, settings, workers, ray_address)
    if workers <= 1:
        return _run_in_process(jobs, settings)
    return _run_in_workers(jobs, settings, workers)
