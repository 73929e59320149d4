"""One build-triplets run: lock the shard, check what is done, plan, run an executor, write in order.

The parent alone writes: items come back from the executor (in any order), are put back in job
order, stored (files or WebDataset tars) and recorded in the manifest, one synced line per item.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from .executors import run_jobs
from .layouts import find_pairs
from .manifest import Manifest, WriterLock, shard_suffix, write_parquet_index
from .store import SHARD_BYTES, FilesWriter, ItemWriter, OutputFormat, TarShardWriter, item_is_whole
from .triplets import Outcome, TripletSettings, check_inputs, check_models, plan_jobs

ProgressFn = Callable[[str, int, int], None]


@dataclass
class BuildSummary:
    layout: str
    pairs: int
    already_done: int
    built: int = 0
    failed: int = 0
    rebuilt: int = 0
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {**asdict(self), "items_per_second": round(self.built / self.seconds, 3) if self.seconds else 0.0}


def whole_records(manifest: Manifest, out: Path, verify: bool) -> tuple[list[dict], list[str]]:
    """Done records whose files are all there, and why the others are not (they get rebuilt)."""
    good, broken = [], []
    for record in manifest.records():
        reason = item_is_whole(out, record, verify) if isinstance(record.get("files"), dict) else "no files"
        if reason is None:
            good.append(record)
        else:
            broken.append(f"item {record['id']}: {reason}; rebuilding it")
    return good, broken


def _writer(output_format: OutputFormat, out: Path, shard: tuple[int, int], done: list[dict],
            shard_bytes: int) -> ItemWriter:
    if output_format == OutputFormat.webdataset:
        return TarShardWriter(out, shard_suffix(shard), done, shard_bytes)
    return FilesWriter(out)


def in_order(outcomes: Iterable[Outcome]) -> Iterator[Outcome]:
    """Outcomes in job order whatever order they finish in (the manifest and tars do not depend on workers)."""
    waiting: dict[int, Outcome] = {}
    following = 0
    for outcome in outcomes:
        waiting[outcome.index] = outcome
        while following in waiting:
            yield waiting.pop(following)
            following += 1


def build_triplets(folder: Path, out: Path, settings: TripletSettings, workers: int = 1,
                   shard: tuple[int, int] = (0, 1), pairs_csv: Path | None = None, retry_failed: bool = False,
                   progress: ProgressFn | None = None, output_format: OutputFormat = OutputFormat.files,
                   verify: bool = False, executor: str = "local", ray_address: str | None = None,
                   shard_bytes: int | None = None) -> BuildSummary:
    """Build every item of this shard not yet in the manifest; failures go to failed*.jsonl with the reason."""
    found = find_pairs(folder, pairs_csv)
    out.mkdir(parents=True, exist_ok=True)
    suffix = shard_suffix(shard)
    manifest, failures = Manifest(out / f"manifest{suffix}.jsonl"), Manifest(out / f"failed{suffix}.jsonl")
    with WriterLock(out / f".lock{suffix}", f"{out} (shard {shard[0]}/{shard[1]})"):
        done_records, broken = whole_records(manifest, out, verify)
        if broken:
            manifest.rewrite(done_records)  # the rebuilt items get fresh lines; no id is listed twice
        done = {r["id"] for r in done_records} | (set() if retry_failed else failures.ids())
        if retry_failed and failures.path.exists():
            failures.rewrite([])
        summary = BuildSummary(layout=found.layout, pairs=len(found.pairs), already_done=len(done),
                               rebuilt=len(broken), warnings=[*found.problems, *broken])
        checked = check_inputs(found.pairs, settings)
        jobs, unusable = plan_jobs(found.pairs, settings, shard, done, checked)
        for record in unusable:
            failures.append(record)
        summary.failed = len(unusable)
        if jobs and (workers > 1 or executor != "local"):
            check_models(settings)  # in-process, the builder itself loads them here, before any item
        started = time.perf_counter()
        writer = _writer(output_format, out, shard, done_records, shard_bytes or SHARD_BYTES)
        try:
            for outcome in in_order(run_jobs(jobs, settings, workers, executor, ray_address)):
                if outcome.ok:
                    meta = {k: v for k, v in outcome.record.items() if k != "seconds"}
                    manifest.append(outcome.record | writer.write(outcome.record["id"], outcome.blobs, meta))
                    summary.built += 1
                else:
                    failures.append(outcome.record)
                    summary.failed += 1
                if progress:
                    progress("triplets", summary.built + summary.failed - len(unusable), len(jobs))
        finally:
            writer.close()
            if output_format == OutputFormat.webdataset and manifest.path.exists():
                write_parquet_index(manifest.records(), out / f"manifest{suffix}.parquet")
        if not manifest.path.exists():
            manifest.rewrite([])  # a shard with nothing to build is finished too: its manifest says so, empty
        summary.seconds = time.perf_counter() - started
    return summary
