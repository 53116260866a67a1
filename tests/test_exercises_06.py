import torch

from drnet_lite.exercises import check_swap_matrix
from drnet_lite.swap import swap_matrix


def _no_eval(model, content, pose):
    with torch.no_grad():
        h_c, skips = model.encode_content(content)
        h_p = model.encode_pose(pose)
        nc, np_ = len(h_c), len(h_p)
        out = model.decode(h_c.repeat_interleave(np_, 0), h_p.repeat(nc, 1), [s.repeat_interleave(np_, 0) for s in skips])
    return out.view(nc, np_, *out.shape[1:])


def test_accepts_the_package_swap_matrix(capsys):
    assert check_swap_matrix(swap_matrix) is True
    assert "Correct!" in capsys.readouterr().out


def test_rejects_forgetting_eval_mode(capsys):
    assert check_swap_matrix(_no_eval) is False
    assert "model.eval()" in capsys.readouterr().out


def test_rejects_transposed_roles(capsys):
    assert check_swap_matrix(lambda m, c, p: swap_matrix(m, c, p).transpose(0, 1)) is False
    assert "rows and columns" in capsys.readouterr().out


def test_rejects_pose_and_content_swapped(capsys):
    assert check_swap_matrix(lambda m, c, p: swap_matrix(m, p, c).transpose(0, 1)) is False
    assert "the encoders got each other's frames" in capsys.readouterr().out


def test_names_the_pose_major_order_and_the_square_transpose(capsys):
    def pose_major(m, c, p):  # decoded for pose 0, 1, ... then viewed as (Nc, Np): a transposed matrix when square
        out = swap_matrix(m, c, p).transpose(0, 1)
        return out.reshape(len(c), len(p), *out.shape[2:])

    assert check_swap_matrix(pose_major) is False
    assert "in the wrong cell" in capsys.readouterr().out
    square_only = lambda m, c, p: swap_matrix(m, c, p).transpose(0, 1) if len(c) == len(p) > 1 else swap_matrix(m, c, p)  # noqa: E731
    assert check_swap_matrix(square_only) is False
    assert "it is the transpose" in capsys.readouterr().out


def test_survives_errors_and_non_tensors(capsys):
    assert check_swap_matrix(lambda m, c, p: 1 / 0) is False
    assert "ZeroDivisionError" in capsys.readouterr().out
    assert check_swap_matrix(lambda m, c, p: [1, 2]) is False
    assert check_swap_matrix(42) is False
