"""The ``respmap`` command line: one sub-command per module in ``api/commands``.

Each module there that defines ``register(subparsers, common)`` adds its own
sub-command, so commands can be added without touching this file. This module
only wires them, turns usage errors into exit code 2 and keeps tracebacks away
from users (set ``RESPMAP_DEBUG=1`` to see them).
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
from collections.abc import Sequence

import api.commands
from api.commands.common import CommandError, UsageError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("respmap")
    except Exception:  # not installed: running from a checkout
        return "0.1.0"


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as exit code 2 without a traceback."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--dataset",
        metavar="DIR",
        default=argparse.SUPPRESS,
        help="dataset folder (default: $RESPMAP_DATASET, else the bundled Ankang demo)",
    )
    parser = _Parser(
        prog="respmap",
        description="respmap: who is responsible for keeping each piece of the city clean.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"respmap {_version()}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    modules = []
    for info in pkgutil.iter_modules(api.commands.__path__):
        module = importlib.import_module(f"api.commands.{info.name}")
        if hasattr(module, "register"):
            modules.append(module)
    for module in sorted(modules, key=lambda m: (getattr(m, "ORDER", 100), m.__name__)):
        module.register(subparsers, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``respmap`` console script; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError as exc:
        print(f"respmap: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if not getattr(args, "handler", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(args.handler(args) or 0)
    except UsageError as exc:
        print(f"respmap: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except CommandError as exc:
        print(f"respmap: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("respmap: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # last line of defence: a message, not a traceback
        if os.environ.get("RESPMAP_DEBUG"):
            raise
        print(
            f"respmap: unexpected {type(exc).__name__}: {str(exc)[:300]} (set RESPMAP_DEBUG=1 for details)",
            file=sys.stderr,
        )
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
