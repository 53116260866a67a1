"""setup() picks torch's CPU threads on a small machine and says so (course.pick_threads)."""
from __future__ import annotations

import pytest
import torch

from drnet_lite import course


@pytest.fixture(autouse=True)
def _keep_threads(monkeypatch):
    before = torch.get_num_threads()
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.delenv(course.THREADS_ENV, raising=False)
    monkeypatch.setattr(course, "_mode_override", None)  # setup() sets the mode for the process: undone after
    yield
    torch.set_num_threads(before)


def test_one_thread_on_two_cores_or_fewer_and_torch_s_default_above(monkeypatch):
    for cores, expected in ((1, 1), (2, 1), (16, torch.get_num_threads())):
        monkeypatch.setattr(course, "usable_cores", lambda cores=cores: cores)
        count, why = course.pick_threads(None, "lab")
        assert count == expected, cores
    monkeypatch.setattr(course, "usable_cores", lambda: 2)
    assert "2 CPU cores" in course.pick_threads(None, "full")[1]
    monkeypatch.setattr(course, "usable_cores", lambda: 16)
    assert course.pick_threads(None, "quick") == (1, "quick mode: tiny models")


def test_asked_threads_win_and_bad_values_are_named(monkeypatch):
    monkeypatch.setattr(course, "usable_cores", lambda: 2)
    assert course.pick_threads(3, "lab") == (3, "as asked")
    monkeypatch.setenv(course.THREADS_ENV, "2")
    assert course.pick_threads(None, "lab") == (2, "as asked")
    monkeypatch.setenv(course.THREADS_ENV, "two")
    with pytest.raises(ValueError, match="DRNET_THREADS='two'"):
        course.pick_threads(None, "lab")
    with pytest.raises(ValueError, match="threads must be >= 1"):
        course.pick_threads(0, "lab")
    monkeypatch.delenv(course.THREADS_ENV)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert course.pick_threads(None, "lab")[1] == "from $OMP_NUM_THREADS"


def test_setup_sets_and_says_the_threads(monkeypatch, capsys):
    monkeypatch.setattr(course, "usable_cores", lambda: 2)
    torch.set_num_threads(2)
    course.setup(mode="lab", data=False)
    assert torch.get_num_threads() == 1
    assert "torch CPU threads: 1 (2 CPU cores" in capsys.readouterr().out
    course.setup(mode="lab", data=False, threads=2)
    assert torch.get_num_threads() == 2
