"""Two CPU processes on gloo (torchrun) train exactly like one process on the same global batch.

The reference below is one process: every step it draws the clips of rank 0 and of rank 1
from their own generators, concatenates them into the global batch, and takes one
``train_step`` with the shift all ranks share. The torchrun run goes through the CLI,
unchanged, and is interrupted and resumed half-way.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from drnet_lite.data import MovingMNIST
from drnet_lite.distributed import Distributed, DistributedError, SyncedBatchNorm, rank_seed
from drnet_lite.train import Optimizers, build_model, fit, sample_times, train_step
from drnet_lite.presets import preset

STEPS, HALF, BATCH = 4, 2, 8
#: float32 sums in another order (all-reduced BatchNorm statistics and gradients), after 4 Adam steps.
#: One Adam step moves a weight by up to lr = 2e-3; measured here: worst 6.4e-5 (a BatchNorm bias whose
#: gradient is ~0, where Adam turns rounding into steps), next 2e-5; losses agree to 1e-7 (5e-8 at most).
#: The pose LSTM (no BatchNorm): weights within 1.5e-8 after 3 steps.
WEIGHT_TOLERANCE = 2e-4
LOSS_TOLERANCE = 1e-5

pytestmark = pytest.mark.skipif(not torch.distributed.is_available() or not torch.distributed.is_gloo_available(),
                                reason="this torch build has no gloo backend")


def small_config(steps: int):
    return preset("mnist-lite", width=4, image_size=32, batch_size=BATCH, steps=steps, device="cpu")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def torchrun(out: Path, steps: int, resume: bool) -> None:
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nnodes=1", "--nproc_per_node=2",
           "--master_addr=127.0.0.1", f"--master_port={free_port()}",
           "-m", "drnet_lite", "train", "--preset", "mnist-lite", "--width", "4", "--image-size", "32",
           "--batch-size", str(BATCH), "--steps", str(steps), "--device", "cpu", "--out", str(out)]
    if resume:
        cmd.append("--resume")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def reference(steps: int) -> tuple[dict[str, torch.Tensor], list[dict[str, float]]]:
    """One process, global batch = [rank 0's clips, rank 1's clips], the shared shift."""
    config = small_config(steps)
    model = build_model(config).to(memory_format=torch.channels_last)
    optimizers = Optimizers.create(model, config)
    generators = [Distributed(rank, 2).generators(config.seed) for rank in (0, 1)]
    shared = generators[0][1]
    data = MovingMNIST(config.data, root=os.environ.get("DRNET_DATA"))
    losses = []
    for _ in range(steps):
        parts = []
        for data_rng, _shared in generators:
            times = sample_times(BATCH // 2, config.max_step, data_rng)
            parts.append(data.sample(BATCH // 2, generator=data_rng, times=times).frames)
        shift = int(torch.randint(1, BATCH, (1,), generator=shared))
        frames = torch.cat(parts)
        frames = frames.flatten(0, 1).contiguous(memory_format=torch.channels_last).unflatten(0, frames.shape[:2])
        losses.append({k: float(v) for k, v in train_step(model, optimizers, frames, config, shift).items()})
    return model.state_dict(), losses


def test_two_gloo_processes_match_one_process_with_the_global_batch(tmp_path):
    out = tmp_path / "run"
    torchrun(out, HALF, resume=False)
    first = torch.load(out / "checkpoint.pt", weights_only=True)
    assert first["rng"]["world_size"] == 2 and len(first["rng"]["data_ranks"]) == 2
    torchrun(out, STEPS, resume=True)
    payload = torch.load(out / "checkpoint.pt", weights_only=True)
    assert payload["step"] == STEPS
    assert sorted(p.name for p in out.iterdir()) == ["checkpoint.pt", "history.csv", "images"]

    state, losses = reference(STEPS)
    worst = max((payload["state"][k].float() - v.float()).abs().max().item() for k, v in state.items())
    print(f"largest weight/buffer difference after {STEPS} steps (2 processes vs 1): {worst:.2e}")
    assert worst < WEIGHT_TOLERANCE, worst
    # the history logs the mean over the steps since the last log: steps 1-2 (first run), 3-4 (resumed)
    for row, window in zip(payload["history"], (losses[:HALF], losses[HALF:])):
        for key in ("rec", "sim", "adv", "scene", "scene_acc", "total"):
            expected = sum(step[key] for step in window) / len(window)
            assert abs(row[key] - expected) < LOSS_TOLERANCE, (row["step"], key, row[key], expected)
    # weights moved: the comparison is not between two untouched initialisations
    initial = build_model(small_config(STEPS)).state_dict()
    assert max((state[k].float() - v.float()).abs().max().item() for k, v in initial.items()) > 100 * WEIGHT_TOLERANCE

    # a run of two processes resumes only with two
    with pytest.raises(DistributedError, match="nproc_per_node=2"):
        fit(small_config(STEPS + 1), out, resume=True, data_root=os.environ.get("DRNET_DATA"), progress=False)


def test_one_process_is_unchanged_and_local_batches_split_evenly():
    single = Distributed()
    data_rng, shared = single.generators(5)
    assert data_rng is shared and rank_seed(5, 0) == 5 and rank_seed(5, 1) != rank_seed(6, 0)
    assert Distributed(1, 4).local_batch(64) == 16
    with pytest.raises(DistributedError, match="multiple of 3"):
        Distributed(0, 3).local_batch(64)


def test_synced_batchnorm_without_a_process_group_is_batchnorm():
    torch.manual_seed(0)
    plain = torch.nn.Sequential(torch.nn.Conv2d(1, 3, 3), torch.nn.BatchNorm2d(3))
    synced = SyncedBatchNorm.convert(torch.nn.Sequential(*[m for m in __import__("copy").deepcopy(plain)]))
    assert type(synced[1]) is SyncedBatchNorm and set(synced.state_dict()) == set(plain.state_dict())
    x = torch.randn(4, 1, 8, 8)
    torch.testing.assert_close(synced(x), plain(x))
    assert type(SyncedBatchNorm.revert(synced)[1]) is torch.nn.BatchNorm2d


def _on_main_worker(rank: int, port: int, results) -> None:
    os.environ.update(RANK=str(rank), WORLD_SIZE="2", LOCAL_RANK=str(rank), MASTER_ADDR="127.0.0.1",
                      MASTER_PORT=str(port))
    from drnet_lite import distributed

    ctx = distributed.current(torch.device("cpu"))

    def take_lock():  # what opening a run folder whose lock another process holds does, on rank 0 only
        raise RuntimeError("runs/x is in use by process 123 (lock file runs/x/run.lock)")

    try:
        ctx.on_main(take_lock)
        results[rank] = "no error"
    except Exception as exc:
        results[rank] = f"{type(exc).__name__}: {exc}"
    ctx.on_main(lambda: None)  # the group still works afterwards: both ranks got here
    torch.distributed.destroy_process_group()


def test_a_refusal_on_rank_0_stops_every_rank():
    """The run folder (and its lock) is opened by rank 0 alone; if that fails, no rank trains or waits."""
    import torch.multiprocessing as mp

    with mp.Manager() as manager:
        results = manager.dict()
        mp.spawn(_on_main_worker, args=(free_port(), results), nprocs=2, join=True)
        got = dict(results)
    assert got[0] == "RuntimeError: runs/x is in use by process 123 (lock file runs/x/run.lock)"
    assert got[1].startswith("DistributedError: rank 0 stopped: RuntimeError: runs/x is in use")


def _lstm_config():
    from drnet_lite.predict import LSTMConfig

    return LSTMConfig(hidden_size=16, num_layers=1, observed=3, predicted=2, batch_size=BATCH, lr=1e-3,
                      bank_clips=8, bank_length=10, steps=3, log_every=1, device="cpu")


def _lstm_worker(rank: int, port: int, out: str) -> None:
    os.environ.update(RANK=str(rank), WORLD_SIZE="2", LOCAL_RANK=str(rank), MASTER_ADDR="127.0.0.1",
                      MASTER_PORT=str(port))
    from drnet_lite.train_lstm import fit_lstm

    torch.set_num_threads(1)
    drnet_config = small_config(1)
    result = fit_lstm(_lstm_config(), build_model(drnet_config), None, data_root=os.environ.get("DRNET_DATA"),
                      progress=False, drnet_config=drnet_config)
    if rank == 0:
        torch.save({"state": result.lstm.state_dict(), "history": result.history}, out)
    torch.distributed.destroy_process_group()


def test_pose_lstm_on_two_gloo_processes_matches_one_process(tmp_path):
    import torch.multiprocessing as mp

    from drnet_lite.predict import PoseLSTM, lstm_loss, teacher_forced
    from drnet_lite.train_lstm import PoseBank

    out = tmp_path / "lstm.pt"
    mp.spawn(_lstm_worker, args=(free_port(), str(out)), nprocs=2, join=True)
    got = torch.load(out, weights_only=True)

    config, drnet_config = _lstm_config(), small_config(1)
    drnet = build_model(drnet_config).eval().to(memory_format=torch.channels_last)
    for p in drnet.parameters():
        p.requires_grad_(False)
    data = MovingMNIST(drnet_config.data.__class__(**{**drnet_config.data.to_dict(), "seq_len": config.seq_len}),
                       root=os.environ.get("DRNET_DATA"))
    bank = PoseBank.build(drnet, data, config.bank_clips, config.bank_length, seed=config.seed + 1)
    torch.manual_seed(config.seed)
    lstm = PoseLSTM.for_drnet(drnet, config).train()
    optimizer = torch.optim.Adam(lstm.parameters(), lr=config.lr, betas=(config.beta1, 0.999))
    rngs = [Distributed(rank, 2).generators(config.seed)[0] for rank in (0, 1)]
    losses = []
    for _ in range(config.steps):
        parts = [bank.windows(BATCH // 2, config.seq_len, config.observed - 1, rng) for rng in rngs]
        pose, content = torch.cat([p for p, _ in parts]), torch.cat([c for _, c in parts])
        loss = lstm_loss(teacher_forced(lstm, pose, content), pose[:, 1:])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    worst = max((got["state"][k] - v).abs().max().item() for k, v in lstm.state_dict().items())
    print(f"pose LSTM, largest weight difference after {config.steps} steps (2 processes vs 1): {worst:.2e}")
    assert worst < WEIGHT_TOLERANCE
    assert [row["mse"] for row in got["history"]] == pytest.approx(losses, abs=LOSS_TOLERANCE)


def _interrupt_worker(rank: int, port: int, out: str, results) -> None:
    """Rank 1 alone gets Ctrl-C during its third step (as when one process of a run is signalled)."""
    import signal

    os.environ.update(RANK=str(rank), WORLD_SIZE="2", LOCAL_RANK=str(rank), MASTER_ADDR="127.0.0.1",
                      MASTER_PORT=str(port))
    import drnet_lite.train as train
    from drnet_lite.runs import Interrupted

    torch.set_num_threads(1)
    real_step, calls = train.train_step, [0]

    def step_then_signal(*args, **kwargs):
        calls[0] += 1
        if rank == 1 and calls[0] == 3:
            os.kill(os.getpid(), signal.SIGINT)  # the handler only marks the request; the step finishes
        return real_step(*args, **kwargs)

    train.train_step = step_then_signal
    try:
        train.fit(small_config(50), out if rank == 0 else None, data_root=os.environ.get("DRNET_DATA"), progress=False)
        results[rank] = ("finished", calls[0])
    except Interrupted as exc:
        results[rank] = ("interrupted", calls[0], str(exc))
    torch.distributed.destroy_process_group()


def test_ctrl_c_on_one_rank_stops_every_rank_after_the_same_step(tmp_path):
    """Without the agreed stop, rank 1 would save and leave while rank 0 waits in the next step's all-reduce."""
    import torch.multiprocessing as mp

    out = tmp_path / "run"
    with mp.Manager() as manager:
        results = manager.dict()
        context = mp.start_processes(_interrupt_worker, args=(free_port(), str(out), results), nprocs=2,
                                     join=False, start_method="spawn")
        deadline = time.time() + 120
        while not context.join(timeout=1):
            if time.time() > deadline:
                for process in context.processes:
                    process.kill()
                pytest.fail("the ranks did not stop together: one waits in a collective for the other")
        got = dict(results)
    assert got[0][:2] == ("interrupted", 3) and got[1][:2] == ("interrupted", 3), got
    assert "step 3" in got[0][2], got[0][2]
    assert torch.load(out / "checkpoint.pt", weights_only=True)["step"] == 3
