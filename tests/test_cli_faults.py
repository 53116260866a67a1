"""The fault catalogue, through the command line: every bad input or fault a careless or hostile
user can cause gets exit status 2 (130 after Ctrl-C), one line naming the problem, no traceback,
and leaves what is on disk as it was.

Most cases run in ONE subprocess (``python -c`` calling ``drnet_lite.cli.main`` once per case, so
torch is imported once); the runner hashes the watched paths before and after each case. Cases
that need their own process (Ctrl-C, two processes on one folder, no network) get one each.
Numbers in the case names are the defects of the catalogue (issue "Nothing lost, nothing silent").
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from drnet_lite.checkpoint import load_checkpoint, save_checkpoint
from drnet_lite.data import MovingMNIST, save_standard_test_set
from drnet_lite.presets import lstm_preset
from drnet_lite.train import fit
from drnet_lite.presets import preset
from drnet_lite.train_lstm import fit_lstm

REPO = Path(__file__).resolve().parents[1]
#: The smallest DRNet the CLI can train (no --digit-size flag: 28 px digits need 32 px frames).
TINY_TRAIN = ["--image-size", "32", "--width", "4", "--batch-size", "4", "--content-dim", "8", "--pose-dim", "3",
              "--max-step", "4", "--device", "cpu"]

RUNNER = textwrap.dedent("""
    import contextlib, hashlib, io, json, os, sys, traceback
    from pathlib import Path
    from drnet_lite.cli import main

    def tree(paths):
        digest = {}
        for root in map(Path, paths):
            files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else []
            for f in files:
                digest[str(f)] = hashlib.sha256(f.read_bytes()).hexdigest()
            if not root.exists():
                digest[str(root)] = "absent"
        return digest

    results = []
    for case in json.load(open(sys.argv[1])):
        before = tree(case["watch"])
        err, out = io.StringIO(), io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            try:
                rc, tb = main(case["argv"]), ""
            except BaseException:
                rc, tb = None, traceback.format_exc()
        results.append({"rc": rc, "err": err.getvalue(), "out": out.getvalue(), "traceback": tb,
                        "changed": sorted(k for k in set(before) | set(tree(case["watch"]))
                                          if before.get(k) != tree(case["watch"]).get(k))})
    json.dump(results, open(sys.argv[2], "w"))
