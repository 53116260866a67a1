import torch

from drnet_lite.exercises import (check_azimuth_features, check_swap_target, reference_azimuth_features,
                                  reference_swap_target)


def test_azimuth_features_accepts_the_reference(capsys):
    assert check_azimuth_features(reference_azimuth_features) is True
    assert "Correct!" in capsys.readouterr().out


def test_azimuth_features_rejects_common_mistakes(capsys):
    assert check_azimuth_features(lambda a: a[:, None].repeat(1, 2)) is False
    assert "0 and 360" in capsys.readouterr().out
    assert check_azimuth_features(lambda a: torch.stack([a.cos(), a.sin()], 1)) is False
    assert "radians" in capsys.readouterr().out
    assert check_azimuth_features(lambda a: reference_azimuth_features(a)[:, [1, 0]]) is False
    assert "(sin, cos)" in capsys.readouterr().out
    assert check_azimuth_features(lambda a: a / 360) is False
    assert check_azimuth_features(lambda a: 1 / 0) is False
    assert "ZeroDivisionError" in capsys.readouterr().out
    assert check_azimuth_features(3) is False


def test_swap_target_accepts_the_reference_and_names_mistakes(capsys):
    assert check_swap_target(reference_swap_target) is True
    assert "Correct!" in capsys.readouterr().out
    assert check_swap_target(lambda s, c, p: p.frames) is False
    assert "pose clip's own frames" in capsys.readouterr().out
    assert check_swap_target(lambda s, c, p: s.swap_target(p, c)) is False
    assert check_swap_target(lambda s, c, p: s.frames(c.object_id[:, None].expand_as(p.azimuth_index),
                                                      p.azimuth_index, p.elevation_index,
                                                      p.light[:, None, :].expand(*p.azimuth_index.shape, 2))) is False
    assert "light" in capsys.readouterr().out
    assert check_swap_target(lambda s, c, p: c.frames[:, :1]) is False
    assert "shape" in capsys.readouterr().out


def test_stubs_are_explained(capsys):
    def stub(*args):
        raise NotImplementedError("write it here")

    assert not check_azimuth_features(stub)
    assert "still raises NotImplementedError" in capsys.readouterr().out
    assert not check_swap_target(stub)
    assert "still raises NotImplementedError" in capsys.readouterr().out
