"""The notebook 08 checker accepts right answers and names the usual wrong ones."""
import torch

from drnet_lite.data.video import tile_and_resize
from drnet_lite.exercises import check_tiles, reference_tiles
from drnet_lite.exercises.nb08 import _column_major, _no_permute


def good(frames, rows, cols):
    n, c, h, w = frames.shape
    th, tw = h // rows, w // cols
    blocks = [frames[:, :, r * th:(r + 1) * th, k * tw:(k + 1) * tw] for r in range(rows) for k in range(cols)]
    return torch.stack(blocks, dim=1)


def no_crop(frames, rows, cols):
    n, c, h, w = frames.shape
    return frames.reshape(n, c, rows, h // rows, cols, -1).permute(0, 2, 4, 1, 3, 5).reshape(n, rows * cols, c, h // rows, -1)


def test_reference_matches_the_video_module():
    frames = torch.randint(0, 256, (2, 1, 12, 18)).float()
    assert torch.equal(reference_tiles(frames, 2, 3), tile_and_resize(frames, (2, 3), 6, "squash").float())


def test_right_answers_pass(capsys):
    assert check_tiles(good) and check_tiles(reference_tiles)
    assert "Correct!" in capsys.readouterr().out


def test_wrong_answers_fail_with_the_reason(capsys):
    for wrong, words in ((_column_major, "column-major"), (_no_permute, "plain reshape"), (no_crop, "remainder"),
                         (lambda f, r, c: good(f, r, c).flip(1), "differs"), (lambda f, r, c: 3, "return a tensor"),
                         (lambda f, r, c: 1 / 0, "ZeroDivisionError"), ("my_tiles", "function")):
        assert not check_tiles(wrong)
        assert words in capsys.readouterr().out, words


def test_the_stub_is_explained(capsys):
    def my_tiles(frames, rows, cols):
        raise NotImplementedError("write my_tiles here")

    assert not check_tiles(my_tiles)
    assert "still raises NotImplementedError" in capsys.readouterr().out
