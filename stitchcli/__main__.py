"""Entry point for ``python -m stitchcli``."""

from stitchcli._entry import main

main()