""")


def _env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
           "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    env.update(extra)
    return env


def _cli(args: list[str], **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "drnet_lite", *args], cwd=kwargs.pop("cwd", None), env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def _last_line(text: str) -> str:
    lines = [line for line in text.replace("\r", "\n").splitlines() if line.strip()]
    return lines[-1] if lines else ""


# --- the files the cases break -------------------------------------------------------------


@pytest.fixture(scope="module")
def world(tmp_path_factory, mnist_root):
    """Finished tiny runs, broken copies of their checkpoints, and bad standard files."""
    base = tmp_path_factory.mktemp("faults")
    w = {"base": base, "data": str(mnist_root)}
    config = preset("mnist-lite", image_size=32, width=4, content_dim=8, pose_dim=3, batch_size=4, steps=2,
                    log_every=1, image_every=10, checkpoint_every=2, max_step=4, device="cpu")
    fit(config, base / "run", data_root=mnist_root, progress=False)
    w["run"] = base / "run"
    w["drnet"] = base / "run" / "checkpoint.pt"
    lstm_config = lstm_preset("lstm-lite", hidden_size=8, observed=3, predicted=2, batch_size=4, steps=2, log_every=1,
                              checkpoint_every=2, device="cpu", bank_clips=0)
    fit_lstm(lstm_config, w["drnet"], base / "lstm", data_root=mnist_root, progress=False)
    w["lstm"] = base / "lstm" / "checkpoint.pt"

    payload = load_checkpoint(w["drnet"])
    exported = {k: v for k, v in payload.items() if k not in ("optimizers", "rng", "format")}
    save_checkpoint(exported, base / "exported" / "checkpoint.pt")
    w["exported"] = base / "exported"
    broken = dict(payload, state={k: v.float().fill_(float("nan")) if v.is_floating_point() else v
                                  for k, v in payload["state"].items()})
    w["nan"] = save_checkpoint(broken, base / "nan.pt")
    lstm_payload = load_checkpoint(w["lstm"])
    w["nan_lstm"] = save_checkpoint(dict(lstm_payload, state={k: torch.full_like(v, float("inf"))
                                                              for k, v in lstm_payload["state"].items()}),
                                    base / "nan_lstm.pt")

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {base / 'pwned'}",))

    torch.save({"format": "drnet_lite/1", "kind": "drnet", "x": Evil()}, base / "evil.pt")
    w["evil"] = base / "evil.pt"

    data = MovingMNIST(config.data.__class__(image_size=32, num_digits=2, digit_size=16, split="test", seq_len=5),
                       root=mnist_root)
    clips = data.sample(3, seed=0).frames  # (3, 5, 1, 32, 32)
    w["standard"] = save_standard_test_set(base / "standard.npy", clips)
    np.save(base / "clip_first.npy", (clips[:, :, 0] * 255).round().to(torch.uint8).numpy())  # (N, T, H, W)
    w["clip_first"] = base / "clip_first.npy"
    (base / "empty.npy").write_bytes(b"")
    w["empty"] = base / "empty.npy"
    with zipfile.ZipFile(base / "archive.npz", "w") as z:
        z.writestr("x.npy", b"")
    w["npz"] = base / "archive.npz"
    (base / "text.npy").write_text("20 10000 64 64\n")
    w["text"] = base / "text.npy"
    (base / "a_file").write_text("in the way")
    w["file"] = base / "a_file"
    return w


def _catalogue(w) -> list[dict]:
    """(name, argv, expected rc, words the message must hold, paths that must not change)."""
    b, data, run = w["base"], w["data"], w["run"]
    lock_run = b / "locked"
    shutil.copytree(run, lock_run)
    (lock_run / "run.lock").write_text(json.dumps({"pid": os.getpid(), "host": os.uname().nodename}))  # a live owner
    stale = b / "stale"
    shutil.copytree(run, stale)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (stale / "run.lock").write_text(json.dumps({"pid": dead.pid, "host": os.uname().nodename}))
    (stale / "checkpoint.pt.k1ll3d.tmp").write_bytes(b"half a checkpoint")
    (stale / "images").mkdir(exist_ok=True)
    (stale / "images" / "swap_000001.png.x.tmp").write_bytes(b"half a picture")
    shipped_copy = b / "shipped"
    shipped_copy.mkdir()
    shutil.copy(REPO / "assets" / "mnist-lite.pt", shipped_copy / "checkpoint.pt")
    tr = ["train", *TINY_TRAIN, "--data", data]
    pr = ["predict", "--checkpoint", str(w["lstm"]), "--drnet", str(w["drnet"]), "--observe", "3", "--horizon", "2",
          "--clips", "1", "--data", data]
    ev = ["evaluate", "--checkpoint", str(w["drnet"]), "--data", data]
    el = ["evaluate-lstm", "--checkpoint", str(w["lstm"]), "--drnet", str(w["drnet"]), "--data", data]
    judge = REPO / "assets" / "digit_judge.pt"
    return [
        # 1. an existing run is never replaced silently
        dict(name="1 train into a finished run", argv=[*tr, "--steps", "3", "--out", str(run)], rc=2,
             words=["already holds a run", "--resume", "--overwrite"], watch=[run]),
        dict(name="1 train-lstm into a finished run", argv=["train-lstm", "--drnet", str(w["drnet"]), "--steps", "3",
             "--hidden-size", "8", "--observed", "3", "--predicted", "2", "--batch-size", "4", "--bank-clips", "0",
             "--out", str(w["lstm"].parent), "--data", data], rc=2, words=["already holds a run"], watch=[w["lstm"].parent]),
        dict(name="1 --resume with --overwrite", argv=[*tr, "--steps", "3", "--out", str(run), "--resume", "--overwrite"],
             rc=2, words=["--resume and --overwrite"], watch=[run]),
        # 2. an exploding run is stopped before anything non-finite is saved
        dict(name="2 --lr 1e6 diverges", argv=[*tr, "--steps", "4", "--lr", "1e6", "--checkpoint-every", "1",
             "--out", str(b / "diverged")], rc=2, words=["diverged", "--lr"], watch=[b / "diverged" / "checkpoint.pt"]),
        # 3. non-finite weights are refused, naming the file
        dict(name="3 evaluate NaN weights", argv=[*ev[:1], "--checkpoint", str(w["nan"]), "--pairs", "4",
             "--probe-clips", "8", "--data", data, "--out", str(b / "nan_metrics.json")], rc=2,
             words=["non-finite", str(w["nan"])], watch=[b / "nan_metrics.json"]),
        dict(name="3 predict with inf LSTM weights", argv=[*pr[:1], "--checkpoint", str(w["nan_lstm"]), *pr[3:],
             "--out", str(b / "nan_pred")], rc=2, words=["non-finite", str(w["nan_lstm"])], watch=[b / "nan_pred"]),
        # 4. the shipped judge is never replaced by default
        dict(name="4 train-judge --out the shipped asset", argv=["train-judge", "--out", str(judge), "--data", data],
             rc=2, words=["shipped judge", "--replace-asset"], watch=[judge]),
        # 5. export and exported weights
        dict(name="5 export over its own checkpoint", argv=["export", "--checkpoint", str(w["drnet"]), "--out",
             str(w["drnet"])], rc=2, words=["is the checkpoint itself", "another --out"], watch=[run]),
        dict(name="5 resume exported weights", argv=[*tr, "--steps", "4", "--out", str(w["exported"]), "--resume"],
             rc=2, words=["exported weights", "cannot be resumed"], watch=[w["exported"]]),
        dict(name="5 resume the shipped mnist-lite.pt", argv=["train", "--steps", "13000", "--out", str(shipped_copy),
             "--resume", "--device", "cpu", "--data", data], rc=2, words=["exported weights", "cannot be resumed"],
             watch=[shipped_copy]),
        # 6. a locked folder; a stale lock (and 14: its stale temp files) is cleaned up
        dict(name="6 a second process on a locked folder", argv=[*tr, "--steps", "4", "--out", str(lock_run), "--resume"],
             rc=2, words=["in use by process", str(os.getpid()), "run.lock"], watch=[lock_run]),
        dict(name="6+14 stale lock and temp files of a killed run", argv=[*tr, "--steps", "3", "--out", str(stale),
             "--resume"], rc=0, words=[], watch=[]),
        # 7. demo --checkpoint must exist
        dict(name="7 demo --checkpoint typo", argv=["demo", "--checkpoint", str(b / "typo.pt"), "--out", str(b / "demo")],
             rc=2, words=["no checkpoint at", "typo.pt"], watch=[b / "demo"]),
        # 9. --out probed before training
        dict(name="9 --out is a file", argv=[*tr, "--steps", "3", "--out", str(w["file"])], rc=2,
             words=["is a file", "another --out"], watch=[w["file"]]),
        dict(name="9 --out under a file", argv=[*tr, "--steps", "3", "--out", str(w["file"] / "run")], rc=2,
             words=["cannot be written"], watch=[w["file"]]),
        dict(name="9 predict --out is a file", argv=[*pr, "--out", str(w["file"])], rc=2, words=["is a file"],
             watch=[w["file"]]),
        # 10. one line instead of a traceback
        dict(name="10 --device cuda without CUDA", argv=[*tr, "--steps", "3", "--device", "cuda", "--out", str(b / "cuda")],
             rc=2, words=["CUDA is not available", "--device cpu"], watch=[b / "cuda"], skip=torch.cuda.is_available()),
        dict(name="10 --device tpu", argv=[*tr, "--steps", "3", "--device", "tpu", "--out", str(b / "tpu")], rc=2,
             words=["unknown device 'tpu'", "cpu"], watch=[b / "tpu"]),
        dict(name="10 evaluate --out a folder", argv=[*ev, "--out", str(b)], rc=2, words=["is a folder", "file name"],
             watch=[b]),
        dict(name="10 empty --standard-file", argv=[*pr, "--standard-file", str(w["empty"]), "--out", str(b / "p_empty")],
             rc=2, words=["is empty"], watch=[b / "p_empty"]),
        dict(name="10 .npz --standard-file", argv=[*pr, "--standard-file", str(w["npz"]), "--out", str(b / "p_npz")],
             rc=2, words=[".npz", "extract"], watch=[b / "p_npz"]),
        dict(name="10 --fps 0", argv=[*pr, "--fps", "0", "--out", str(b / "p_fps")], rc=2, words=["--fps", "(0, 1000]"],
             watch=[b / "p_fps"]),
        dict(name="10 --fps -3", argv=[*pr, "--fps", "-3", "--out", str(b / "p_fps")], rc=2, words=["--fps"],
             watch=[b / "p_fps"]),
        dict(name="10 --image-size 4096", argv=[*tr, "--steps", "3", "--image-size", "4096", "--out", str(b / "big")],
             rc=2, words=["--image-size", "from 8 to 256"], watch=[b / "big"]),
        dict(name="10 --image-size 48", argv=[*tr, "--steps", "3", "--image-size", "48", "--out", str(b / "big")],
             rc=2, words=["--image-size", "powers of two"], watch=[b / "big"]),
        # 11. every count up front
        dict(name="11 train --steps 0", argv=[*tr, "--steps", "0", "--out", str(b / "s0")], rc=2,
             words=["--steps", ">= 1"], watch=[b / "s0"]),
        dict(name="11 train-lstm --steps 0", argv=["train-lstm", "--drnet", str(w["drnet"]), "--steps", "0",
             "--out", str(b / "l0")], rc=2, words=["--steps", ">= 1"], watch=[b / "l0"]),
        dict(name="11 evaluate --pairs 0", argv=[*ev, "--pairs", "0"], rc=2, words=["--pairs", ">= 1"], watch=[run]),
        dict(name="11 evaluate --pairs -5", argv=[*ev, "--pairs", "-5"], rc=2, words=["--pairs"], watch=[run]),
        dict(name="11 evaluate --probe-clips 1", argv=[*ev, "--probe-clips", "1"], rc=2, words=["--probe-clips", ">= 8"],
             watch=[run]),
        dict(name="11 predict --clips 0", argv=[*pr, "--clips", "0", "--out", str(b / "c0")], rc=2,
             words=["--clips", ">= 1"], watch=[b / "c0"]),
        dict(name="11 evaluate-lstm --clips 0", argv=[*el, "--clips", "0"], rc=2, words=["--clips"], watch=[run]),
        dict(name="11 evaluate-lstm --horizon 0", argv=[*el, "--horizon", "0"], rc=2, words=["--horizon"], watch=[run]),
        dict(name="11 evaluate-lstm --observe 0", argv=[*el, "--observe", "0"], rc=2, words=["--observe"], watch=[run]),
        dict(name="11 --standard-clips 0", argv=[*pr, "--standard-file", str(w["standard"]), "--standard-clips", "0",
             "--out", str(b / "sc0")], rc=2, words=["--standard-clips"], watch=[b / "sc0"]),
        dict(name="11 --standard-clips -1", argv=[*pr, "--standard-file", str(w["standard"]), "--standard-clips", "-1",
             "--out", str(b / "sc0")], rc=2, words=["--standard-clips"], watch=[b / "sc0"]),
        dict(name="11 --standard-clips beyond the file", argv=[*pr, "--standard-file", str(w["standard"]),
             "--standard-clips", "9", "--out", str(b / "sc0")], rc=2, words=["holds only 3 clips"], watch=[b / "sc0"]),
        dict(name="11 train --batch-size 1", argv=[*tr, "--steps", "3", "--batch-size", "1", "--out", str(b / "b1")],
             rc=2, words=["--batch-size", ">= 2"], watch=[b / "b1"]),
        dict(name="11 train --lr nan", argv=[*tr, "--steps", "3", "--lr", "nan", "--out", str(b / "b1")], rc=2,
             words=["--lr", "finite"], watch=[b / "b1"]),
        # 12. --standard-file: layout, text, checked before any picture
        dict(name="12 text --standard-file", argv=[*pr, "--standard-file", str(w["text"]), "--out", str(b / "p_text")],
             rc=2, words=["not a .npy file"], watch=[b / "p_text"]),
        dict(name="12 too short for --observe, before the GIF", argv=[*pr[:5], "--observe", "5", *pr[7:], "--standard-file",
             str(w["standard"]), "--out", str(b / "p_short")], rc=2, words=["--observe"], watch=[b / "p_short"]),
        dict(name="12 clip-first --standard-file is recognised", argv=[*pr, "--standard-file", str(w["clip_first"]),
             "--out", str(b / "p_clip")], rc=0, words=[], watch=[], out_words=["read as 3 clips of 5 frames"]),
        # 15. a malicious pickle
        dict(name="15 malicious checkpoint", argv=[*ev[:1], "--checkpoint", str(w["evil"]), "--data", data,
             "--out", str(b / "evil.json")], rc=2, words=["objects beyond tensors", "Do not load it unsafely"],
             watch=[b / "evil.json"]),
    ]


FORBIDDEN = ("Traceback", "weights_only=False", "allow_pickle")


def test_fault_catalogue_through_the_cli(world, tmp_path):
    cases = [c for c in _catalogue(world) if not c.get("skip")]
    spec = tmp_path / "cases.json"
    spec.write_text(json.dumps([{"argv": c["argv"], "watch": [str(p) for p in c["watch"]]} for c in cases]))
    done = subprocess.run([sys.executable, "-c", RUNNER, str(spec), str(tmp_path / "results.json")], env=_env(),
                          cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    failures = []
    for case, result in zip(cases, json.loads((tmp_path / "results.json").read_text())):
        line = _last_line(result["err"])
        problems = []
        if result["traceback"]:
            problems.append("raised:\n" + result["traceback"])
        if result["rc"] != case["rc"]:
            problems.append(f"rc {result['rc']} != {case['rc']}")
        missing = [word for word in case["words"] if word not in line]
        if missing:
            problems.append(f"message {line!r} lacks {missing}")
        if case["rc"] == 2 and not line.startswith(("error:", "python -m drnet_lite")):
            problems.append(f"last line is not the error: {line!r}")
        if any(word in result["err"] for word in FORBIDDEN):
            problems.append(f"stderr holds one of {FORBIDDEN}")
        if any(word not in result["out"] for word in case.get("out_words", [])):
            problems.append(f"stdout lacks {case['out_words']}: {result['out'][-500:]}")
        if result["changed"]:
            problems.append(f"changed on disk: {result['changed']}")
        if problems:
            failures.append(f"{case['name']}: " + "; ".join(problems))
    assert not failures, "\n".join(failures)
    assert not (world["base"] / "pwned").exists()  # the malicious pickle never ran
    stale = world["base"] / "stale"
    assert not list(stale.rglob("*.tmp")) and not (stale / "run.lock").exists()  # 6+14: cleaned, lock released
    assert load_checkpoint(stale / "checkpoint.pt")["step"] == 3


def _training_with_a_checkpoint(out: Path, mnist_root) -> subprocess.Popen:
    """A long tiny training run in its own process, once it has written its first checkpoint."""
    first = _cli(["train", *TINY_TRAIN, "--steps", "100000", "--checkpoint-every", "5", "--out", str(out),
                  "--data", str(mnist_root)])
    deadline = time.time() + 120
    while not (out / "checkpoint.pt").exists():
        if first.poll() is not None or time.time() > deadline:
            first.kill()
            pytest.fail(first.communicate()[1][-2000:])
        time.sleep(0.2)
    return first


def test_ctrl_c_saves_and_a_second_process_is_refused(tmp_path, mnist_root):
    """8: Ctrl-C saves the last finished step atomically and exits 130; 6: a second process meanwhile
    is refused by the lock, naming the first; the run then resumes."""
    out = tmp_path / "run"
    first = _training_with_a_checkpoint(out, mnist_root)
    try:
        second = _cli(["train", *TINY_TRAIN, "--steps", "100000", "--out", str(out), "--resume",
                       "--data", str(mnist_root)])
        _, err = second.communicate(timeout=120)
        assert second.returncode == 2 and f"in use by process {first.pid}" in _last_line(err), err[-2000:]
        first.send_signal(signal.SIGINT)
        _, err = first.communicate(timeout=120)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert first.returncode == 130, err[-2000:]
    line = _last_line(err)
    assert line.startswith("interrupted: step") and "--resume" in line and "Traceback" not in err
    step = int(line.split("step ")[1].split()[0])
    assert load_checkpoint(out / "checkpoint.pt")["step"] == step >= 5
    assert not (out / "run.lock").exists() and not list(out.glob("*.tmp"))


def test_download_offline_is_one_line(tmp_path):
    """10: ``download`` without a network: one line naming the fix, exit 2."""
    offline = _env(HTTPS_PROXY="http://127.0.0.1:9", HTTP_PROXY="http://127.0.0.1:9",
                   https_proxy="http://127.0.0.1:9", http_proxy="http://127.0.0.1:9")
    done = subprocess.run([sys.executable, "-m", "drnet_lite", "download", "--data", str(tmp_path)], env=offline,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "could not download MNIST" in done.stderr and "copy the four" in done.stderr
    assert not [p for p in (tmp_path / "MNIST" / "raw").iterdir()]  # no partial files left


def test_unreadable_data_file_is_one_line(tmp_path, mnist_raw, monkeypatch, capsys):
    """10: an MNIST file that cannot be read (simulated: the tests run as root, for whom chmod 000 does not stop reads)."""
    from drnet_lite.cli import main
    from drnet_lite.data import mnist

    mnist._load_cached.cache_clear()
    real = mnist.md5sum

    def unreadable(path, *args, **kwargs):
        if path.name.startswith("train-images"):
            raise PermissionError(13, "Permission denied", str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(mnist, "md5sum", unreadable)
    out = tmp_path / "run"
    rc = main(["train", *TINY_TRAIN, "--steps", "2", "--out", str(out), "--data", str(mnist_raw)])
    mnist._load_cached.cache_clear()
    err = capsys.readouterr().err
    assert rc == 2 and "cannot read" in _last_line(err) and "Permission denied" in _last_line(err)
    assert not (out / "checkpoint.pt").exists() and not (out / "run.lock").exists()


@pytest.mark.parametrize("accuracy, replaced, rc", [(0.5, False, 1), (0.995, True, 0)])
def test_train_judge_replaces_the_asset_only_when_asked_and_the_bar_is_met(tmp_path, monkeypatch, capsys,
                                                                           accuracy, replaced, rc):
    """4: the default goes to a run folder; --replace-asset replaces the asset only at >= 99%."""
    from drnet_lite import cli, judge

    asset = tmp_path / "assets" / "digit_judge.pt"
    asset.parent.mkdir()
    asset.write_bytes(b"the shipped judge")
    monkeypatch.setattr(cli, "SHIPPED_JUDGE", asset)
    monkeypatch.setattr(judge, "train_judge", lambda **kwargs: (judge.DigitJudge(), accuracy))
    assert cli.build_parser().parse_args(["train-judge"]).out.startswith("runs/")
    out = tmp_path / "runs" / "judge.pt"
    assert cli.main(["train-judge", "--out", str(out), "--replace-asset"]) == rc
    assert load_checkpoint(out, kind="digit_judge")["test_accuracy"] == accuracy
    assert (asset.read_bytes() != b"the shipped judge") == replaced
    if not replaced:
        assert "was not replaced" in capsys.readouterr().err
    assert cli.main(["train-judge", "--out", str(out)]) == 2  # an existing judge is not replaced without --overwrite


# --- the faults of issue 24 ("A user's own video and machine"), through the command line ----------------------


def _error(argv: list[str], capsys) -> str:
    """Run one command in this process; it must fail with exit 2 and one line, no traceback."""
    from drnet_lite.cli import main

    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.strip() and len(err.strip().splitlines()) == 1, err
    return err.strip()


@pytest.mark.parametrize("base", ["video-64", "turntable-lite"])
def test_24_1_ablations_of_a_source_without_digits_are_refused_before_training(tmp_path, capsys, base):
    err = _error(["ablations", "--preset", base, "--steps", "2", "--out", str(tmp_path / "abl")], capsys)
    assert "need a Moving MNIST preset" in err and f"'{base}' trains on" in err
    assert not (tmp_path / "abl").exists()  # no run folder to block the rerun


def test_24_2_a_full_disk_during_a_checkpoint_save_keeps_the_old_one(world, tmp_path, monkeypatch, capsys):
    import io

    from drnet_lite import atomic
    from drnet_lite.cli import main
    from test_disk_full import FullDisk

    run = tmp_path / "run"
    shutil.copytree(world["run"], run)  # a finished 2-step run
    monkeypatch.setattr(atomic, "open", lambda path, mode="r": io.BufferedWriter(FullDisk(path, 4096)), raising=False)
    assert main(["train", *TINY_TRAIN, "--steps", "4", "--checkpoint-every", "1", "--out", str(run), "--resume",
                 "--data", world["data"]]) == 2
    monkeypatch.undo()
    line = _last_line(capsys.readouterr().err)
    assert line.startswith(f"error: no space left on device while writing {run}") and "is kept unchanged" in line
    assert "check the path" not in line and "inline_container" not in line
    assert load_checkpoint(run / "checkpoint.pt")["step"] == 2 and not list(run.rglob("*.tmp"))


def test_24_3_train_judge_help_prints(capsys):
    from drnet_lite.cli import main

    assert main(["train-judge", "--help"]) == 0 and "99%" in capsys.readouterr().out


def test_24_5_a_shipped_checkpoint_s_results_go_under_runs_not_assets(world, tmp_path, monkeypatch, capsys):
    from drnet_lite.cli import main
    from drnet_lite.cli.flags import default_output

    assets = tmp_path / "assets"
    assets.mkdir()
    shutil.copy(world["drnet"], assets / "tiny.pt")
    monkeypatch.chdir(tmp_path)
    assert main(["evaluate", "--checkpoint", str(assets / "tiny.pt"), "--pairs", "4", "--probe-clips", "8",
                 "--data", world["data"]]) == 0
    assert sorted(p.name for p in assets.iterdir()) == ["tiny.pt"]
    assert (tmp_path / "runs" / "tiny" / "metrics.json").is_file()
    assert default_output(str(assets / "x.pt"), "prediction_metrics.json") == Path("runs/x/prediction_metrics.json")
    assert default_output("runs/lite/checkpoint.pt", "metrics.json") == Path("runs/lite/metrics.json")  # beside a run


def test_24_6_resume_takes_the_stored_config_and_names_a_conflicting_flag(world, tmp_path, capsys):
    from drnet_lite.cli import main

    run = tmp_path / "run"
    shutil.copytree(world["run"], run)  # trained with width 4, pose_dim 3, 32 px frames
    err = _error(["train", "--resume", "--out", str(run), "--steps", "3", "--width", "8", "--pose-dim", "3",
                  "--data", world["data"]], capsys)
    assert "--width 8 (the run has 4)" in err and "--pose-dim" not in err.split("may change")[0]
    assert "only --steps, --device, --checkpoint-every may change" in err
    assert main(["train", "--resume", "--out", str(run), "--steps", "3", "--device", "cpu", "--data", world["data"]]) == 0
    assert load_checkpoint(run / "checkpoint.pt")["step"] == 3


def test_24_7_a_bad_evaluate_out_is_refused_before_any_work(world, tmp_path, monkeypatch, capsys):
    from drnet_lite import train

    monkeypatch.setattr(train, "load_drnet", lambda *a, **k: pytest.fail("the checkpoint was loaded first"))
    ev = ["evaluate", "--checkpoint", str(world["drnet"]), "--data", world["data"]]
    assert "/sys cannot be written" in _error([*ev, "--out", "/sys/metrics.json"], capsys)  # refuses even root
    (tmp_path / "a_file").write_text("in the way")
    err = _error([*ev, "--out", str(tmp_path / "a_file" / "m.json")], capsys)
    assert "a_file is a file, so no folder can be made there" in err and ".tmp" not in err


def test_24_8_sizes_beyond_the_machine_are_refused_with_the_figure(world, tmp_path, capsys):
    tr = ["train", "--data", world["data"], "--device", "cpu"]
    for flags in (["--width", "100000"], ["--batch-size", "1000000"]):
        err = _error([*tr, *flags, "--out", str(tmp_path / "big")], capsys)
        assert "this run needs about" in err and "GB" in err and "use a smaller --width or --batch-size" in err
    assert not (tmp_path / "big").exists()
    err = _error(["predict", "--checkpoint", str(world["lstm"]), "--drnet", str(world["drnet"]), "--horizon", "100000",
                  "--data", world["data"], "--out", str(tmp_path / "pred")], capsys)
    assert "would need about" in err and "--horizon" in err and not (tmp_path / "pred").exists()


def test_24_9_a_standard_file_the_frames_cannot_place_is_refused_or_told(world, tmp_path, capsys):
    from drnet_lite.cli import main

    noise = np.random.default_rng(0).integers(0, 256, (6, 4, 32, 32), dtype=np.uint8)
    np.save(tmp_path / "noise.npy", noise)
    pr = ["predict", "--checkpoint", str(world["lstm"]), "--drnet", str(world["drnet"]), "--observe", "3",
          "--horizon", "1", "--clips", "1", "--data", world["data"], "--standard-file", str(tmp_path / "noise.npy")]
    err = _error([*pr, "--out", str(tmp_path / "p1")], capsys)
    assert "do not show which axis is time" in err and "--standard-layout" in err
    assert main([*pr, "--standard-layout", "clip-first", "--out", str(tmp_path / "p2")]) == 0
    assert "read as 6 clips of 4 frames" in capsys.readouterr().out


def test_24_11_a_bad_config_inside_a_checkpoint_names_the_file(world, tmp_path, capsys):
    payload = load_checkpoint(world["drnet"])
    payload["config"]["model"]["image_size"] = 63
    path = save_checkpoint({k: v for k, v in payload.items() if k != "format"}, tmp_path / "odd.pt")
    err = _error(["evaluate", "--checkpoint", str(path), "--data", world["data"], "--out", str(tmp_path / "m.json")],
                 capsys)
    assert f"{path}: the config stored in this checkpoint is not valid (image_size must be a power of two" in err


def test_24_13_sigterm_saves_like_ctrl_c(tmp_path, mnist_root):
    out = tmp_path / "run"
    first = _training_with_a_checkpoint(out, mnist_root)
    try:
        first.send_signal(signal.SIGTERM)
        _, err = first.communicate(timeout=120)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    line = _last_line(err)
    assert first.returncode == 130 and line.startswith("interrupted (SIGTERM): step"), err[-2000:]
    step = int(line.split("step ")[1].split()[0])
    assert load_checkpoint(out / "checkpoint.pt")["step"] == step and "Exception ignored" not in err


def test_24_13_small_ones(world, tmp_path, capsys):
    from drnet_lite.data.video import write_synthetic_video

    good = write_synthetic_video(tmp_path / "good.avi", frames=30, width=64, height=48)
    # a mistyped path among several --videos is an error, and the failed command leaves no empty run folder
    err = _error(["train", "--preset", "video-64", "--videos", str(good), str(tmp_path / "godo.avi"), "--steps", "1",
                  "--device", "cpu", "--out", str(tmp_path / "new" / "run")], capsys)
    assert "no such video file or folder" in err and "godo.avi" in err
    assert not (tmp_path / "new").exists()
    # "video file file"
    err = _error(["predict", "--checkpoint", str(world["lstm"]), "--video", str(tmp_path)], capsys)
    assert "give the path of the video file" in err and "file file" not in err
    # ablations name --out, not out_root
    taken = tmp_path / "abl"
    (taken / "full").mkdir(parents=True)
    (taken / "full" / "checkpoint.pt").write_bytes(b"an earlier run")
    err = _error(["ablations", "--preset", "mnist-lite", "--names", "full", "--out", str(taken), "--data",
                  world["data"]], capsys)
    assert "--out" in err and "--overwrite" in err


def test_24_13_download_norb_offline_says_what_to_do(tmp_path):
    offline = _env(HTTPS_PROXY="http://127.0.0.1:9", HTTP_PROXY="http://127.0.0.1:9",
                   https_proxy="http://127.0.0.1:9", http_proxy="http://127.0.0.1:9")
    done = subprocess.run([sys.executable, "-m", "drnet_lite", "download", "norb", "--data", str(tmp_path)],
                          env=offline, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "check the path and its permissions" not in done.stderr and "on a machine that is online" in done.stderr
