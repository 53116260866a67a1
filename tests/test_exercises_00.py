import torch

from drnet_lite.exercises import check_relative_change, reference_relative_change


def test_reference_on_known_pairs():
    assert reference_relative_change(torch.tensor([[3.0, 4.0], [0.0, 0.0]])) == 1.0
    assert abs(reference_relative_change(torch.tensor([[2.0, 0.0], [0.0, 1.0]])) - 5 ** 0.5 / 2) < 1e-6


def test_check_accepts_right_answers(capsys):
    assert check_relative_change(lambda codes: (codes[0] - codes[1]).norm() / codes[0].norm())
    assert check_relative_change(lambda codes: float(torch.linalg.norm(codes[0] - codes[1]) / torch.linalg.norm(codes[0])))
    assert "Correct" in capsys.readouterr().out


def test_check_names_the_usual_mistakes(capsys):
    def stub(codes):
        raise NotImplementedError

    cases = {
        stub: "NotImplementedError",
        (lambda c: (c[0] - c[1]).norm() / c[1].norm()): "second code",
        (lambda c: (c[0] - c[1]).pow(2).sum() / c[0].norm()): "square root",
        (lambda c: (c[0] - c[1]).norm()): "divide it by ||h(a)||",
        (lambda c: (c[0] - c[1]).abs().mean() / c[0].abs().mean()): "mean absolute",
        (lambda c: (c[0] - c[1]) / c[0].norm()): "one number",
        (lambda c: 1 / 0): "ZeroDivisionError",
        42: "function relative_change itself",
    }
    for answer, hint in cases.items():
        assert not check_relative_change(answer)
        out = capsys.readouterr().out
        assert out.startswith(("Not yet.", "Not written yet:")) and hint in out, (hint, out)
