"""Training triplets for mask-free try-on: (repainted person, garment C, original person wearing C).

Each item is deterministic from its content hashes and settings, so reruns skip finished items (the
manifest is the record), shards split items by id, and any worker count gives the same files.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from ..errors import InputError, TryonError
from ..garments.photo import prepare_garment, segment_garment
from .layouts import Pair
from ..masks.garment import MaskOptions
from ..io.media import read_image, write_image
from ..io.video import Frame


@dataclass(frozen=True)
class TripletSettings:
    seed: int = 0
    engine: str = "classical"
    strategy: str = "dilate-relax"
    category: str = "auto"
    train_jitter: bool = True


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def item_id(pair_hashes: tuple[str, str], settings: TripletSettings) -> str:
    key = json.dumps([pair_hashes, asdict(settings)], sort_keys=True)
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def guess_category(garment: np.ndarray) -> str:
    """upper / lower / dress from the garment photo's silhouette (sleeves make tops widest up high)."""
    mask = segment_garment(garment)
    rows = (mask > 0).sum(axis=1)
    ys = np.nonzero(rows)[0]
    height = ys.max() - ys.min() + 1
    width = rows.max()
    widest = (np.argmax(rows) - ys.min()) / height
    if height / max(width, 1) >= 1.6:
        return "dress"
    return "upper" if widest < 0.45 else "lower"


def in_shard(identifier: str, shard: tuple[int, int]) -> bool:
    index, count = shard
    return int(identifier, 16) % count == index


@dataclass(frozen=True)
class Job:
    """One item to build: its pair, the repaint garment, and where it goes."""

    identifier: str
    pair: Pair
    repaint: Path
    category: str
    hashes: tuple[str, str]


def plan_jobs(pairs: list[Pair], settings: TripletSettings, shard: tuple[int, int], done: set[str],
              categories: dict[Path, str]) -> Iterator[Job]:
    """Jobs of this shard not yet done; the repaint garment is another pair's, same category, seeded."""
    by_category: dict[str, list[Path]] = {}
    for pair in pairs:
        by_category.setdefault(categories[pair.garment], []).append(pair.garment)
    for pair in pairs:
        hashes = (file_hash(pair.person), file_hash(pair.garment))
        identifier = item_id(hashes, settings)
        if not in_shard(identifier, shard) or identifier in done:
            continue
        category = categories[pair.garment]
        others = [g for g in by_category[category] if g != pair.garment]
        if not others:
            raise InputError(f"no other {category} garment to repaint {pair.person} with (need at least two)")
        rng = np.random.default_rng(int(identifier, 16) % (2**63))
        yield Job(identifier, pair, others[int(rng.integers(len(others)))], category, hashes)


class TripletBuilder:
    """Builds one item at a time; holds the models of one process."""

    def __init__(self, settings: TripletSettings, out: Path, engine) -> None:
        from ..analysis.body import BodyAnalyzer

        self.settings = settings
        self.out = out
        self.engine = engine
        self.analyzer = BodyAnalyzer(tracking=False)  # one per process: graphs are not rebuilt per item

    def build(self, job: Job) -> dict:
        from ..garments.planner import tryon_frames

        started = time.perf_counter()
        person = read_image(job.pair.person)
        repaint = prepare_garment(read_image(job.repaint), job.category)
        options = MaskOptions(category=job.category, strategy=self.settings.strategy,
                              train_jitter=self.settings.train_jitter)
        holder: dict[str, np.ndarray] = {}
        item_seed = (self.settings.seed * 1_000_003 + int(job.identifier, 16)) % (2**32)
        report = tryon_frames(iter([Frame(0, person, 0, 0.0)]), repaint, self.engine, options, "mask", False,
                              item_seed, lambda frame, image: holder.__setitem__("image", image),
                              analyzer=self.analyzer)
        if "image" not in holder or report.frames_rendered == 0:
            raise TryonError("the repaint produced no image")
        folder = self.out / "triplets" / job.identifier[:2] / job.identifier
        folder.mkdir(parents=True, exist_ok=True)
        files = {"input": folder / "input.png", "condition": folder / "condition.png",
                 "target": folder / "target.png", "mask": folder / "mask.png"}
        write_image(files["input"], holder["image"])
        write_image(files["condition"], read_image(job.pair.garment))
        write_image(files["target"], person)
        write_image(files["mask"], report.last_mask)
        return {
            "id": job.identifier,
            "person": str(job.pair.person), "garment": str(job.pair.garment), "repaint_garment": str(job.repaint),
            "person_sha256": job.hashes[0], "garment_sha256": job.hashes[1],
            "category": job.category, "seed": self.settings.seed, "engine": self.settings.engine,
            "mask_strategy": self.settings.strategy, "train_jitter": self.settings.train_jitter,
            "files": {k: str(v.relative_to(self.out)) for k, v in files.items()},
            "seconds": round(time.perf_counter() - started, 3),
        }


