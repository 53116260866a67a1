"""A full disk during a save: "no space left on device" with the path, the old file kept, no temporary file."""
from __future__ import annotations

import errno
import io

import pytest
import torch

from drnet_lite import atomic
from drnet_lite.checkpoint import load_checkpoint, save_checkpoint


class FullDisk(io.RawIOBase):
    """A file that takes ``room`` bytes, then fails as a full disk does."""

    def __init__(self, path: str, room: int) -> None:
        self.real = io.FileIO(path, "wb")
        self.room = room

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        data = bytes(data)
        if len(data) > self.room:
            self.real.write(data[: self.room])
            self.room = 0
            raise OSError(errno.ENOSPC, "No space left on device")
        self.room -= len(data)
        return self.real.write(data)

    def fileno(self) -> int:
        return self.real.fileno()

    def close(self) -> None:
        self.real.close()
        super().close()


def fill_disk(monkeypatch) -> None:
    """From now on atomic_write's files hold 2,000 bytes at most."""
    monkeypatch.setattr(atomic, "open", lambda path, mode="r": io.BufferedWriter(FullDisk(path, 2000)), raising=False)


@pytest.fixture
def full_disk(monkeypatch):
    fill_disk(monkeypatch)


def payload(value: float) -> dict:
    return {"kind": "test", "state": {"w": torch.full((5000,), value)}, "step": int(value)}


def test_a_full_disk_keeps_the_old_checkpoint_and_says_so(tmp_path, monkeypatch):
    path = tmp_path / "checkpoint.pt"
    save_checkpoint(payload(1.0), path)
    fill_disk(monkeypatch)
    with pytest.raises(OSError, match=f"no space left on device while writing {path}: the earlier checkpoint.pt "
                                      "is kept unchanged and the temporary file was removed") as caught:
        save_checkpoint(payload(2.0), path)
    assert caught.value.errno == errno.ENOSPC and caught.value.filename == str(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.pt"]  # no temporary file left
    monkeypatch.undo()
    assert load_checkpoint(path)["step"] == 1


def test_a_full_disk_on_a_first_save_writes_nothing(tmp_path, full_disk):
    with pytest.raises(OSError, match="no space left on device while writing .*new.pt: no new.pt was written"):
        save_checkpoint(payload(3.0), tmp_path / "new.pt")
    assert list(tmp_path.iterdir()) == []


def test_torch_save_streaming_into_a_full_disk_would_raise_its_opaque_error(tmp_path):
    """Why checkpoints are serialised in memory first: torch.save into such a file swallows the OSError."""
    handle = io.BufferedWriter(FullDisk(str(tmp_path / "x.pt"), 2000))
    with pytest.raises(RuntimeError, match="unexpected pos"):
        torch.save(payload(4.0), handle)


def test_other_writes_say_the_same(tmp_path, full_disk):
    with pytest.raises(OSError, match="no space left on device while writing .*metrics.json"):
        atomic.write_json({"values": list(range(2000))}, tmp_path / "metrics.json")
    assert list(tmp_path.iterdir()) == []
