"""Entry point for ``python -m stitchcli``."""

from stitchcli.cli import main

main()
