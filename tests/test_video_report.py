"""Notebook 08's reading of its numbers (drnet_lite.experiments.video_report): each verdict follows the numbers."""
from drnet_lite.experiments.video_report import read_prediction, read_probes, read_reconstruction


def scores(rec, copy, median, whole=27.0, whole_copy=31.0):
    return {"reconstruction_moved_psnr": rec, "content_frame_baseline_moved_psnr": copy,
            "scene_median_baseline_moved_psnr": median, "moved_pixel_share": 0.05, "reconstruction_psnr": whole,
            "content_frame_baseline_psnr": whole_copy, "same_frame_reconstruction_psnr": 29.0}


def test_pose_draws_people_only_when_the_reconstruction_beats_both_baselines():
    text = "\n".join(read_reconstruction(scores(12.0, 9.0, 14.7)))  # the lab run the issue measured
    assert "beats copying by 3.0 dB but not the guess with no people at all (-2.7 dB)" in text
    assert "do not show that the pose draws them" in text and "blurrier" in text
    text = "\n".join(read_reconstruction(scores(16.0, 9.0, 14.7, whole=32.0)))
    assert "the people-free median by 1.3 dB" in text and "blurrier" not in text
    assert "no sign that the pose draws" in "\n".join(read_reconstruction(scores(9.0, 9.0, 14.7)))
    no_median = scores(12.0, 9.0, 0.0)
    del no_median["scene_median_baseline_moved_psnr"]
    assert "no people-free baseline" in "\n".join(read_reconstruction(no_median))


def test_probes_say_whether_pose_identifies_the_scene():
    probes = {"scene_classes": 12, "scene_probe_chance": 0.116, "content_to_scene_linear": 1.0,
              "content_to_scene_mlp": 1.0, "pose_to_scene_linear": 0.51, "pose_to_scene_mlp": 0.964,
              "fresh_scene_discriminator_accuracy": 0.61}
    text = "\n".join(read_probes(probes))
    assert "from pose 96.4%" in text and "still identifies the scene" in text and "has not cleaned" in text
    clean = dict(probes, pose_to_scene_linear=0.12, pose_to_scene_mlp=0.13, fresh_scene_discriminator_accuracy=0.52)
    text = "\n".join(read_probes(clean))
    assert "does not identify the scene" in text and "has not cleaned" not in text


def test_prediction_reading_follows_the_curves():
    same = {"lstm": {"psnr": [29.3, 28.2]}, "oracle": {"psnr": [29.3, 28.2]}, "copy_last": {"psnr": [39.6, 33.5]}}
    text = "\n".join(read_prediction(same))
    assert "equals the oracle" in text and "Copying the last frame beats the LSTM at every step (10.3 at t+1" in text
    better = {"lstm": {"psnr": [30.0, 29.0, 28.0]}, "oracle": {"psnr": [31.0, 30.5, 30.0]},
              "copy_last": {"psnr": [33.0, 28.0, 27.0]}}
    text = "\n".join(read_prediction(better))
    assert "2.00 below the oracle at its worst step (t+3)" in text and "at 2 of 3 steps, first at t+2" in text


def test_the_pose_effect_says_whether_the_decoder_follows_the_pose():
    ignored = "\n".join(read_reconstruction({**scores(11.6, 8.8, 15.1), "pose_effect": 1e-5}))
    assert "by 0.0% of what truly changed" in ignored and "ignores the pose" in ignored
    follows = "\n".join(read_reconstruction({**scores(15.2, 8.8, 15.1), "pose_effect": 0.736}))
    assert "by 73.6% of what truly changed" in follows and "follows the pose" in follows
    assert "pose_effect" not in "\n".join(read_reconstruction(scores(12.0, 9.0, 14.7)))  # older score dicts
