"""The ``viddiff`` command line.

``viddiff compare A.mp4 B.mp4 --action "..." [--difference "..." ...] [--open N]``

With an OpenAI-compatible endpoint configured (``OPENAI_API_KEY`` and/or ``OPENAI_BASE_URL``)
the VidDiff graph runs (LLM proposer, CLIP localizer, VLM differencer). With none, or with
``--offline``, the offline engine answers with pose measurements instead. Every failure a user
can cause prints one line and exits non-zero: 2 for bad input or settings, 3 for the endpoint.

Each subcommand lives in its own ``cmd_*`` module with ``register(subparsers)``; the handler
it sets returns the exit code.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import NoReturn

from rich.console import Console

from viddiff.agent.cli import (
    cmd_actions,
    cmd_chat,
    cmd_compare,
    cmd_compare_many,
    cmd_eval,
    cmd_report,
    cmd_score,
    cmd_serve,
)
from viddiff.agent.cli.async_run import exit_code
from viddiff.agent.cli.entry import EXIT_INTERRUPTED, INTERRUPTED
from viddiff.agent.console.wording import for_cli
from viddiff.tools.errors import EndpointError, ModelReplyError, VidDiffError

EXIT_INPUT = 2
EXIT_ENDPOINT = 3

COMMANDS = [cmd_compare, cmd_compare_many, cmd_report, cmd_eval, cmd_score, cmd_chat, cmd_serve,
            cmd_actions]
"""Subcommand modules, in the order ``viddiff --help`` lists them."""


class Parser(argparse.ArgumentParser):
    """argparse, but a bad option is one line (which option, what is wrong, where the help
    is), not the whole usage block; exit 2 as before. Subcommand parsers are this class too
    (``add_subparsers`` builds them with the parent's class)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_INPUT, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("viddiff")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "(not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="viddiff", description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", action="version", version=f"viddiff {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; its exit code. Ctrl-C at any moment, from parsing the options to
    writing the files, is one line, "viddiff: interrupted", and 130."""
    try:
        return _main(argv)
    except KeyboardInterrupt:
        sys.stdout.flush()
        sys.stderr.write(INTERRUPTED + "\n")
        sys.stderr.flush()
        return EXIT_INTERRUPTED


def _main(argv: list[str] | None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help (0) or a bad option (2, one line already printed)
        return exc.code if isinstance(exc.code, int) else EXIT_INPUT
    console = Console(stderr=False)
    err = Console(stderr=True)
    try:
        return int(args.handler(args, console))
    except (EndpointError, ModelReplyError) as exc:
        err.print(f"viddiff: error: {for_cli(str(exc))}", markup=False, highlight=False,
                  soft_wrap=True)
        return EXIT_ENDPOINT
    except VidDiffError as exc:
        err.print(f"viddiff: error: {for_cli(str(exc))}", markup=False, highlight=False,
                  soft_wrap=True)
        return EXIT_INPUT


def run() -> None:
    """The ``viddiff`` command: :func:`main`, then exit at once, without waiting for worker
    threads of a failed run still computing what nobody will read (see ``async_run``)."""
    try:
        code = main()
    except KeyboardInterrupt:  # between main's own handler and here: still one line
        sys.stderr.write(INTERRUPTED + "\n")
        code = EXIT_INTERRUPTED
    try:
        code = exit_code(code)
    except KeyboardInterrupt:  # a second Ctrl-C while waiting for workers: do not wait
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    run()
