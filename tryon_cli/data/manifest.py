"""The build's record: append-only JSON-lines manifests, the writer lock, and reading them back strictly.

A manifest line is one finished item. Lines are flushed and synced one at a time, so a killed run
loses at most the line being written; reading tolerates a cut last line but reports every other
unreadable line with its number.
"""

from __future__ import annotations

import fcntl
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from ..errors import InputError
from ..io.outputs import write_text_atomic


def shard_suffix(shard: tuple[int, int]) -> str:
    return "" if shard == (0, 1) else f".shard-{shard[0]:03d}-of-{shard[1]:03d}"


@dataclass
class ManifestLines:
    """What a manifest file holds: its records, and the lines that are not records (number, reason)."""

    records: list[dict] = field(default_factory=list)
    problems: list[tuple[Path, int, str]] = field(default_factory=list)


def parse_lines(path: Path, need_files: bool = True) -> ManifestLines:
    """Every record of one manifest; bad lines become problems, a cut last line is forgiven."""
    out = ManifestLines()
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise InputError(f"{path}: cannot read the manifest ({error.strerror or error})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a manifest (binary, not UTF-8 JSON lines)") from None
    lines = text.splitlines()
    cut_tail = bool(text) and not text.endswith("\n")  # a kill while writing the last line
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            if not (cut_tail and number == len(lines)):
                out.problems.append((path, number, "not valid JSON"))
            continue
        if not isinstance(record, dict) or not isinstance(record.get("id"), str):
            out.problems.append((path, number, "not a manifest record (no 'id')"))
        elif need_files and not isinstance(record.get("files"), dict):
            out.problems.append((path, number, f"item {record['id']} has no 'files'"))
        else:
            out.records.append(record)
    return out


class Manifest:
    """Append-only JSON lines, flushed and synced per line, so a killed run loses at most one item."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def records(self) -> list[dict]:
        """The last record of every id (a rebuilt item replaces its earlier line)."""
        if not self.path.exists():
            return []
        latest = {r["id"]: r for r in parse_lines(self.path, need_files=False).records}
        return list(latest.values())

    def ids(self) -> set[str]:
        return {r["id"] for r in self.records()}

    def append(self, record: dict) -> None:
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def rewrite(self, records: list[dict]) -> None:
        """Replace the whole file (atomically) with `records`."""
        write_text_atomic(self.path, "".join(json.dumps(r) + "\n" for r in records))


class WriterLock:
    """An exclusive lock on one shard of an output folder; a second writer gets a clear InputError.

    The lock is an OS file lock (flock), so it goes away with the process however it ends.
    """

    def __init__(self, path: Path, what: str) -> None:
        self.path = path
        self.what = what
        self._handle: IO[str] | None = None

    def __enter__(self) -> "WriterLock":
        handle = self.path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise InputError(f"{self.what} is being written by {holder}; wait for it to finish "
                             f"(lock file {self.path})") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"process {os.getpid()}\n")
        handle.flush()
        self._handle = handle
        return self

    def __exit__(self, *exc: object) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None


def _parquet_records(path: Path) -> list[dict]:
    try:
        import pyarrow.parquet as pq
    except ImportError:  # pragma: no cover - pyarrow is a dependency
        raise InputError(f"{path}: reading a Parquet index needs pyarrow (pip install pyarrow)") from None
    try:
        return pq.read_table(path).to_pylist()
    except Exception as error:  # noqa: BLE001 - pyarrow's errors name no file
        raise InputError(f"{path}: not a readable Parquet index ({error})") from None


def read_manifests(path: Path) -> ManifestLines:
    """Records of a manifest (.jsonl or .parquet), or of every manifest*.jsonl in a build folder.

    InputError (exit 2) when there is no manifest or nothing in it is a record; lines that are not
    records come back as problems for the caller to report.
    """
    if path.is_dir():
        files = sorted(path.glob("manifest*.jsonl"))
        if not files:
            raise InputError(f"{path}: no manifest*.jsonl in this folder")
    elif path.exists():
        files = [path]
    else:
        raise InputError(f"{path}: no such manifest")
    out = ManifestLines()
    for file in files:
        if file.suffix == ".parquet":
            out.records.extend(_parquet_records(file))
            continue
        part = parse_lines(file)
        out.records.extend(part.records)
        out.problems.extend(part.problems)
    if not out.records:
        detail = f" ({len(out.problems)} unreadable line(s), the first: line {out.problems[0][1]}: " \
                 f"{out.problems[0][2]})" if out.problems else " (it is empty)"
        raise InputError(f"{path}: no manifest records found{detail}")
    return out


def write_parquet_index(records: list[dict], path: Path) -> None:
    """The manifest as a Parquet table (one row per item; nested dicts become structs), written atomically."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from ..io.outputs import atomic_output

    with atomic_output(path) as tmp:
        pq.write_table(pa.Table.from_pylist(records), tmp)
