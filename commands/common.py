"""What every command shares: stderr console, progress bars, error handling, stdin paths, JSON out."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import traceback
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

from tryon_cli.errors import InputError, TryonError

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


class Terminated(KeyboardInterrupt):
    """SIGTERM (timeout, docker stop, Slurm preemption), unwound like Ctrl-C so outputs are cleaned up."""


def _on_sigterm(signum, frame) -> None:  # noqa: ARG001 - signal handler signature
    raise Terminated()


_LIBRARY_ENV_QUIET = {"TRANSFORMERS_VERBOSITY": "critical", "DIFFUSERS_VERBOSITY": "critical",
                      "HF_HUB_DISABLE_PROGRESS_BARS": "1", "TQDM_DISABLE": "1",
                      "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1"}
_LIBRARY_ENV_NORMAL = {"TRANSFORMERS_VERBOSITY": "error", "DIFFUSERS_VERBOSITY": "error",
                       "HF_HUB_DISABLE_PROGRESS_BARS": "1", "TQDM_DISABLE": "1"}
_LIBRARY_ENV_DEBUG = {"TRANSFORMERS_VERBOSITY": "info", "DIFFUSERS_VERBOSITY": "info"}


def setup_logging(quiet: bool, debug: bool) -> None:
    """Route our logs, Python warnings and the ML libraries' logs and progress bars to stderr through rich.

    Default: warnings from tryon_cli (and Python warnings), libraries only on errors, no library progress
    bars (ours show progress). -q: nothing. --debug: everything, libraries at info level with their bars.
    The libraries read these settings when first imported, which happens after this (models load lazily).
    """
    settings = _LIBRARY_ENV_DEBUG if debug else _LIBRARY_ENV_QUIET if quiet else _LIBRARY_ENV_NORMAL
    for name, value in settings.items():
        os.environ[name] = value
    if debug:
        for name in ("HF_HUB_DISABLE_PROGRESS_BARS", "TQDM_DISABLE"):
            os.environ.pop(name, None)
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "_tryon", False)]:
        root.removeHandler(handler)
    if quiet and not debug:
        root.setLevel(logging.CRITICAL + 1)
        warnings.simplefilter("ignore")
        return
    handler = RichHandler(console=Console(stderr=True), show_time=debug, show_path=debug, markup=False,
                          rich_tracebacks=False)
    handler._tryon = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if debug else logging.WARNING)
    if not debug:
        for noisy in ("transformers", "diffusers", "huggingface_hub", "torch", "PIL", "matplotlib"):
            logging.getLogger(noisy).setLevel(logging.ERROR)
    logging.captureWarnings(True)


@contextmanager
def reported_errors(debug: bool, quiet: bool | None = None) -> Iterator[None]:
    """Turn library errors into one line on stderr and an exit code (2 bad input, 1 failed work).

    SIGTERM is handled like Ctrl-C (outputs in progress are removed). With `quiet` given, logging is set
    up for -q/--debug too (see setup_logging).
    """
    if quiet is not None:
        setup_logging(quiet, debug)
    try:
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not the main thread
        previous = None
    try:
        yield
    except typer.Exit:
        raise
    except TryonError as error:
        if debug:
            traceback.print_exc()
        fail(str(error), error.exit_code)
    except Terminated:
        fail("terminated (SIGTERM); no partial output was left", 143)
    except KeyboardInterrupt:
        fail("interrupted; no partial output was left", 130)
    except Exception as error:  # noqa: BLE001 - the CLI's last line of defence
        if debug:
            traceback.print_exc()
        fail(f"unexpected failure: {type(error).__name__}: {error} (run with --debug for the traceback)", 1)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def read_paths(paths: list[Path]) -> list[Path]:
    """Expand '-' into the paths given one per line on stdin."""
    out: list[Path] = []
    for path in paths:
        if str(path) == "-":
            given = [Path(line.strip()) for line in sys.stdin if line.strip()]
            if not given:
                raise InputError("'-' reads paths from standard input, but standard input was empty")
            out.extend(given)
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
