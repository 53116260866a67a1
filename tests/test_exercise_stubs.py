"""Stub detection: the hidden solution stands in only while the exercise cell is still the stub."""
import os

import pytest

from drnet_lite.course import expect
from drnet_lite.exercises import (UNWRITTEN, check_relative_change, is_stub, package_if_unsolved,
                                  reference_relative_change, solution_if_unsolved)


def stub(a, b):
    """Return a + b."""
    raise NotImplementedError("write this function")


def bare_stub(a, b):
    raise NotImplementedError


def answer(a, b):
    return a + b


def half_done(a, b):
    """Return a + b."""
    if a:
        return a
    raise NotImplementedError


def test_stubs_are_recognised_and_answers_are_not():
    assert is_stub(stub) and is_stub(bare_stub)
    assert not is_stub(answer) and not is_stub(half_done) and not is_stub(len) and not is_stub(3)


def test_the_solution_replaces_only_a_stub():
    assert solution_if_unsolved(stub, answer) is answer
    assert solution_if_unsolved(half_done, answer) is half_done


def test_a_check_given_the_stub_says_so_and_does_not_fail(capsys, monkeypatch):
    monkeypatch.setenv("DRNET_QUICK", "1")  # strict: a failed check raises
    def relative_change(codes):
        raise NotImplementedError("write relative_change here")

    verdict = check_relative_change(relative_change)
    assert verdict is UNWRITTEN and not verdict
    assert "Not written yet: relative_change still raises NotImplementedError" in capsys.readouterr().out
    expect(verdict, "relative_change passes")  # runs on
    with pytest.raises(AssertionError):  # a wrong answer still fails in strict mode
        expect(check_relative_change(lambda c: 0.0), "relative_change passes")
    assert check_relative_change(lambda c: 1 / 0) is False  # not a stub: a real attempt that crashes


def test_the_package_stands_in_for_a_stub_and_says_so(capsys):
    assert package_if_unsolved(stub, answer) is answer
    assert "stub is still the stub: the cells below use the package's" in capsys.readouterr().out
    assert package_if_unsolved(half_done, answer) is half_done and capsys.readouterr().out == ""
    assert package_if_unsolved(stub, reference_relative_change).__name__ == "reference_relative_change"
