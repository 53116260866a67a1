"""Checkers of notebooks 02 (reconstruction loss) and 03 (similarity loss): right answers pass,
wrong ones fail with a hint, broken ones never raise."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from drnet_lite.exercises import check_reconstruction_loss, check_similarity_loss
from drnet_lite.losses import reconstruction_loss, similarity_loss

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


# ================================================================ notebook 02: L_rec

def rec_composed(model, x_c, x_p):
    h_c, skips = model.encode_content(x_c)
    h_p = model.encode_pose(x_p)
    return ((model.decode(h_c, h_p, skips) - x_p) ** 2).mean()


def rec_forward(model, x_c, x_p):
    return F.mse_loss(model(x_c, x_p), x_p)


def rec_package(model, x_c, x_p):
    return reconstruction_loss(model(x_c, x_p), x_p)


@pytest.mark.parametrize("solution", [rec_composed, rec_forward, rec_package])
def test_check_reconstruction_loss_accepts_correct_solutions(solution, capsys):
    assert check_reconstruction_loss(solution) is True
    assert capsys.readouterr().out.startswith("Correct!")


def rec_target_content(model, x_c, x_p):
    return F.mse_loss(model(x_c, x_p), x_c)


def rec_roles_swapped(model, x_c, x_p):
    return F.mse_loss(model(x_p, x_c), x_p)


def rec_cheat(model, x_c, x_p):
    return F.mse_loss(model(x_p, x_p), x_p)


def rec_sum(model, x_c, x_p):
    return ((model(x_c, x_p) - x_p) ** 2).sum()


def rec_per_frame_sum(model, x_c, x_p):
    return ((model(x_c, x_p) - x_p) ** 2).sum() / x_p.shape[0]


def rec_l1(model, x_c, x_p):
    return (model(x_c, x_p) - x_p).abs().mean()


def rec_rmse(model, x_c, x_p):
    return F.mse_loss(model(x_c, x_p), x_p).sqrt()


def rec_no_square(model, x_c, x_p):
    return (model(x_c, x_p) - x_p).mean()


def rec_item(model, x_c, x_p):
    return F.mse_loss(model(x_c, x_p), x_p).item()


def rec_no_grad(model, x_c, x_p):
    with torch.no_grad():
        return F.mse_loss(model(x_c, x_p), x_p)


def rec_content_detached(model, x_c, x_p):
    h_c, skips = model.encode_content(x_c)
    return F.mse_loss(model.decode(h_c.detach(), model.encode_pose(x_p), skips), x_p)


def rec_pose_detached(model, x_c, x_p):
    h_c, skips = model.encode_content(x_c)
    return F.mse_loss(model.decode(h_c, model.encode_pose(x_p).detach(), skips), x_p)


def rec_per_pixel(model, x_c, x_p):
    return (model(x_c, x_p) - x_p) ** 2


def rec_forgets_skips(model, x_c, x_p):
    h_c, _ = model.encode_content(x_c)
    return F.mse_loss(model.decode(h_c, model.encode_pose(x_p)), x_p)


def rec_tuple(model, x_c, x_p):
    h_c = model.encode_content(x_c)  # a (h_c, skips) pair
    return F.mse_loss(model.decode(h_c, model.encode_pose(x_p)), x_p)


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (rec_target_content, "pose frame x_p"),
        (rec_roles_swapped, "swapped"),
        (rec_cheat, "cheats"),
        (rec_sum, "mean"),
        (rec_per_frame_sum, "every pixel"),
        (rec_l1, "L1"),
        (rec_rmse, "square root"),
        (rec_no_square, "square first"),
        (rec_item, "not a tensor"),
        (rec_no_grad, "no gradient"),
        (rec_content_detached, "content encoder"),
        (rec_pose_detached, "pose encoder"),
        (rec_per_pixel, "one number"),
        (rec_forgets_skips, "model.decode(h_c, h_p, skips)"),
        (rec_tuple, "returns a pair"),
    ],
)
def test_check_reconstruction_loss_rejects_wrong_solutions_with_a_hint(wrong, hint, capsys):
    assert check_reconstruction_loss(wrong) is False
    out = capsys.readouterr().out
    assert out.startswith("Not yet.")
    assert hint.lower() in out.lower()


def rec_not_implemented(model, x_c, x_p):
    raise NotImplementedError


def rec_crashes(model, x_c, x_p):
    return model.encode_content(x_c)[0] @ x_p


def rec_two_arguments(model, x_c):
    return model(x_c, x_c).mean()


def rec_returns_none(model, x_c, x_p):
    return None


@pytest.mark.parametrize(
    "broken, hint",
    [
        (rec_not_implemented, "NotImplementedError"),
        (rec_crashes, "RuntimeError"),
        (rec_two_arguments, "TypeError"),
        (rec_returns_none, "torch tensor"),
        (0.5, "Pass the function itself"),
    ],
)
def test_check_reconstruction_loss_survives_broken_solutions(broken, hint, capsys):
    assert not check_reconstruction_loss(broken)
    out = capsys.readouterr().out
    assert hint in out
    assert "Encoder(" not in out and "tensor([" not in out  # arguments are named, not printed


def test_check_reconstruction_loss_leaves_the_global_random_state_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    check_reconstruction_loss(rec_composed)
    assert torch.equal(torch.rand(3), expected)


# ================================================================ notebook 03: L_sim

def sim_formula(h_c1, h_c2):
    return ((h_c1 - h_c2.detach()) ** 2).mean()


def sim_functional(h_c1, h_c2):
    return F.mse_loss(h_c1, h_c2.detach())


def sim_package(h_c1, h_c2):
    return similarity_loss(h_c1, h_c2)


def sim_no_grad_target(h_c1, h_c2):
    with torch.no_grad():
        target = h_c2.clone()
    return (h_c1 - target).pow(2).mean()


@pytest.mark.parametrize("solution", [sim_formula, sim_functional, sim_package, sim_no_grad_target])
def test_check_similarity_loss_accepts_correct_solutions(solution, capsys):
    assert check_similarity_loss(solution) is True
    assert capsys.readouterr().out.startswith("Correct!")


def sim_no_detach(h_c1, h_c2):
    return ((h_c1 - h_c2) ** 2).mean()


def sim_detaches_the_wrong_one(h_c1, h_c2):
    return ((h_c1.detach() - h_c2) ** 2).mean()


def sim_detaches_both(h_c1, h_c2):
    return ((h_c1.detach() - h_c2.detach()) ** 2).mean()


def sim_sum(h_c1, h_c2):
    return ((h_c1 - h_c2.detach()) ** 2).sum()


def sim_row_sum(h_c1, h_c2):
    return ((h_c1 - h_c2.detach()) ** 2).sum(dim=1).mean()


def sim_l1(h_c1, h_c2):
    return (h_c1 - h_c2.detach()).abs().mean()


def sim_distance(h_c1, h_c2):
    return (h_c1 - h_c2.detach()).norm(dim=1).mean()


def sim_item(h_c1, h_c2):
    return ((h_c1 - h_c2.detach()) ** 2).mean().item()


def sim_per_element(h_c1, h_c2):
    return (h_c1 - h_c2.detach()) ** 2


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (sim_no_detach, "flows into the second argument"),
        (sim_detaches_the_wrong_one, "detached the wrong vector"),
        (sim_detaches_both, "no gradient flows"),
        (sim_sum, "use .mean()"),
        (sim_row_sum, "averages over every element"),
        (sim_l1, "L1"),
        (sim_distance, "Euclidean"),
        (sim_item, "not a tensor"),
        (sim_per_element, "one number"),
    ],
)
def test_check_similarity_loss_rejects_wrong_solutions_with_a_hint(wrong, hint, capsys):
    assert check_similarity_loss(wrong) is False
    out = capsys.readouterr().out
    assert out.startswith("Not yet.")
    assert hint.lower() in out.lower()


def sim_not_implemented(h_c1, h_c2):
    raise NotImplementedError


def sim_crashes(h_c1, h_c2):
    return ((h_c1 - h_c2.T) ** 2).mean()


def sim_one_argument(h_c1):
    return h_c1.mean()


@pytest.mark.parametrize(
    "broken, hint",
    [
        (sim_not_implemented, "NotImplementedError"),
        (sim_crashes, "RuntimeError"),
        (sim_one_argument, "TypeError"),
        ("sim_loss", "Pass the function itself"),
    ],
)
def test_check_similarity_loss_survives_broken_solutions(broken, hint, capsys):
    assert not check_similarity_loss(broken)
    out = capsys.readouterr().out
    assert hint in out
    assert "tensor([" not in out


# ================================================================ the notebooks' own solutions

def _solution(notebook: str, marker: str):
    """Execute the notebook's stub and hidden solution cells and return the function they leave behind."""
    from drnet_lite.exercises import solution_if_unsolved

    path = NOTEBOOKS / notebook
    cells = [c for c in json.loads(path.read_text(encoding="utf-8"))["cells"] if c["cell_type"] == "code"]
    found = ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
             for c in cells if {"exercise", "solution"} & set(c["metadata"].get("tags", []))]
    assert len(found) == 2 and f"def {marker}(" in found[0], f"{notebook}: a stub of {marker}, then its hidden solution"
    namespace: dict = {"solution_if_unsolved": solution_if_unsolved, "torch": torch}
    for source in found:
        exec(compile(source, str(path), "exec"), namespace)
    return namespace[marker]


def test_notebook_02_solution_passes_its_checker():
    assert check_reconstruction_loss(_solution("02_reconstruction.ipynb", "rec_loss")) is True


def test_notebook_03_solution_passes_its_checker():
    assert check_similarity_loss(_solution("03_similarity.ipynb", "sim_loss")) is True
