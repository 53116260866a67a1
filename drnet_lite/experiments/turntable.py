"""The paper's NORB experiment on the turntable: probes on frozen codes, exact swap scores.

With a trained DRNet frozen, linear and small MLP probes read

* object identity and category from the content vector h_c and from the pose
  vector h_p: content should identify the object, pose should not;
* azimuth (as ``(cos a, sin a)``, the angle is circular) and elevation from
  h_p and from h_c, scored by R^2: pose should carry the viewpoint, content not.

Identity is probed on fresh clips of the toys the model was trained on (the
probe learns on one half of the clips and is scored on the other). Category is
probed across toys: the probe learns on the codes of the training toys and is
scored on the *unseen* test toys, as in small NORB's split.

Swaps have an exact target here: the content clip's object (under its own
light) at the pose clip's viewpoint, rendered. Objects fill the frame, so
whole-frame PSNR and SSIM mean something (unlike on black Moving MNIST
frames). A small classifier trained on renders then reads which object a
swapped frame shows.
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F
from torch import nn

from ..assets import STUDY_FOLDER, read_study_csv
from ..data.source import for_split, make_source
from ..data.turntable import Turntable, TurntableConfig
from ..evaluate_frames import fit_probe
from ..metrics import psnr, ssim
from ..models import DRNet, DRNetConfig
from ..train import TrainConfig

if TYPE_CHECKING:
    import numpy as np

TEST_SEED = 14_000


def turntable_lite() -> TrainConfig:
    """A DRNet that learns the turntable on a 2-core CPU in minutes.

    32x32 grey frames of 15 training toys (5 categories, 3 each; 15 more are
    held out), 18 azimuths (every 20 degrees, as in small NORB) and 2
    elevations; each clip turns 20 degrees a frame. (A small grid, so that
    tracing every viewpoint once takes minutes on a loaded 2-core CPU.) Width 16, batch 32, content 64, pose 10, normalised content,
    alpha 0.01 and beta 0.1 (the balance that worked for mnist-lite), content
    and pose frames up to 8 frames (160 degrees) apart. 3,000 steps: about
    130 CPU seconds on one core (assets/README.md); after 500 the swaps were still
    below the content frame as a guess, after 3,000 they beat it on seen toys.
    """
    data = TurntableConfig(image_size=32, channels="grey", seq_len=18, instances=6, azimuth_steps=18, speed=(1, 1),
                           elevations=(10.0, 35.0))
    model = DRNetConfig(image_size=32, channels=1, content_dim=64, pose_dim=10, width=16, normalize_content=True)
    return TrainConfig(model=model, data=data, steps=3000, batch_size=32, lr=2e-3, beta1=0.5,
                       similarity_weight=0.01, adversarial_weight=0.1, max_step=8,
                       log_every=25, image_every=250, checkpoint_every=250)


def norb() -> TrainConfig:
    """The paper-sized setting for real small NORB on a GPU (64x64 grey, width 64, batch 100, pose 10)."""
    from ..data.norb import NORBConfig

    data = NORBConfig(image_size=64, seq_len=18)
    model = DRNetConfig(image_size=64, channels=1, content_dim=128, pose_dim=10, width=64, normalize_content=True)
    return TrainConfig(model=model, data=data, steps=50_000, batch_size=100, lr=2e-3, beta1=0.5,
                       similarity_weight=0.01, adversarial_weight=0.1, max_step=8,
                       log_every=50, image_every=1000, checkpoint_every=1000)


PRESETS = {"turntable-lite": turntable_lite, "norb": norb}


# ----------------------------------------------------------------------------------------------------------------------
# codes and probes
# ----------------------------------------------------------------------------------------------------------------------

@torch.no_grad()
def encode(model: DRNet, source: Turntable, count: int, seed: int, batch: int = 256) -> dict[str, torch.Tensor]:
    """Content and pose codes of one random frame of ``count`` fresh clips, with the frame's ground truth."""
    model.eval()
    g = torch.Generator().manual_seed(seed)
    times = torch.randint(source.seq_len, (count, 1), generator=g)
    clips = source.sample(count, generator=g, times=times)
    frames = clips.frames[:, 0]
    content = torch.cat([model.encode_content(frames[i:i + batch])[0] for i in range(0, count, batch)])
    pose = torch.cat([model.encode_pose(frames[i:i + batch]) for i in range(0, count, batch)])
    az = torch.deg2rad(clips.azimuth[:, 0])
    return {"content": content.cpu(), "pose": pose.cpu(), "object": clips.object_id.cpu(),
            "category": clips.category.cpu(), "azimuth": torch.stack([az.cos(), az.sin()], 1).cpu(),
            "elevation": clips.elevation[:, :1].cpu()}


