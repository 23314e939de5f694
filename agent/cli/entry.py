"""The ``viddiff`` console script, kept apart from :mod:`viddiff.agent.cli.main` so that a
Ctrl-C that comes while the command line is still being imported (rich, argparse, every
subcommand's options: a few hundred milliseconds) also ends with "viddiff: interrupted" and
exit code 130, not a ``KeyboardInterrupt`` traceback. This module imports nothing of viddiff
until :func:`run` is called.
"""

from __future__ import annotations

import sys

INTERRUPTED = "viddiff: interrupted"
EXIT_INTERRUPTED = 130


def run() -> None:
    """Import the command line and run it (:func:`viddiff.agent.cli.main.run`)."""
    try:
        from viddiff.agent.cli.main import run as run_main
    except KeyboardInterrupt:
        sys.stderr.write(INTERRUPTED + "\n")
        sys.exit(EXIT_INTERRUPTED)
    run_main()
