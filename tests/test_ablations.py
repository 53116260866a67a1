import json

import pytest

from drnet_lite.ablations import ABLATIONS, COLUMNS, MAIN_ABLATIONS, ablation_table, run_ablations
from drnet_lite.cli import main
from drnet_lite.judge import DEFAULT_JUDGE
from drnet_lite.presets import preset

TINY = dict(image_size=32, digit_size=20, width=4, content_dim=8, batch_size=8, steps=3, log_every=1,
            image_every=10, checkpoint_every=10, max_step=4, device="cpu")


def test_each_ablation_removes_one_ingredient():
    full = preset("mnist-lite")
    assert preset("mnist-lite", **ABLATIONS["no-adversary"]).adversarial_weight == 0 < full.adversarial_weight
    assert preset("mnist-lite", **ABLATIONS["no-similarity"]).similarity_weight == 0 < full.similarity_weight
    two = preset("mnist-lite", **ABLATIONS["pose-dim-2"])
    assert two.model.pose_dim == 2 and two.adversarial_weight == full.adversarial_weight
    assert full.model.normalize_content and not preset("mnist-lite", **ABLATIONS["no-content-normalization"]).model.normalize_content
    assert set(MAIN_ABLATIONS) <= set(ABLATIONS) and "full" not in MAIN_ABLATIONS


def test_unknown_ablation_fails_before_training():
    with pytest.raises(ValueError, match="unknown ablation"):
        run_ablations(names=["no-decoder"])


@pytest.mark.skipif(not DEFAULT_JUDGE.is_file(), reason="shipped judge weights missing")
def test_rows_and_table(mnist_root, tmp_path):
    rows = run_ablations(names=["full", "pose-dim-2"], out_root=tmp_path, data_root=mnist_root, pairs=20,
                         probe_clips=40, progress=False, **TINY)
    assert [r["name"] for r in rows] == ["full", "pose-dim-2"] and all(r["steps"] == 3 for r in rows)
    assert (tmp_path / "pose-dim-2" / "checkpoint.pt").is_file()
    for row in rows:
        assert all(0.0 <= row[key] <= 1.0 for _, key in COLUMNS if key != "swap_window_ssim")
    table = ablation_table(rows).splitlines()
    assert len(table) == 4 and table[3].startswith("| pose-dim-2 | 3 |")
    assert f"{100 * rows[0]['swap_accuracy']:.1f}%" in table[2]


def test_a_folder_holding_a_run_is_refused_before_any_training(mnist_root, tmp_path):
    (tmp_path / "pose-dim-2").mkdir()
    (tmp_path / "pose-dim-2" / "checkpoint.pt").write_bytes(b"an earlier run")
    with pytest.raises(ValueError, match=r"already holds run\(s\) \['pose-dim-2'\]"):
        run_ablations(names=["full", "pose-dim-2"], out_root=tmp_path, data_root=mnist_root, progress=False, **TINY)
    assert not (tmp_path / "full").exists()  # the first run did not start either
    assert (tmp_path / "pose-dim-2" / "checkpoint.pt").read_bytes() == b"an earlier run"


@pytest.mark.skipif(not DEFAULT_JUDGE.is_file(), reason="shipped judge weights missing")
def test_ablations_command_prints_the_table_and_writes_the_rows(mnist_root, tmp_path, capsys):
    out, rows_file = tmp_path / "runs", tmp_path / "rows.json"
    argv = ["ablations", "--preset", "mnist-lite", "--names", "no-similarity", "--steps", "2", "--out", str(out),
            "--json", str(rows_file), "--pairs", "10", "--probe-clips", "40", "--data", str(mnist_root), "--device", "cpu"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    saved = json.loads(rows_file.read_text())
    assert saved["preset"] == "mnist-lite" and [r["name"] for r in saved["rows"]] == ["no-similarity"]
    assert saved["rows"][0]["steps"] == 2 and "| no-similarity | 2 |" in printed
    assert (out / "no-similarity" / "checkpoint.pt").is_file()
    assert main(argv) == 2  # a second run into the same folder is refused
    assert main(argv + ["--overwrite"]) == 0