def probe_table(model: DRNet, data: TurntableConfig, count: int = 1500, root: Any = None,
                epochs: int = 300) -> dict[str, float]:
    """Every probe of the table: ``{code}_{target}_{probe}`` for code in content/pose, probe in linear/mlp.

    Targets: ``identity`` and ``category`` (accuracy), ``azimuth`` and ``elevation`` (R^2).
    Also ``chance_identity`` and ``chance_category`` (the majority class of the scored half).
    """
    seen = make_source(for_split(data, "train"), root=root)
    unseen = make_source(for_split(data, "test"), root=root)
    a = encode(model, seen, count, TEST_SEED)
    b = encode(model, unseen, count, TEST_SEED + 1)
    return probe_codes(a, b, seen.objects, data.categories, epochs)


def probe_codes(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor], objects: torch.Tensor, categories: int,
                epochs: int = 300) -> dict[str, float]:
    """The probes of :func:`probe_table` on codes from :func:`encode`: ``a`` of the seen toys ``objects``
    (identity, azimuth and elevation: fit on its first half, scored on the second; category: fit on all of
    ``a``), ``b`` of the unseen toys (category scored there)."""
    count = len(a["object"])
    half = count // 2
    ids = {int(o): i for i, o in enumerate(objects)}
    label = torch.tensor([ids[int(o)] for o in a["object"]])
    out: dict[str, float] = {
        "chance_identity": float(torch.bincount(label[half:]).max()) / (count - half),
        "chance_category": float(torch.bincount(b["category"]).max()) / len(b["category"]),
    }
    for code in ("content", "pose"):
        for probe, hidden in (("linear", None), ("mlp", 128)):
            x = a[code]
            out[f"{code}_identity_{probe}"] = fit_probe(x[:half], label[:half], x[half:], label[half:],
                                                         len(ids), hidden, epochs)
            out[f"{code}_category_{probe}"] = fit_probe(x, a["category"], b[code], b["category"],
                                                         categories, hidden, epochs)
            for target in ("azimuth", "elevation"):
                y = a[target]
                out[f"{code}_{target}_{probe}"] = fit_probe(x[:half], y[:half], x[half:], y[half:], None, hidden, epochs)
    return out


def azimuth_given_toy(pose: torch.Tensor, toy: torch.Tensor, azimuth: torch.Tensor, epochs: int = 300) -> dict[str, float]:
    """How much of the viewpoint pose holds once the toy is known: azimuth ``(cos, sin)`` R^2 of an MLP probe
    on ``[pose, one-hot toy]`` (``pose_and_toy``) against one on the one-hot toy alone (``toy_alone``, about 0).
    ``toy`` holds class indices; fit on the first half of the rows, scored on the second.

    The table's ``pose_azimuth`` probe asks for one azimuth code shared by every toy. An unsupervised pose
    need not be aligned across toys (nothing tells the model where a teapot's front is, against a car's), so
    a pose can hold each toy's viewpoint in its own frame and still score near 0 there; given the toy, this
    probe can read it.
    """
    onehot = torch.nn.functional.one_hot(toy, int(toy.max()) + 1).float()
    half = len(toy) // 2
    out = {}
    for name, x in (("pose_and_toy", torch.cat([pose, onehot], 1)), ("toy_alone", onehot)):
        out[f"{name}_azimuth_mlp"] = fit_probe(x[:half], azimuth[:half], x[half:], azimuth[half:], None, 128, epochs)
    return out


def viewpoint_given_toy(model: DRNet, data: TurntableConfig, count: int = 1500, root: Any = None,
                        epochs: int = 300) -> dict[str, float]:
    """:func:`azimuth_given_toy` on one frame of ``count`` fresh clips of the seen toys."""
    source = make_source(for_split(data, "train"), root=root)
    codes = encode(model, source, count, seed=TEST_SEED + 5)
    ids = {int(o): i for i, o in enumerate(source.objects)}
    toy = torch.tensor([ids[int(o)] for o in codes["object"]])
    return azimuth_given_toy(codes["pose"], toy, codes["azimuth"], epochs)


