"""Output paths: validation and atomic writes (temporary file, then rename)."""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator

from ..errors import InputError


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and os.path.samefile(a, b))
    except OSError:
        return False


def check_output_path(
    output: Path,
    inputs: Iterable[Path],
    overwrite: bool,
    allowed_suffixes: Iterable[str] | None = None,
) -> None:
    """Raise InputError when writing `output` would clobber an input or an existing file."""
    for item in inputs:
        if _same_file(output, item):
            raise InputError(f"{output}: the output path is the same as an input; choose another path")
    if allowed_suffixes is not None:
        allowed = sorted({s.lower() for s in allowed_suffixes})
        if output.suffix.lower() not in allowed:
            raise InputError(
                f"{output}: unsupported output extension '{output.suffix}' (use one of {', '.join(allowed)})"
            )
    if output.exists() and not overwrite:
        raise InputError(f"{output}: the output already exists; pass --overwrite to replace it")
    if not output.parent.exists():
        raise InputError(f"{output}: the output folder {output.parent} does not exist")


def temporary_sibling(path: Path) -> Path:
    """A unique hidden path next to `path`, keeping its suffix (muxers pick formats by suffix)."""
    fd, name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".partial{path.suffix}", dir=path.parent)
    os.close(fd)
    return Path(name)


@contextmanager
def atomic_output(path: Path) -> Iterator[Path]:
    """Yield a temporary path; rename it to `path` on success, delete it on any error or interrupt."""
    tmp = temporary_sibling(path)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` atomically."""
    with atomic_output(path) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` atomically."""
    write_bytes_atomic(path, text.encode("utf-8"))
