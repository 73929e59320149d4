"""Training triplets for mask-free try-on: (repainted person, garment C, original person wearing C).

Each item is deterministic from its content hashes and settings, so reruns skip finished items (the
manifest is the record), shards split items by id, and any worker count gives the same files.

The flow: every input is read once up front (a bad file fails only its own item), jobs are planned
in the parent, the engine and models are checked in the parent, then an executor (in-process, local
worker processes, or Ray) builds items and hands back encoded images that the parent alone writes,
in job order, to the output layout and the manifest.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError, TryonError
from ..garments.photo import prepare_garment, segment_garment
from ..io.media import encode_image, read_image
from ..io.provenance import Provenance
from ..io.video import Frame
from ..masks.garment import MaskOptions
from .layouts import Pair

CATEGORIES = ("auto", "upper", "lower", "dress")
# Every item's images carry the same tag whichever process (CLI, API, worker, Ray actor) encodes them,
# so the files do not depend on the executor.
BUILD_PROVENANCE = Provenance("tryon build-triplets")


@dataclass(frozen=True)
class TripletSettings:
    seed: int = 0
    engine: str = "classical"
    strategy: str = "dilate-relax"
    category: str = "auto"
    train_jitter: bool = True

    def __post_init__(self) -> None:
        if self.engine not in ("auto", "classical", "diffusion"):
            raise InputError(f"unknown engine '{self.engine}' (use auto, classical or diffusion)")
        if self.category not in CATEGORIES:
            raise InputError(f"unknown category '{self.category}' (use one of {', '.join(CATEGORIES)})")


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
    if ys.size == 0:
        raise InputError("no garment found in the garment photo")
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

    def as_row(self) -> dict:
        """Plain values (for Ray rows and worker queues)."""
        return {"identifier": self.identifier, "person": str(self.pair.person), "garment": str(self.pair.garment),
                "pair_category": self.pair.category, "repaint": str(self.repaint), "category": self.category,
                "hashes": list(self.hashes)}

    @classmethod
    def from_row(cls, row: dict) -> "Job":
        return cls(row["identifier"], Pair(Path(row["person"]), Path(row["garment"]), row["pair_category"]),
                   Path(row["repaint"]), row["category"], tuple(row["hashes"]))


@dataclass
class CheckedInputs:
    """Every input file read once: its hash, each garment's category, and the files that are unusable."""

    hashes: dict[Path, str] = field(default_factory=dict)
    categories: dict[Path, str] = field(default_factory=dict)
    bad: dict[Path, str] = field(default_factory=dict)


def check_inputs(pairs: list[Pair], settings: TripletSettings) -> CheckedInputs:
    """Hash and decode every person and garment once; a file that fails is recorded with the reason."""
    checked = CheckedInputs()
    garments = {p.garment: p.category for p in pairs}
    for path in dict.fromkeys([p.person for p in pairs] + list(garments)):
        try:
            checked.hashes[path] = file_hash(path)
            image = read_image(path)
            if path in garments:
                category = settings.category if settings.category != "auto" else garments[path]
                checked.categories[path] = category or guess_category(image)
        except InputError as error:
            checked.bad[path] = str(error)
        except OSError as error:
            checked.bad[path] = f"{path}: cannot read it ({error.strerror or error})"
    return checked


def _failure(identifier: str, pair: Pair, reason: str) -> dict:
    return {"id": identifier, "person": str(pair.person), "garment": str(pair.garment), "reason": reason}