class Manifest:
    """Append-only JSON lines, flushed and synced per line, so a killed run loses at most one item."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def ids(self) -> set[str]:
        if not self.path.exists():
            return set()
        found = set()
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                found.add(json.loads(line)["id"])
            except (json.JSONDecodeError, KeyError):
                continue  # a line cut by a kill: the item is redone
        return found

    def append(self, record: dict) -> None:
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")
            handle.flush()
            os.fsync(handle.fileno())


def shard_suffix(shard: tuple[int, int]) -> str:
    return "" if shard == (0, 1) else f".shard-{shard[0]:03d}-of-{shard[1]:03d}"


def read_manifests(path: Path) -> list[dict]:
    """Records of a manifest file, or of every manifest*.jsonl in a build folder."""
    files = sorted(path.glob("manifest*.jsonl")) if path.is_dir() else [path]
    if not files or not all(f.exists() for f in files):
        raise InputError(f"{path}: no manifest found")
    records = []
    for file in files:
        for line in file.read_text(encoding="utf-8").splitlines():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return records


ProgressFn = Callable[[str, int, int], None]


_BUILDER: TripletBuilder | None = None


def _start_worker(settings: TripletSettings, out: Path, single_thread: bool = False) -> None:
    """Load this worker's models once; with several workers each keeps to one OpenCV/torch thread."""
    global _BUILDER  # one builder per worker process, made by the pool's initializer
    from ..render.options import TRYON_DIFFUSION_DEFAULTS, EngineOptions
    from ..render.registry import create_engine

    if single_thread:
        import cv2
        import torch

        cv2.setNumThreads(1)
        torch.set_num_threads(1)

    _BUILDER = TripletBuilder(settings, out, create_engine(EngineOptions(name=settings.engine, diffusion=TRYON_DIFFUSION_DEFAULTS)))


def _run_job(job: Job) -> tuple[str, dict]:
    try:
        return "ok", _BUILDER.build(job)
    except (TryonError, ValueError, OSError) as error:
        return "failed", {"id": job.identifier, "person": str(job.pair.person), "garment": str(job.pair.garment),
                          "reason": str(error)}


@dataclass
class BuildSummary:
    layout: str
    pairs: int
    already_done: int
    built: int = 0
    failed: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return {**asdict(self), "items_per_second": round(self.built / self.seconds, 3) if self.seconds else 0.0}


def build_triplets(folder: Path, out: Path, settings: TripletSettings, workers: int = 1,
                   shard: tuple[int, int] = (0, 1), pairs_csv: Path | None = None, retry_failed: bool = False,
                   progress: ProgressFn | None = None) -> BuildSummary:
    """Build every item of this shard not yet in the manifest; failures go to failed*.jsonl with the reason."""
    import multiprocessing

    from .layouts import find_pairs

    layout, pairs = find_pairs(folder, pairs_csv)
    out.mkdir(parents=True, exist_ok=True)
    manifest = Manifest(out / f"manifest{shard_suffix(shard)}.jsonl")
    failures = Manifest(out / f"failed{shard_suffix(shard)}.jsonl")
    done = manifest.ids() | (set() if retry_failed else failures.ids())
    categories: dict[Path, str] = {}
    for pair in pairs:
        if pair.garment not in categories:
            categories[pair.garment] = settings.category if settings.category != "auto" else (
                pair.category or guess_category(read_image(pair.garment)))
    jobs = list(plan_jobs(pairs, settings, shard, done, categories))
    summary = BuildSummary(layout=layout, pairs=len(pairs), already_done=len(done))
    started = time.perf_counter()
    if workers <= 1:
        _start_worker(settings, out)
        results = map(_run_job, jobs)
        pool = None
    else:
        pool = multiprocessing.get_context("spawn").Pool(workers, initializer=_start_worker,
                                                         initargs=(settings, out, True))
        results = pool.imap_unordered(_run_job, jobs, chunksize=1)
    try:
        for status, record in results:
            if status == "ok":
                manifest.append(record)
                summary.built += 1
            else:
                failures.append(record)
                summary.failed += 1
            if progress:
                progress("triplets", summary.built + summary.failed, len(jobs))
    finally:
        if pool is not None:
            pool.terminate()
    summary.seconds = time.perf_counter() - started
    return summary
