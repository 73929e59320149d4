"""The `tryon` command: a Typer root that registers the modules in `commands/`."""

from __future__ import annotations

import typer

from tryon_cli.commands import build_triplets, evaluate, filter as filter_module, mask, models, swap, tryon

app = typer.Typer(
    name="tryon",
    help="Video face swap, video virtual try-on, and try-on training data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("swap")(swap.swap)
app.add_typer(evaluate.app, name="eval")
app.command("mask")(mask.mask)
app.command("tryon")(tryon.tryon)
app.command("build-triplets")(build_triplets.build_triplets_command)
app.command("filter")(filter_module.filter_command)
app.command("models")(models.models)


def main() -> None:
    from tryon_cli.commands.native_logs import filter_native_logs

    filter_native_logs()
    app()


if __name__ == "__main__":
    main()