def plan_jobs(pairs: list[Pair], settings: TripletSettings, shard: tuple[int, int], done: set[str],
              checked: CheckedInputs) -> tuple[list[Job], list[dict]]:
    """This shard's jobs not yet done, and the items that cannot be built (with the reason).

    The repaint garment is another usable garment of the same category, chosen by the item's seed;
    an unusable file fails only the items it belongs to.
    """
    by_category: dict[str, list[Path]] = {}
    for garment in dict.fromkeys(p.garment for p in pairs):
        if garment not in checked.bad:
            by_category.setdefault(checked.categories[garment], []).append(garment)
    jobs, failures = [], []
    for pair in pairs:
        hashes = (checked.hashes.get(pair.person, f"path:{pair.person}"),
                  checked.hashes.get(pair.garment, f"path:{pair.garment}"))
        identifier = item_id(hashes, settings)
        if not in_shard(identifier, shard) or identifier in done:
            continue
        broken = [checked.bad[p] for p in (pair.person, pair.garment) if p in checked.bad]
        if broken:
            failures.append(_failure(identifier, pair, "; ".join(broken)))
            continue
        category = checked.categories[pair.garment]
        others = [g for g in by_category[category] if g != pair.garment]
        if not others:
            failures.append(_failure(identifier, pair, f"no other usable {category} garment to repaint "
                                                       f"{pair.person} with (need at least two)"))
            continue
        rng = np.random.default_rng(int(identifier, 16) % (2**63))
        jobs.append(Job(identifier, pair, others[int(rng.integers(len(others)))], category, hashes))
    return jobs, failures


def create_repaint_engine(settings: TripletSettings):
    """The engine the repaint uses, with what it needs loaded (ModelMissingError now, not in a worker)."""
    from ..render.contract import GarmentConditions
    from ..render.options import TRYON_DIFFUSION_DEFAULTS, EngineOptions
    from ..render.registry import create_engine

    engine = create_engine(EngineOptions(name=settings.engine, diffusion=TRYON_DIFFUSION_DEFAULTS))
    engine.prepare(GarmentConditions)
    return engine


@dataclass(frozen=True)
class Outcome:
    """What building one job gave: a manifest record and its encoded images, or a failure record."""

    index: int
    record: dict
    blobs: dict[str, bytes] | None = None

    @property
    def ok(self) -> bool:
        return self.blobs is not None


class TripletBuilder:
    """Builds one item at a time with the models of one process (engine and body analyser, loaded once)."""

    def __init__(self, settings: TripletSettings, engine=None, analyzer=None) -> None:
        from ..analysis.body import BodyAnalyzer

        self.settings = settings
        self.engine = engine if engine is not None else create_repaint_engine(settings)
        self.analyzer = analyzer if analyzer is not None else BodyAnalyzer(tracking=False)

    def close(self) -> None:
        self.analyzer.close()

    def __enter__(self) -> "TripletBuilder":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def build(self, job: Job) -> tuple[dict, dict[str, bytes]]:
        """The item's record (without where its files went) and its four images as PNG bytes."""
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
        if "image" not in holder or report.frames_rendered == 0 or report.last_mask is None:
            raise TryonError(f"{job.pair.person}: the repaint produced no image (no person found?)")
        def png(image: np.ndarray) -> bytes:
            return encode_image(image, ".png", BUILD_PROVENANCE)

        blobs = {"input": png(holder["image"]), "condition": png(read_image(job.pair.garment)),
                 "target": png(person), "mask": png(report.last_mask)}
        record = {
            "id": job.identifier,
            "person": str(job.pair.person), "garment": str(job.pair.garment), "repaint_garment": str(job.repaint),
            "person_sha256": job.hashes[0], "garment_sha256": job.hashes[1],
            "category": job.category, "seed": self.settings.seed, "engine": self.settings.engine,
            "mask_strategy": self.settings.strategy, "train_jitter": self.settings.train_jitter,
        }
        return record | {"seconds": round(time.perf_counter() - started, 3)}, blobs

    def outcome(self, index: int, job: Job) -> Outcome:
        """Build `job`; any failure becomes that item's failure record (the run goes on)."""
        try:
            record, blobs = self.build(job)
            return Outcome(index, record, blobs)
        except TryonError as error:
            return Outcome(index, _failure(job.identifier, job.pair, str(error)))
        except Exception as error:  # noqa: BLE001 - one item's crash must not end the run
            return Outcome(index, _failure(job.identifier, job.pair, f"{type(error).__name__}: {error}"))


def limit_threads() -> None:
    """With several workers on one machine each keeps to one OpenCV/torch thread."""
    import cv2
    import torch

    cv2.setNumThreads(1)
    torch.set_num_threads(1)


def check_models(settings: TripletSettings) -> None:
    """Load the engine and the body analyser once in this process, so a missing model fails before any worker starts."""
    from ..analysis.body import BodyAnalyzer

    create_repaint_engine(settings)
    BodyAnalyzer(tracking=False).close()
