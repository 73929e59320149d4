"""What every command shares: stderr console, progress bars, error handling, stdin paths, JSON out."""

from __future__ import annotations

import json
import sys
import traceback
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

from tryon_cli.errors import TryonError

QUIET_OPTION = typer.Option(False, "--quiet", "-q", help="No progress or logs on stderr.")
DEBUG_OPTION = typer.Option(False, "--debug", help="Show the traceback when something fails.")
JSON_OPTION = typer.Option(False, "--json", help="Print one JSON object per result on stdout.")
OVERWRITE_OPTION = typer.Option(False, "--overwrite", help="Replace outputs that already exist.")


def stderr_console(quiet: bool) -> Console:
    return Console(stderr=True, quiet=quiet)


def fail(message: str, code: int) -> None:
    """Print one error line on stderr and exit with `code`."""
    Console(stderr=True).print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@contextmanager
def reported_errors(debug: bool) -> Iterator[None]:
    """Turn library errors into one line on stderr and an exit code (2 bad input, 1 failed work)."""
    try:
        yield
    except typer.Exit:
        raise
    except TryonError as error:
        if debug:
            traceback.print_exc()
        fail(str(error), error.exit_code)
    except KeyboardInterrupt:
        fail("interrupted; no partial output was left", 130)
    except Exception as error:  # noqa: BLE001 - the CLI's last line of defence
        if debug:
            traceback.print_exc()
        fail(f"unexpected failure: {type(error).__name__}: {error} (run with --debug for the traceback)", 1)


def read_paths(paths: list[Path]) -> list[Path]:
    """Expand '-' into the paths given one per line on stdin."""
    out: list[Path] = []
    for path in paths:
        if str(path) == "-":
            out.extend(Path(line.strip()) for line in sys.stdin if line.strip())
        else:
            out.append(path)
    return out


def emit(result: dict, as_json: bool, plain: str | None = None) -> None:
    """Print a result on stdout: JSON, or a plain line (usually a path)."""
    if as_json:
        typer.echo(json.dumps(result, default=str))
    elif plain is not None:
        typer.echo(plain)


@contextmanager
def progress_bar(quiet: bool, label: str = "") -> Iterator[Callable[[str, int, int], None]]:
    """A rich progress bar on stderr; yields update(stage, done, total)."""
    console = stderr_console(quiet)
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TaskProgressColumn(),
               TextColumn("{task.fields[fps]}"), TimeRemainingColumn()]
    with Progress(*columns, console=console, transient=False, disable=quiet) as progress:
        tasks: dict[str, int] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(f"{label}{stage}", total=total or None, fps="")
            task = progress.tasks[tasks[stage]]
            speed = task.speed
            progress.update(tasks[stage], completed=done, total=max(total, done) or None,
                            fps=f"{speed:5.1f}/s" if speed else "")

        yield update
