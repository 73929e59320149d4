"""Where a triplet's images go: one folder per item (`files`) or WebDataset tar shards (`webdataset`).

Both writers take an item's encoded images (`input.png`, `condition.png`, `target.png`, `mask.png`)
and return the manifest fields that say where they went, with each file's size and SHA-256, so a
resumed run can check the item is still whole. `read_blobs` reads an item back from either layout.

Tar shards are written by hand (USTAR headers, mtime 0), one sample at a time, each followed by the
end-of-archive blocks and an fsync: the tar is valid after every sample, and a resumed run cuts it
back to the last sample the manifest knows and carries on.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tarfile
from enum import Enum
from pathlib import Path
from typing import Protocol

import numpy as np

from ..errors import InputError
from ..io.outputs import write_bytes_atomic

IMAGES = ("input", "condition", "target", "mask")
BLOCK = 512
END_OF_ARCHIVE = b"\0" * (2 * BLOCK)
SHARD_BYTES = 1 << 30  # about 1 GB per tar shard


class OutputFormat(str, Enum):
    files = "files"
    webdataset = "webdataset"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _fingerprints(blobs: dict[str, bytes]) -> dict:
    return {"bytes": {k: len(v) for k, v in blobs.items()}, "sha256": {k: sha256(v) for k, v in blobs.items()}}


class ItemWriter(Protocol):
    def write(self, identifier: str, blobs: dict[str, bytes], meta: dict) -> dict:
        """Store one item's images (`blobs`: image name -> PNG bytes); the manifest fields for it."""
        ...

    def close(self) -> None:
        ...


