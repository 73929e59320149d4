"""One thin Typer module per subcommand: parse options, call tryon_cli, print results."""
