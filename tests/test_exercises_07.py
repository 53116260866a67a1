"""Notebook 07's checker: right answers pass, the usual mistakes get their own hint."""
import torch

from drnet_lite.exercises import check_generation_loop
from drnet_lite.predict import generate_poses


def right(lstm, observed_pose, content, horizon):
    with torch.no_grad():
        out, state = lstm(observed_pose, content)
        current = out[:, -1:]
        predictions = [current]
        for _ in range(horizon - 1):
            current, state = lstm(current, content, state)
            predictions.append(current)
    return torch.cat(predictions, 1)


def forgets_state(lstm, observed_pose, content, horizon):
    with torch.no_grad():
        current = lstm(observed_pose, content)[0][:, -1:]
        predictions = [current]
        for _ in range(horizon - 1):
            current = lstm(current, content)[0]
            predictions.append(current)
    return torch.cat(predictions, 1)


def feeds_observed_again(lstm, observed_pose, content, horizon):
    with torch.no_grad():
        out, state = lstm(observed_pose, content)
        predictions = [out[:, -1:]]
        for _ in range(horizon - 1):
            current, state = lstm(observed_pose[:, -1:], content, state)
            predictions.append(current)
    return torch.cat(predictions, 1)


def returns_everything(lstm, observed_pose, content, horizon):
    with torch.no_grad():
        out, state = lstm(observed_pose, content)
        rest = right(lstm, observed_pose, content, horizon)[:, 1:]
    return torch.cat([out, rest], 1)


def test_the_package_function_and_a_plain_loop_pass(capsys):
    assert check_generation_loop(generate_poses)
    assert check_generation_loop(right)
    assert "Correct" in capsys.readouterr().out


def test_dropping_the_state_is_named(capsys):
    assert not check_generation_loop(forgets_state)
    assert "state is dropped" in capsys.readouterr().out


def test_feeding_the_observed_pose_again_is_named(capsys):
    assert not check_generation_loop(feeds_observed_again)
    assert "fed again" in capsys.readouterr().out


def test_returning_the_observed_outputs_too_is_named(capsys):
    assert not check_generation_loop(returns_everything)
    assert "only the" in capsys.readouterr().out


def test_errors_and_non_functions_are_reported_not_raised(capsys):
    def broken(lstm, observed_pose, content, horizon):
        raise RuntimeError("boom")

    assert not check_generation_loop(broken)
    assert "boom" in capsys.readouterr().out
    assert not check_generation_loop(3)
    assert "Pass the function itself" in capsys.readouterr().out


def without_no_grad(lstm, observed_pose, content, horizon):
    out, state = lstm(observed_pose, content)
    current = out[:, -1:]
    predictions = [current]
    for _ in range(horizon - 1):
        current, state = lstm(current, content, state)
        predictions.append(current)
    return torch.cat(predictions, 1).detach()  # right values, but every step kept its graph


def test_a_loop_without_no_grad_is_refused(capsys):
    assert not check_generation_loop(without_no_grad)
    assert "torch.no_grad()" in capsys.readouterr().out


def one_step_too_many(lstm, observed_pose, content, horizon):
    with torch.no_grad():
        out, state = lstm(observed_pose, content)
        current = out[:, -1:]
        predictions = [current]
        for _ in range(horizon):  # off by one: the first prediction was already kept
            current, state = lstm(current, content, state)
            predictions.append(current)
    return torch.cat(predictions, 1)


def test_the_off_by_one_loop_is_named(capsys):
    assert not check_generation_loop(one_step_too_many)
    out = capsys.readouterr().out
    assert "one pose too many" in out and "range(horizon - 1)" in out
    assert not check_generation_loop(lambda lstm, o, c, h: right(lstm, o, c, h)[:, 1:])
    assert "one pose too few" in capsys.readouterr().out
