"""The command line on the turntable and on small-NORB files: train, evaluate (the table), presets."""
from drnet_lite.cli import main
from drnet_lite.data.norb import write_synthetic_norb


def test_train_and_evaluate_turntable(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("DRNET_QUICK", "1")
    run = tmp_path / "run"
    args = ["train", "--preset", "turntable-lite", "--steps", "2", "--batch-size", "4", "--width", "4",
            "--image-size", "16", "--device", "cpu", "--out", str(run)]
    assert main(args) == 0
    assert (run / "checkpoint.pt").exists()
    capsys.readouterr()
    assert main(["evaluate", "--checkpoint", str(run / "checkpoint.pt")]) == 0
    out = capsys.readouterr().out
    assert "object identity" in out and "swaps, unseen toys" in out and (run / "metrics.json").exists()


def test_train_norb_from_files(tmp_path):
    root = write_synthetic_norb(tmp_path / "norb", elevations=1, lightings=1, size=32)
    args = ["train", "--preset", "norb", "--root", str(root), "--steps", "1", "--batch-size", "4", "--width", "4",
            "--image-size", "16", "--device", "cpu", "--out", str(tmp_path / "run")]
    assert main(args) == 0
    assert (tmp_path / "run" / "checkpoint.pt").exists()


def test_train_norb_without_files_names_them(tmp_path, capsys):
    args = ["train", "--preset", "norb", "--root", str(tmp_path), "--steps", "1", "--out", str(tmp_path / "run")]
    assert main(args) != 0
    err = capsys.readouterr().err
    assert "smallnorb-5x46789x9x18x6x2x96x96-training-dat.mat" in err and str(tmp_path) in err
