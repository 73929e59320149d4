"""Ray Data executors for build-triplets and filter (`--executor ray`, optional extra `tryon-cli[ray]`).

The planned jobs become a Ray dataset; `map_batches` runs a callable class that loads the models once
per actor (`concurrency` actors, `num_gpus` each) and returns each item's outcome. The driver pulls
the outcomes back in order and writes files and manifest exactly as the local executor does, so the
output is the same and a killed run resumes the same way.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import numpy as np

from ..errors import InputError
from .filters import check_record
from .triplets import Job, Outcome, TripletBuilder, TripletSettings, limit_threads


@contextmanager
def ray_session(address: str | None, actors: int) -> Iterator[None]:
    """Connect to `address` (or start a local Ray with enough CPUs for `actors`); shut down what we started."""
    try:
        import ray
        from ray.data import DataContext
    except ImportError:
        raise InputError("--executor ray needs Ray: pip install 'tryon-cli[ray]'") from None
    address = address or os.environ.get("RAY_ADDRESS")
    started = not ray.is_initialized()
    if started:
        kwargs = {"address": address} if address else {"num_cpus": max(2, actors), "include_dashboard": False}
        # Ray's own logs (Python and its C++ core) stay out of the user's stderr; errors still raise.
        for name in ("ray", "ray.data"):
            logging.getLogger(name).setLevel(logging.ERROR)
        try:
            ray.init(**kwargs, logging_level=logging.ERROR, log_to_driver=False, configure_logging=False)
        except ConnectionError as error:
            raise InputError(f"--ray-address {address}: cannot connect to a Ray cluster ({error})") from None
        for name in ("ray", "ray.data"):
            logging.getLogger(name).setLevel(logging.ERROR)
    context = DataContext.get_current()
    context.execution_options.preserve_order = True
    context.enable_progress_bars = False
    try:
        yield
    finally:
        if started:
            ray.shutdown()


def _outcomes(batch: dict, work) -> dict:
    results = [pickle.dumps(work(int(i), row)) for i, row in zip(batch["index"], batch["row"])]
    return {"index": np.asarray(batch["index"]), "outcome": np.array(results, dtype=object)}


class TripletActor:
    """One Ray actor: a TripletBuilder (engine and body analyser loaded once), building one batch at a time."""

    def __init__(self, settings: TripletSettings, single_thread: bool) -> None:
        if single_thread:
            limit_threads()
        self.builder = TripletBuilder(settings)

    def __call__(self, batch: dict) -> dict:
        return _outcomes(batch, lambda index, row: self.builder.outcome(index, Job.from_row(json.loads(row))))


def _map(rows: list[dict], actor: type, args: tuple, actors: int, num_gpus: float) -> Iterator[bytes]:
    import ray.data

    dataset = ray.data.from_items([{"index": i, "row": json.dumps(row)} for i, row in enumerate(rows)])
    with warnings.catch_warnings():  # max_restarts has no named parameter yet; Ray warns about the kwargs form
        warnings.filterwarnings("ignore", message=".*ray_remote_args.*")
        mapped = dataset.map_batches(actor, fn_constructor_args=args, batch_size=1, batch_format="numpy",
                                     compute=ray.data.ActorPoolStrategy(size=actors), num_cpus=1,
                                     num_gpus=num_gpus or None, max_restarts=0)  # a lost actor ends the run; rerun resumes
    for row in mapped.iter_rows():
        yield row["outcome"]


def gpus_per_actor() -> float:
    """One GPU per actor when the driver's machine has CUDA (set TRYON_RAY_GPUS to override)."""
    if "TRYON_RAY_GPUS" in os.environ:
        return float(os.environ["TRYON_RAY_GPUS"])
    import torch

    return 1.0 if torch.cuda.is_available() else 0.0


def run_on_ray(jobs: list[Job], settings: TripletSettings, actors: int, address: str | None) -> Iterator[Outcome]:
    """One outcome per job, built by `actors` Ray actors."""
    with ray_session(address, actors):
        rows = [job.as_row() for job in jobs]
        for blob in _map(rows, TripletActor, (settings, actors > 1), actors, gpus_per_actor()):
            yield pickle.loads(blob)


class FilterActor:
    """One Ray actor: a TripletChecker (body analyser, face encoder, optional CLIP/DISTS loaded once)."""

    def __init__(self, make_checker, root: str) -> None:
        self.checker = make_checker()
        self.root = Path(root)

    def __call__(self, batch: dict) -> dict:
        return _outcomes(batch, lambda index, row: check_record(self.checker, json.loads(row), self.root))


def filter_on_ray(records: list[dict], root: Path, make_checker, actors: int,
                  address: str | None) -> Iterator[tuple[dict, list[str]]]:
    """(scores, reasons) per record, in order, from `actors` Ray actors."""
    with ray_session(address, actors):
        for blob in _map(records, FilterActor, (make_checker, str(root)), actors, gpus_per_actor()):
            yield pickle.loads(blob)
