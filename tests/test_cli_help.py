"""Every command's ``--help`` prints (argparse formats help text with %, so a stray % would crash it) and
ends with an example command line of that command."""
import argparse

import pytest

from drnet_lite.cli import build_parser, main


def _commands() -> dict[str, argparse.ArgumentParser]:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def test_the_commands_are_all_there():
    assert list(_commands()) == ["demo", "train", "evaluate", "export", "train-lstm", "predict", "evaluate-lstm",
                                 "train-judge", "download", "evaluate-kth", "ablations", "presets"]


@pytest.mark.parametrize("name", list(_commands()))
def test_every_help_ends_with_an_example(name, capsys):
    assert main([name, "--help"]) == 0
    text = capsys.readouterr().out.rstrip()
    last = text.splitlines()
    assert last[-2] == "example:" and last[-1].startswith(f"  python -m drnet_lite {name}"), text[-300:]