class FilesWriter:
    """triplets/ab/abcdef.../{input,condition,target,mask}.png, each written atomically."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def write(self, identifier: str, blobs: dict[str, bytes], meta: dict) -> dict:
        folder = self.root / "triplets" / identifier[:2] / identifier
        folder.mkdir(parents=True, exist_ok=True)
        files = {}
        for name in IMAGES:
            path = folder / f"{name}.png"
            write_bytes_atomic(path, blobs[name])
            files[name] = str(path.relative_to(self.root))
        return {"files": files, **_fingerprints(blobs)}

    def close(self) -> None:
        pass


def _member(name: str, data: bytes) -> bytes:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode, info.uname, info.gname = len(data), 0, 0o644, "", ""
    return info.tobuf(tarfile.USTAR_FORMAT, "utf-8", "strict") + data + b"\0" * (-len(data) % BLOCK)


def sample_bytes(identifier: str, blobs: dict[str, bytes], meta: dict) -> bytes:
    """One WebDataset sample: `ID.input.png`, `ID.condition.png`, `ID.target.png`, `ID.mask.png`, `ID.json`."""
    parts = [_member(f"{identifier}.{name}.png", blobs[name]) for name in IMAGES]
    parts.append(_member(f"{identifier}.json", json.dumps(meta, sort_keys=True).encode()))
    return b"".join(parts)


class TarShardWriter:
    """Appends samples to NNNNNN.tar (this shard's suffix before .tar), a new tar past `shard_bytes`."""

    def __init__(self, root: Path, suffix: str, done: list[dict], shard_bytes: int = SHARD_BYTES) -> None:
        self.root, self.suffix, self.shard_bytes = root, suffix, shard_bytes
        pattern = re.compile(r"^(\d{6})" + re.escape(suffix) + r"\.tar$")
        numbers = sorted(int(m.group(1)) for p in root.glob("*.tar") if (m := pattern.match(p.name)))
        self.number = numbers[-1] if numbers else 0
        # The last tar continues from the end of the last sample the manifest knows; anything after
        # it (a sample cut by a kill) is dropped.
        self.offset = max((r["end"] for r in done if r.get("tar") == self._name()), default=0)
        self._handle = None

    def _name(self) -> str:
        return f"{self.number:06d}{self.suffix}.tar"

    def _open(self):
        if self._handle is None:
            path = self.root / self._name()
            self._handle = path.open("r+b" if path.exists() else "w+b")
            self._handle.truncate(self.offset)
        return self._handle

    def write(self, identifier: str, blobs: dict[str, bytes], meta: dict) -> dict:
        if self.offset >= self.shard_bytes:
            self.close()
            self.number, self.offset = self.number + 1, 0
        sample = sample_bytes(identifier, blobs, meta)
        handle = self._open()
        handle.seek(self.offset)
        handle.write(sample + END_OF_ARCHIVE)
        handle.truncate()
        handle.flush()
        os.fsync(handle.fileno())
        start, self.offset = self.offset, self.offset + len(sample)
        files = {name: f"{self._name()}:{identifier}.{name}.png" for name in IMAGES}
        return {"files": files, "tar": self._name(), "offset": start, "end": self.offset, **_fingerprints(blobs)}

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def _read_tar_sample(path: Path, offset: int, end: int) -> dict[str, bytes]:
    """Members of the sample stored in bytes [offset, end) of a tar, by their name after the key."""
    try:
        with path.open("rb") as handle:
            handle.seek(offset)
            data = handle.read(end - offset)
    except OSError as error:
        raise InputError(f"{path}: cannot read the shard ({error.strerror or error})") from None
    if len(data) != end - offset:
        raise InputError(f"{path}: the shard is shorter than the manifest says (truncated?)")
    members, position = {}, 0
    while position < len(data):
        try:
            info = tarfile.TarInfo.frombuf(data[position:position + BLOCK], "utf-8", "strict")
        except tarfile.TarError:
            raise InputError(f"{path}: corrupt tar header at byte {offset + position}") from None
        position += BLOCK
        members[info.name.split(".", 1)[1]] = data[position:position + info.size]
        position += info.size + (-info.size % BLOCK)
    return members


def read_blobs(root: Path, record: dict) -> dict[str, bytes]:
    """An item's encoded images (and `json` for a tar sample) from either layout; InputError naming the file."""
    if "tar" in record:
        members = _read_tar_sample(root / record["tar"], int(record["offset"]), int(record["end"]))
        out = {name: members.get(f"{name}.png") for name in IMAGES}
        missing = [name for name, blob in out.items() if blob is None]
        if missing:
            raise InputError(f"{root / record['tar']}: sample {record['id']} lacks {', '.join(missing)}")
        return {**out, "json": members.get("json", b"{}")}
    out = {}
    for name in IMAGES:
        path = root / record["files"][name]
        try:
            out[name] = path.read_bytes()
        except FileNotFoundError:
            raise InputError(f"{path}: the {name} file of item {record['id']} is missing") from None
        except OSError as error:
            raise InputError(f"{path}: cannot read it ({error.strerror or error})") from None
    return out


def decode(blob: bytes, what: str) -> np.ndarray:
    """PNG bytes to RGB uint8; InputError naming `what` when corrupt."""
    import cv2

    image = cv2.imdecode(np.frombuffer(blob, np.uint8), cv2.IMREAD_COLOR) if blob else None
    if image is None:
        raise InputError(f"{what}: cannot decode the image (corrupt)")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def read_images(root: Path, record: dict) -> dict[str, np.ndarray]:
    """An item's four images, decoded."""
    blobs = read_blobs(root, record)
    where = root / record.get("tar", "")
    return {name: decode(blobs[name], f"{where if 'tar' in record else root / record['files'][name]}")
            for name in IMAGES}


def item_is_whole(root: Path, record: dict, verify: bool = False) -> str | None:
    """None when the item's files are all there (sizes match; with `verify`, hashes too), else why not."""
    sizes, hashes = record.get("bytes") or {}, record.get("sha256") or {}
    if "tar" in record:
        path = root / record["tar"]
        if not path.exists():
            return f"{path} is missing"
        if path.stat().st_size < int(record["end"]):
            return f"{path} is shorter than the manifest says"
    else:
        for name in IMAGES:
            path = root / record["files"].get(name, "")
            if not path.is_file():
                return f"{path} is missing"
            if name in sizes and path.stat().st_size != sizes[name]:
                return f"{path} has {path.stat().st_size} bytes, the manifest says {sizes[name]}"
    if verify:
        try:
            blobs = read_blobs(root, record)
        except InputError as error:
            return str(error)
        for name in IMAGES:
            if name in hashes and sha256(blobs[name]) != hashes[name]:
                return f"the {name} image of item {record['id']} does not match its SHA-256"
    return None
