"""`python -m tryon_cli`: the same as the `tryon` console script."""

from tryon_cli.app import main

main()
