"""The `tryon` command: a Typer root that registers the modules in `commands/`."""

from __future__ import annotations

from typing import Optional

import typer
from typer.core import TyperArgument, TyperOption

from tryon_cli import __version__
from tryon_cli.commands import benchmark, build_triplets, evaluate, filter as filter_module, mask, models, swap, tryon

app = typer.Typer(
    name="tryon",
    help="Video face swap, video virtual try-on, and try-on training data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"tryon-cli {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: Optional[bool] = typer.Option(None, "--version", callback=_print_version, is_eager=True,
                                                 help="Print the version and exit.")) -> None:
    """Video face swap, video virtual try-on, and try-on training data."""


app.command("swap")(swap.swap)
app.add_typer(evaluate.app, name="eval")
app.command("mask")(mask.mask)
app.command("tryon")(tryon.tryon)
app.command("build-triplets")(build_triplets.build_triplets_command)
app.command("filter")(filter_module.filter_command)
app.command("models")(models.models)
app.command("benchmark")(benchmark.benchmark)


def _plain_metavar(param: TyperOption) -> str:
    """PATH, TEXT, INTEGER, FLOAT or [a|b|c], as most command-line tools print them, not Python type names."""
    kind = param.type_descriptor
    if kind.is_choice:
        return "[" + "|".join(str(getattr(c, "value", c)) for c in kind.choices) + "]"
    if kind.is_path:
        return "PATH"
    annotation = kind.annotation
    if annotation is int:
        return "INTEGER"
    if annotation is float:
        return "FLOAT"
    return "TEXT"


def plain_metavars(command) -> object:
    """Give every parameter of `command` and its subcommands a plain metavariable (flags none)."""
    for sub in getattr(command, "commands", {}).values():
        plain_metavars(sub)
    for param in command.params:
        if isinstance(param, TyperOption) and param.is_flag:
            param.metavar = ""
        elif isinstance(param, TyperOption):
            param.metavar = _plain_metavar(param)
        elif isinstance(param, TyperArgument):
            _plain_argument(param)
    return command


def _plain_argument(param: TyperArgument) -> None:
    """Usage shows `PERSON GARMENT` and `[SOURCE]...`, not `{PERSON}` and `<path>` (this Typer's own style)."""
    name = (param.metavar or param.name).upper().rstrip(".")
    usage = name if param.required else f"[{name}]"
    usage += "..." if param.nargs != 1 else ""
    param.metavar = name
    # Per-instance overrides of two display hooks; the class and every other command are untouched.
    param._usage_display_name = lambda: usage
    param.display_type_rich = lambda ctx: None


def main() -> None:
    from tryon_cli.commands.native_logs import filter_native_logs

    filter_native_logs()
    plain_metavars(typer.main.get_command(app))(prog_name="tryon")


if __name__ == "__main__":
    main()
