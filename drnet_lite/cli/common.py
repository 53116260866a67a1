"""What every command module shares: the one-line-error parser, a command's help with its example,
the shipped files, and the tables commands print."""
from __future__ import annotations

import argparse
import textwrap
from dataclasses import dataclass
from pathlib import Path

PROG = "python -m drnet_lite"


class Parser(argparse.ArgumentParser):
    """argparse, with errors on one line (no usage block): the problem, then where help is."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class UsageError(ValueError):
    """A bad combination of flags, found before any work."""


@dataclass(frozen=True)
class Shipped:
    """The shipped files commands fall back on (``drnet_lite.cli`` sets them; tests point them elsewhere)."""

    drnet: Path
    lstm: Path
    drnet2: Path
    judge: Path
    video: Path | None = None  # the real-video DRNet and its pose LSTM (demo's real-video pictures)
    video_lstm: Path | None = None


def add_command(sub, name: str, help: str, example: str, notes: str = "") -> argparse.ArgumentParser:
    """A command's parser whose ``--help`` ends with ``notes`` (wrapped) and an example command line."""
    text = "\n\n".join(textwrap.fill(part, 100) for part in notes.split("\n\n") if part) if notes else ""
    epilog = (text + "\n\n" if text else "") + f"example:\n  {PROG} {name} {example}".rstrip()
    return sub.add_parser(name, help=help, epilog=epilog, formatter_class=argparse.RawDescriptionHelpFormatter)


def dataset_help() -> str:
    from ..data import registered_sources

    return "; ".join(f"{name}: {entry.description}" for name, entry in sorted(registered_sources().items()))


def format_table(results: dict) -> str:
    """Numbers as an aligned two-column table."""
    rows = [(k, v) for k, v in results.items()
            if isinstance(v, (int, float)) or (isinstance(v, list) and all(isinstance(x, int) for x in v))]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v:.4f}" if isinstance(v, float) else f"{k:<{width}}  {v}" for k, v in rows)
