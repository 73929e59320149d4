"""`tryon models`: every model, whether its weights are present, where they were looked for, the fallback."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from tryon_cli.models.catalogue import model_statuses

from .common import DEBUG_OPTION, JSON_OPTION, QUIET_OPTION, emit, reported_errors


def models(json_out: bool = JSON_OPTION, quiet: bool = QUIET_OPTION, debug: bool = DEBUG_OPTION) -> None:
    """List the models the toolkit can use and what each command falls back to (the list is the result:
    it goes to stdout, -q or not)."""
    with reported_errors(debug):
        statuses = model_statuses()
        if json_out:
            for status in statuses:
                emit(status.as_dict(), True)
            return
        table = Table(show_lines=False)
        for column in ("model", "present", "where", "from", "used by", "fallback", "licence"):
            table.add_column(column, overflow="fold")
        for s in statuses:
            table.add_row(s.name, "[green]yes[/]" if s.present else "[red]no[/]", s.where, s.origin, s.used_by, s.fallback,
                          s.licence)
        Console().print(table)
