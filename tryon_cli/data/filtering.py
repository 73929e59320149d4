"""A filter run: read a manifest (either layout), check every item, write kept and rejected, spot-check.

An item that cannot be read (a deleted file, a cut tar) is rejected with the reason and the run goes
on; manifest lines that are not records are reported. The kept subset is written in the layout it
came in: records pointing at the build's files, or new WebDataset tar shards plus a Parquet index.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from ..errors import InputError, TryonError
from ..io.outputs import write_text_atomic
from .filters import FilterThresholds, TripletChecker, check_record
from .manifest import WriterLock, read_manifests, write_parquet_index
from .spot_check import write_spot_check
from .store import TarShardWriter, read_blobs

ProgressFn = Callable[[str, int, int], None]
RESULT_FILES = ("kept.jsonl", "rejected.jsonl")


def make_checker(thresholds: FilterThresholds, clip: str | None, dists: str | None) -> TripletChecker:
    """A checker with its models loaded (CLIP / DISTS only when given); picklable recipe for Ray actors."""
    similarity = dists_model = None
    if clip is not None:
        from .clip_similarity import ClipImageSimilarity

        similarity = ClipImageSimilarity(clip)
    if dists is not None:
        from .dists import load_dists

        dists_model = load_dists(dists)
    return TripletChecker(thresholds, similarity, dists_model)


@dataclass
class FilterSummary:
    kept: int
    rejected: int
    bad_lines: int
    output: str
    spot_check: str
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def _local(records: list[dict], root: Path, recipe: Callable[[], TripletChecker]) -> Iterator[tuple[dict, list[str]]]:
    checker = recipe()
    try:
        for record in records:
            yield check_record(checker, record, root)
    finally:
        checker.close()


def _write_kept_shards(kept: list[dict], root: Path, output: Path) -> list[dict]:
    """Copy the kept samples into fresh tar shards in `output`; their records, pointing at the new shards."""
    for old in output.glob("[0-9][0-9][0-9][0-9][0-9][0-9].tar"):
        old.unlink()
    writer = TarShardWriter(output, "", [])
    moved = []
    try:
        for record in kept:
            blobs = read_blobs(root, record)
            meta = json.loads(blobs.pop("json") or b"{}")
            location = writer.write(record["id"], blobs, meta)
            moved.append({**record, **location})
    finally:
        writer.close()
    write_parquet_index(moved, output / "kept.parquet")
    return moved


def run_filter(manifest: Path, output: Path | None, recipe: Callable[[], TripletChecker], overwrite: bool = False,
               executor: str = "local", workers: int = 1, ray_address: str | None = None,
               spot_check_seed: int = 0, progress: ProgressFn | None = None) -> FilterSummary:
    """Check every record of `manifest`; write kept.jsonl, rejected.jsonl and spot-check/ under `output`."""
    found = read_manifests(manifest)
    root = manifest if manifest.is_dir() else manifest.parent
    output = output or root / "filtered"
    existing = [output / name for name in RESULT_FILES if (output / name).exists()]
    if existing and not overwrite:
        raise InputError(f"{existing[0]}: earlier filter results exist; pass --overwrite to replace them")
    output.mkdir(parents=True, exist_ok=True)
    records = found.records
    warnings = [f"{path}: line {number}: {reason} (skipped)" for path, number, reason in found.problems]
    with WriterLock(output / ".lock", f"{output}"):
        if executor == "ray":
            from .ray_executor import filter_on_ray

            verdicts = filter_on_ray(records, root, recipe, workers, ray_address)
        else:
            verdicts = _local(records, root, recipe)
        results = []
        for i, (record, (scores, reasons)) in enumerate(zip(records, verdicts)):
            results.append({**record, "scores": scores, "reasons": reasons})
            if progress:
                progress("filter", i + 1, len(records))
        if len(results) != len(records):
            raise TryonError(f"{manifest}: the checks stopped after {len(results)} of {len(records)} items")
        kept = [r for r in results if not r["reasons"]]
        rejected = [r for r in results if r["reasons"]]
        rejected += [{"manifest": str(p), "line": n, "reasons": [reason]} for p, n, reason in found.problems]
        if any("tar" in r for r in kept):
            kept = _write_kept_shards(kept, root, output)
        write_text_atomic(output / "kept.jsonl", "".join(json.dumps(r) + "\n" for r in kept))
        write_text_atomic(output / "rejected.jsonl", "".join(json.dumps(r) + "\n" for r in rejected))
        page = write_spot_check(output / "spot-check", root, results, spot_check_seed)
    return FilterSummary(kept=len(kept), rejected=len(rejected) - len(found.problems), bad_lines=len(found.problems),
                         output=str(output), spot_check=str(page), warnings=warnings)
