"""Notebook 07 (prediction), exercise "the generation loop": :func:`check_generation_loop`.

The student writes ``my_generate(lstm, observed_pose, content, horizon)``, the
pose LSTM's rollout. The check compares it with
:func:`drnet_lite.predict.generate_poses` on small random pose LSTMs and names
the usual mistakes (the state dropped, the last observed pose fed again, the
prediction never fed back, autograd left on).
"""
from __future__ import annotations

from typing import Any, Callable

import torch

from ._common import _answer_tensor, _call_shown, _check_callable, checks_stub, _correct, _StudentError, _wrong

__all__ = ["check_generation_loop"]


def _generation_wrong_answers(lstm: Any, observed: torch.Tensor, content: torch.Tensor, horizon: int) -> list[tuple[torch.Tensor, str]]:
    """What the usual mistakes in the generation loop produce."""
    with torch.no_grad():
        out, state = lstm(observed, content)
        first = out[:, -1:]
        forgot_state, stale_input = [first], [first]
        for _ in range(horizon - 1):
            forgot_state.append(lstm(forgot_state[-1], content)[0])  # the state is dropped every step
            stale, state = lstm(observed[:, -1:], content, state)  # the last observed pose fed again and again
            stale_input.append(stale)
        restart = []  # the whole history re-read from a zero state each step, without the prediction fed back
        history = observed
        for _ in range(horizon):
            restart.append(lstm(history, content)[0][:, -1:])
            history = torch.cat([history, observed[:, -1:]], dim=1)
    return [
        (torch.cat(forgot_state, 1), "the LSTM state is dropped: pass the (h, c) that the previous call returned "
                                     "to the next call, or the LSTM forgets the motion it has seen"),
        (torch.cat(stale_input, 1), "the last observed pose is fed again at every step: feed back the *prediction* "
                                    "of the previous step"),
        (torch.cat(restart, 1), "the prediction is never fed back: the input of each new step must be the pose just predicted"),
    ]


@checks_stub
def check_generation_loop(student_fn: Callable[[Any, torch.Tensor, torch.Tensor, int], Any]) -> bool:
    """Check ``student_fn(lstm, observed_pose, content, horizon) -> (B, horizon, pose_dim)`` against
    :func:`drnet_lite.predict.generate_poses` on small random pose LSTMs."""
    from ..predict import PoseLSTM, generate_poses

    problem = _check_callable(student_fn, "check_generation_loop", "my_generate")
    if problem:
        return _wrong(problem)
    name = getattr(student_fn, "__name__", "your function")
    grad_enabled: list[bool] = []  # autograd on or off in each of the student's LSTM calls
    for case, (batch, observed_len, horizon) in enumerate([(3, 5, 7), (2, 1, 4), (1, 10, 1), (4, 3, 12)]):
        torch.manual_seed(200 + case)
        lstm = PoseLSTM(pose_dim=3, content_dim=4, hidden_size=8, num_layers=2).eval()
        observed, content = torch.rand(batch, observed_len, 3) * 2 - 1, torch.rand(batch, 4) * 2 - 1
        expected = generate_poses(lstm, observed, content, horizon)
        shown = f"lstm, observed_pose ({batch}, {observed_len}, 3), content ({batch}, 4), horizon={horizon}"
        hook = lstm.register_forward_pre_hook(lambda module, args: grad_enabled.append(torch.is_grad_enabled()))
        try:
            raw = _call_shown(student_fn, (lstm, observed.clone(), content.clone(), horizon), shown, name)
            got = _answer_tensor(raw, "the predicted poses").float()
        except _StudentError as exc:
            return _wrong(exc.message)
        except TypeError as exc:
            return _wrong(f"{exc}.")
        finally:
            hook.remove()
        if tuple(got.shape) != tuple(expected.shape):
            if got.dim() == 3 and got.shape[1] == horizon + 1 and got.shape[0] == batch:
                return _wrong(f"shape {tuple(got.shape)}: one pose too many for horizon={horizon}. The first prediction "
                              "is already out[:, -1:] after reading the observed poses, so feed back only horizon - 1 "
                              "times (range(horizon - 1)).")
            if got.dim() == 3 and got.shape[1] == horizon - 1 and got.shape[0] == batch:
                return _wrong(f"shape {tuple(got.shape)}: one pose too few for horizon={horizon}. Keep the first "
                              "prediction, out[:, -1:], then add horizon - 1 fed-back ones.")
            if got.dim() == 3 and got.shape[1] == observed_len + horizon - 1:
                return _wrong(f"shape {tuple(got.shape)}: return only the {horizon} predicted poses, not the outputs "
                              "for the observed steps as well.")
            return _wrong(f"expected shape {tuple(expected.shape)} = (B, horizon, pose_dim), got {tuple(got.shape)}.")
        if torch.allclose(got, expected, atol=1e-5):
            if any(grad_enabled):
                return _wrong("the poses are right, but your loop runs with autograd on: every step keeps its graph, "
                              "so memory grows with the horizon (a 500-step rollout of a real model runs out). "
                              "Put the loop under `with torch.no_grad():`.")
            continue
        if horizon > 1:
            for wrong, hint in _generation_wrong_answers(lstm, observed, content, horizon):
                if torch.allclose(got, wrong, atol=1e-5):
                    return _wrong(hint + ".")
        if not torch.allclose(got[:, 0], expected[:, 0], atol=1e-5):
            return _wrong("the first predicted pose is already off: it is the LSTM's output after reading *all* the "
                          "observed poses, i.e. lstm(observed_pose, content)[0][:, -1].")
        return _wrong("the first prediction is right but later ones differ: feed each prediction back with the state "
                      "returned by the previous call.")
    return _correct("your loop matches drnet_lite.predict.generate_poses: observed poses read once, "
                    "then each prediction fed back with the LSTM state.")
