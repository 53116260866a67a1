"""Stub detection: the hidden solution stands in only while the exercise cell is still the stub."""
from drnet_lite.exercises import is_stub, solution_if_unsolved


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
