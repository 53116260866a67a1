"""Why a fresh scene discriminator misses what a probe reads: discriminators trained on the same frozen pose pairs.

For one checkpoint, encodes two frames of each of ``--clips`` held-out clips (video: the test split; turntable:
fresh clips of the training toys), and trains on the first half / scores on the second half:

* ``probe``: the MLP probe pose -> scene (one vector, supervised by the scene label);
* ``probe_as_comparator``: "same" when the probe names the same scene for both vectors (what a
  discriminator that knew the probe could reach);
* ``C as evaluate``: :func:`drnet_lite.evaluate_frames.fresh_scene_discriminator` (MLP 2 x 100, 1,000 steps);
* the same with partners from another scene, on standardised pose, wider (2 x 512) and longer (5,000 steps),
  and the siamese comparator of :class:`drnet_lite.models.SceneDiscriminator` (``kind="siamese"``).

    OMP_NUM_THREADS=1 python tools/scene_blindness.py RUN/checkpoint.pt [--data CACHE]
"""
from __future__ import annotations

import argparse
import json

import torch

from drnet_lite.data import for_split, make_source
from drnet_lite.data.source import scene_labels
from drnet_lite.evaluate_frames import encode_frames, fit_probe
from drnet_lite.losses import other_scene_partner, scene_discriminator_loss, shuffled_partner
from drnet_lite.models import SceneDiscriminator
from drnet_lite.train import load_drnet


def train_C(pose, scene, split, kind="mlp", hidden=100, steps=1000, lr=1e-3, partners="clip", seed=0) -> dict:
    torch.manual_seed(seed)
    disc = SceneDiscriminator(pose.shape[-1], hidden, kind=kind)
    opt = torch.optim.Adam(disc.parameters(), lr=lr)
    train, test, s_train, s_test = pose[:split], pose[split:], scene[:split], scene[split:]
    g = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        idx = torch.randperm(len(train), generator=g)[:100]
        a, b = train[idx, 0], train[idx, 1]
        if partners == "scene":
            other = b[other_scene_partner(s_train[idx], generator=g)]
        else:
            other = shuffled_partner(b, 1 + int(torch.randint(0, len(idx) - 1, (1,), generator=g)))
        loss, _ = scene_discriminator_loss(disc(a, b), disc(a, other))
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        a, b = test[:, 0], test[:, 1]
        same = disc(a, b)
        _, roll = scene_discriminator_loss(same, disc(a, shuffled_partner(b, 1)))
        _, other = scene_discriminator_loss(same, disc(a, b[other_scene_partner(s_test, torch.Generator().manual_seed(9))]))
    return {"vs_next_clip": round(float(roll), 3), "vs_other_scene": round(float(other), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint")
    parser.add_argument("--data", default=None)
    parser.add_argument("--clips", type=int, default=1000)
    parser.add_argument("--only", nargs="*", default=None)
    args = parser.parse_args()
    model, config = load_drnet(args.checkpoint)
    split = "test" if config.data.source == "video" else "train"
    source = make_source(for_split(config.data, split), root=args.data)
    content, pose, clips = encode_frames(model, source, args.clips, seed=4242)
    scene = scene_labels(clips).cpu()
    _, label = torch.unique(scene, return_inverse=True)
    classes, half = int(label.max()) + 1, args.clips // 2
    out: dict = {"checkpoint": args.checkpoint, "clips": args.clips,
                 "chance": float(torch.bincount(label[half:], minlength=classes).max()) / (args.clips - half),
                 "same_scene_share_next_clip": float((scene[half:] == scene[half:].roll(1)).float().mean())}
    out["probe"] = fit_probe(pose[:half, 0], label[:half], pose[half:, 0], label[half:], classes, 128)
    std = pose[:half].flatten(0, 1).std(0)
    out["pose_std_per_dim"] = [round(float(v), 4) for v in std]
    # the probe as a comparator: same scene when it names the same scene for both vectors
    torch.manual_seed(0)
    mean, sd = pose[:half].flatten(0, 1).mean(0), std + 1e-6
    probe = torch.nn.Sequential(torch.nn.Linear(pose.shape[-1], 128), torch.nn.ReLU(), torch.nn.Linear(128, classes))
    opt = torch.optim.Adam(probe.parameters(), lr=1e-2, weight_decay=1e-4)
    x = (pose[:half].flatten(0, 1) - mean) / sd
    y = label[:half].repeat_interleave(2)
    for _ in range(300):
        loss = torch.nn.functional.cross_entropy(probe(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        names = probe((pose[half:] - mean) / sd).argmax(-1)  # (N, 2)
        same = names[:, 0] == names[:, 1]
        other = other_scene_partner(scene[half:], torch.Generator().manual_seed(9))
        out["probe_as_comparator_vs_next_clip"] = round(float((same.float().mean() + (names[:, 0] != names[:, 1].roll(1)).float().mean()) / 2), 3)
        out["probe_as_comparator_vs_other_scene"] = round(float((same.float().mean() + (names[:, 0] != names[other, 1]).float().mean()) / 2), 3)
    standardised = (pose - mean) / sd
    variants = {
        "C_as_evaluate": dict(),
        "C_other_scene_partners": dict(partners="scene"),
        "C_standardised_pose": dict(pose=standardised),
        "C_2x512_5000_steps": dict(hidden=512, steps=5000),
        "C_siamese": dict(kind="siamese"),
        "C_siamese_other_scene": dict(kind="siamese", partners="scene"),
    }
    for name, kw in variants.items():
        if args.only and name not in args.only:
            continue
        kw = dict(kw)
        out[name] = train_C(kw.pop("pose", pose), scene, half, **kw)
        print(name, out[name], flush=True)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