# ----------------------------------------------------------------------------------------------------------------------
# swaps against the exact target, and a classifier that reads them
# ----------------------------------------------------------------------------------------------------------------------

class ObjectClassifier(nn.Module):
    """A small CNN that names the object of a frame (trained on renders of the toys at random views)."""

    def __init__(self, channels: int, size: int, classes: int, width: int = 32) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c = channels
        for _ in range(3):
            layers += [nn.Conv2d(c, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(inplace=True), nn.MaxPool2d(2)]
            c = width
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(width * (size // 8) ** 2, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).flatten(1))


def train_object_classifier(source: Turntable, steps: int = 400, batch: int = 64, seed: int = 0) -> ObjectClassifier:
    """Fit :class:`ObjectClassifier` on random single frames of ``source`` (classes = its objects, in order)."""
    torch.manual_seed(seed)
    ids = {int(o): i for i, o in enumerate(source.objects)}
    lookup = torch.full((int(source.objects.max()) + 1,), -1, dtype=torch.long)
    lookup[source.objects] = torch.arange(len(source.objects))
    net = ObjectClassifier(source.channels, source.image_size, len(ids))
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    g = torch.Generator().manual_seed(seed + 1)
    net.train()
    for _ in range(steps):
        clips = source.sample(batch, generator=g, times=torch.randint(source.seq_len, (batch, 1), generator=g))
        loss = F.cross_entropy(net(clips.frames[:, 0]), lookup[clips.object_id.cpu()])
        opt.zero_grad()
        loss.backward()
        opt.step()
    net.lookup = lookup  # type: ignore[attr-defined]
    return net.eval()


@torch.no_grad()
def swap_scores(model: DRNet, source: Turntable, pairs: int = 256, seed: int = TEST_SEED + 2,
                classifier: ObjectClassifier | None = None) -> dict[str, float]:
    """Swap ``D(E_c(x_A), E_p(x_B))`` of random frames of two clips, against the exact target (A at B's view).

    Besides the swap: the same scores for two references, the pose frame itself
    (right view, wrong object) and the content frame (right object, wrong view),
    and the classifier's accuracy on the exact targets (its ceiling) and on the swaps.
    """
    model.eval()
    g = torch.Generator().manual_seed(seed)
    times = torch.randint(source.seq_len, (pairs, 1), generator=g)
    content = source.sample(pairs, generator=g, times=times)
    pose = source.sample(pairs, generator=g, times=torch.randint(source.seq_len, (pairs, 1), generator=g))
    target = source.swap_target(content, pose)[:, 0]
    xc, xp = content.frames[:, 0], pose.frames[:, 0]
    h_c, skips = model.encode_content(xc)
    swapped = model.decode(h_c, model.encode_pose(xp), skips).clamp(0, 1)
    recon = model.decode(h_c, model.encode_pose(target), skips).clamp(0, 1)
    out = {"pairs": pairs}
    for name, frames in (("swap", swapped), ("pose_frame", xp), ("content_frame", xc), ("reconstruction", recon)):
        out[f"{name}_psnr"] = float(psnr(frames, target).clamp(max=100).mean())
        out[f"{name}_ssim"] = float(ssim(frames, target).mean())
    if classifier is not None:
        want = classifier.lookup[content.object_id.cpu()]
        out["classifier_on_targets"] = float((classifier(target).argmax(1) == want).float().mean())
        out["classifier_on_swaps"] = float((classifier(swapped).argmax(1) == want).float().mean())
        out["classifier_on_pose_frames"] = float((classifier(xp).argmax(1) == want).float().mean())
        out["classifier_chance"] = 1.0 / len(source.objects)
    return out


def evaluate_turntable(model: DRNet, config: TrainConfig, root: Any = None, probe_count: int = 1500,
                       pairs: int = 256, classifier_steps: int = 400, quick: bool = False,
                       classifiers: dict[str, ObjectClassifier] | None = None) -> dict[str, Any]:
    """The whole table for one trained model: probes, swap scores on seen and unseen toys.

    ``classifiers`` (by split) are trained here when not given, and stored into it when it is a dict,
    so runs on the same data can share them.
    """
    if quick:
        probe_count, pairs, classifier_steps = 200, 32, 20
    data = config.data
    results: dict[str, Any] = {"probes": probe_table(model, data, count=probe_count, root=root,
                                                     epochs=60 if quick else 300)}
    for split in ("train", "test"):
        source = make_source(for_split(data, split), root=root)
        if classifiers is not None and split in classifiers:
            classifier = classifiers[split]
        else:
            classifier = train_object_classifier(source, steps=classifier_steps)
            if classifiers is not None:
                classifiers[split] = classifier
        results[f"swaps_{split}_toys"] = swap_scores(model, source, pairs=pairs, classifier=classifier)
    results["config"] = {"pose_dim": config.model.pose_dim, "adversarial_weight": config.adversarial_weight,
                         "similarity_weight": config.similarity_weight, "steps": config.steps}
    return results


def format_table(results: dict[str, Any]) -> str:
    """The probe table as text (rows: what is read; columns: from content / from pose, linear / MLP)."""
    p = results["probes"]
    lines = [f"{'':24s}{'content lin':>12s}{'content MLP':>12s}{'pose lin':>10s}{'pose MLP':>10s}"]
    for target, label in (("identity", "object identity (acc)"), ("category", "category, unseen (acc)"),
                          ("azimuth", "azimuth (R^2)"), ("elevation", "elevation (R^2)")):
        cells = [p[f"{code}_{target}_{probe}"] for code in ("content", "pose") for probe in ("linear", "mlp")]
        lines.append(f"{label:24s}{cells[0]:12.3f}{cells[1]:12.3f}{cells[2]:10.3f}{cells[3]:10.3f}")
    lines.append(f"chance: identity {p['chance_identity']:.3f}, category {p['chance_category']:.3f}")
    for split in ("train", "test"):
        s = results.get(f"swaps_{split}_toys")
        if s:
            lines.append(f"swaps, {'seen' if split == 'train' else 'unseen'} toys: PSNR {s['swap_psnr']:.2f} dB, "
                         f"SSIM {s['swap_ssim']:.3f} (pose frame as a guess: {s['pose_frame_psnr']:.2f} dB / "
                         f"{s['pose_frame_ssim']:.3f}; content frame: {s['content_frame_psnr']:.2f} / "
                         f"{s['content_frame_ssim']:.3f}); classifier reads the content object on "
                         f"{100 * s.get('classifier_on_swaps', float('nan')):.0f}% of swaps "
                         f"({100 * s.get('classifier_on_targets', float('nan')):.0f}% of exact targets, "
                         f"chance {100 * s.get('classifier_chance', float('nan')):.0f}%)")
    return "\n".join(lines)


@torch.no_grad()
def swap_frames(model: DRNet, source: Turntable, content_object: int, azimuth_index: int, pose_object: int = 0,
                elevation_index: int = 0, light: tuple[float, float] = (30.0, 30.0),
                content_azimuth_index: int = 0) -> torch.Tensor:
    """The four frames of one swap (4, C, S, S): the content frame (toy ``content_object`` of the source's
    objects, at ``content_azimuth_index``), the pose frame (toy ``pose_object`` at ``azimuth_index``),
    the swap ``D(E_c(content), E_p(pose))``, and the exact target (the content toy at the pose frame's view)."""
    n = len(source.objects)
    if not (0 <= content_object < n and 0 <= pose_object < n):
        raise ValueError(f"objects are numbered 0..{n - 1} in this source, got {content_object} and {pose_object}")
    obj = source.objects[torch.tensor([content_object, pose_object, content_object])]
    az = torch.tensor([content_azimuth_index, azimuth_index, azimuth_index]) % source.config.azimuth_steps
    el = torch.full((3,), int(elevation_index))
    frames = source.frames(obj, az, el, torch.tensor([light] * 3))
    model.eval()
    h_c, skips = model.encode_content(frames[:1])
    swapped = model.decode(h_c, model.encode_pose(frames[1:2]), skips).clamp(0, 1)
    return torch.cat([frames[:2], swapped, frames[2:]])


def swap_panel(model: DRNet, source: Turntable, content_object: int, azimuth_index: int, **kwargs) -> "np.ndarray":
    """:func:`swap_frames` as one picture (content | pose | swap | exact target), for the sliders of notebook 10."""
    from ..viz import frame_grid

    return frame_grid(swap_frames(model, source, content_object, azimuth_index, **kwargs)[None].cpu())


# ----------------------------------------------------------------------------- the scene-discriminator study's trade-off

#: The study's measured rows (one trained run each; see assets/README.md, "The scene discriminator"):
#: the repository's copy, next to the package.
STUDY_ROWS = STUDY_FOLDER / "scene_tradeoff_turntable.csv"
#: The leak target of the study: pose -> toy at most twice chance (chance 7.6%, 15 toys of the split).
LEAK_TARGET = 2 * 0.076
#: Unseen-toy swaps must beat showing the content frame itself (SSIM against the exact target).
CONTENT_FRAME_SSIM = 0.445


def read_study_rows(path: str | os.PathLike | None = None) -> list[dict[str, Any]]:
    """The study's rows (``run``, ``pose_dim``, ``adversary``, ``seed``, ``steps`` and the measured
    ``pose_to_toy_mlp``, ``pose_to_azimuth_r2``, ``unseen_swap_ssim``, ``ceiling_ssim``, ``fresh_C``; numbers as
    floats, ``None`` where a run was not measured)."""
    numbers = ("pose_dim", "seed", "steps", "pose_to_toy_mlp", "pose_to_azimuth_r2", "unseen_swap_ssim", "ceiling_ssim", "fresh_C")
    return read_study_csv(STUDY_ROWS if path is None else path, numbers)


def _family(row: dict[str, Any]) -> tuple[str, str]:
    """(legend label, colour) of a row: pose_dim 2, no adversary, the paper's C, or another C."""
    if row["pose_dim"] == 2:
        return "pose_dim 2 (bottleneck)", "tab:green"
    if row["adversary"] == "none":
        return "pose_dim 10, no adversary", "tab:grey"
    if row["adversary"] == "paper's C":
        return "pose_dim 10, the paper's C (beta 0.1)", "tab:blue"
    if "pose noise" in row["adversary"]:
        return "pose_dim 10, the paper's C, noise on pose", "tab:purple"
    if row["adversary"] == "none (untrained)":
        return "untrained (no step taken)", "black"
    if "L_dep" in row["adversary"] and "L_swap" not in row["adversary"]:
        return "pose_dim 10, + L_dep (nothing to train)", "tab:red"
    if any(term in row["adversary"] for term in ("L_swap", "L_kernel", "scene classifier")):
        return "pose_dim 10, + L_swap, L_kernel or a scene classifier", "tab:brown"
    return "pose_dim 10, another C or beta", "tab:orange"


def tradeoff_figure(rows: list[dict[str, Any]]):
    """Two panels over the runs' pose -> toy leak (x): the viewpoint kept in pose (azimuth R^2) and the
    unseen-toy swaps (SSIM against the exact target). The targets are drawn: leak at most
    :data:`LEAK_TARGET`, swaps above :data:`CONTENT_FRAME_SSIM`; the corner where both hold is shaded."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, key, label in ((axes[0], "pose_to_azimuth_r2", "pose -> azimuth $R^2$ (viewpoint kept in pose)"),
                           (axes[1], "unseen_swap_ssim", "swap SSIM on unseen toys (exact target)")):
        seen = set()
        for row in rows:
            if row[key] is None or (ax is axes[1] and row["steps"] == 0):  # an untrained decoder draws no toy
                continue
            name, colour = _family(row)
            ax.scatter(row["pose_to_toy_mlp"], row[key], color=colour, s=36,
                       label=None if name in seen or ax is axes[1] else name)
            seen.add(name)
        ax.axvline(LEAK_TARGET, color="black", ls=":", lw=1)
        ax.set_xlabel("pose -> toy, MLP probe (the leak; chance 7.6%)")
        ax.set_ylabel(label)
        ax.set_xlim(0, 0.85)
    swaps = [row["unseen_swap_ssim"] for row in rows if row["unseen_swap_ssim"] is not None and row["steps"]]
    low, high = min(swaps + [CONTENT_FRAME_SSIM]) - 0.01, max(swaps + [CONTENT_FRAME_SSIM]) + 0.02
    axes[1].set_ylim(low, high)
    axes[1].axhline(CONTENT_FRAME_SSIM, color="black", ls="--", lw=1, label="showing the content frame")
    axes[1].fill_between([0, LEAK_TARGET], CONTENT_FRAME_SSIM, high, color="tab:green", alpha=0.15,
                         label="the targets (leak <= 2x chance, swaps above)")
    axes[0].legend(fontsize=7, loc="upper left")
    axes[1].legend(fontsize=7, loc="upper right")
    axes[0].set_title("less leak, less viewpoint")
    axes[1].set_title("no run reaches the targets' corner: unseen swaps stay below")
    fig.tight_layout()
    return fig
