"""Output paths: validation and atomic writes (temporary file, then rename)."""

from __future__ import annotations

import os
import re
import tempfile
import time
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
    if not os.access(output.parent, os.W_OK | os.X_OK):
        raise InputError(f"{output}: cannot write to the folder {output.parent} (permission denied)")


def _umask() -> int:
    """The process umask (read from /proc where possible; os.umask is set-and-restore)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _partial_pattern(path: Path) -> re.Pattern[str]:
    return re.compile(rf"^\.{re.escape(path.stem)}\.(?:(\d+)-)?[^.]+\.partial{re.escape(path.suffix)}$")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


STALE_PARTIAL_SECONDS = 24 * 3600


def clean_stale_partials(path: Path) -> list[Path]:
    """Delete temporary files of `path` left by a killed run (SIGKILL, power loss); return them.

    A temporary name carries its writer's process id: it is stale when that process is gone. Names
    without one (older versions) are stale after STALE_PARTIAL_SECONDS.
    """
    pattern = _partial_pattern(path)
    removed: list[Path] = []
    try:
        siblings = list(path.parent.iterdir())
    except OSError:
        return removed
    for sibling in siblings:
        match = pattern.match(sibling.name)
        if match is None or not sibling.is_file():
            continue
        pid = int(match.group(1)) if match.group(1) else None
        try:
            stale = (not _alive(pid)) if pid is not None and pid != os.getpid() else (
                pid is None and time.time() - sibling.stat().st_mtime > STALE_PARTIAL_SECONDS)
            if stale:
                sibling.unlink()
                removed.append(sibling)
        except OSError:
            continue
    return removed


def temporary_sibling(path: Path, clean_stale: bool = True) -> Path:
    """A unique hidden path next to `path`, keeping its suffix (muxers pick formats by suffix).

    The file gets the mode a plain `open` would give under the user's umask (mkstemp makes 0600), and its
    name carries this process's id so a later run can tell a killed run's leftover from a live writer's.
    With `clean_stale`, leftovers of the same output are removed first (this lists the folder, so
    one-shot writes of many small files skip it). InputError naming `path` when the folder is not writable.
    """
    if clean_stale:
        clean_stale_partials(path)
    try:
        fd, name = tempfile.mkstemp(prefix=f".{path.stem}.{os.getpid()}-", suffix=f".partial{path.suffix}",
                                    dir=path.parent)
    except PermissionError as error:
        raise InputError(f"{path}: cannot write to the folder {path.parent} (permission denied)") from error
    except OSError as error:
        raise InputError(f"{path}: cannot write the output ({error.strerror or error})") from error
    try:
        os.fchmod(fd, 0o666 & ~_umask())
    finally:
        os.close(fd)
    return Path(name)


@contextmanager
def atomic_output(path: Path, clean_stale: bool = True) -> Iterator[Path]:
    """Yield a temporary path; rename it to `path` on success, delete it on any error or interrupt.

    Long writes (videos) leave a partial file only when the process is killed outright; the next
    atomic_output of the same path removes it (`clean_stale`)."""
    tmp = temporary_sibling(path, clean_stale)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` atomically."""
    with atomic_output(path, clean_stale=False) as tmp:  # one write: nothing is left unless killed mid-call
        tmp.write_bytes(data)


def write_text_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` atomically."""
    write_bytes_atomic(path, text.encode("utf-8"))
