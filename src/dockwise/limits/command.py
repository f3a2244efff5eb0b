"""Placeholder: the command's owner replaces this module."""

from __future__ import annotations

import argparse
import sys


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", nargs="*")


def run(args: argparse.Namespace, debug: bool = False) -> int:
    print("dockwise: error: not built yet", file=sys.stderr)
    return 2
