"""A miniature KTH in the real layout and formats, for tests, CI and a notebook without the data.

``write_miniature_kth(folder)`` writes what the KTH site serves, only smaller:

* ``<action>.zip`` for each action: a flat folder of
  ``personXX_<action>_dN_uncomp.avi``, grey 160x120 video at 25 fps in an AVI
  container with MPEG-4 Part 2 video (FourCC ``DX50``, as the originals);
* ``00sequences.txt`` in the real syntax, with every quirk of the real file:
  the three header lines, tabs and spaces, 1-based inclusive ranges, the
  ``*missing*`` entry of ``person13_handclapping_d3``, an overlap
  (``1-30, 30-60``), videos with 3 ranges, a range that runs past the decoded
  length (clamped) and one that starts past it (dropped).

The frames are synthetic: a textured background per scenario, a figure whose
brightness and size depend on the person, and a motion per action (walking,
jogging and running cross the frame at 1, 2 and 3 pixels per frame; boxing
moves one arm forward and back, handclapping both arms together, handwaving
both arms up and down). So content (who, where) and pose (what the body does
now) are separable, and the action can be told from motion alone.
"""
from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from .kth import ACTIONS, MISSING_VIDEO, SEQUENCE_FILE, VideoKey

WIDTH, HEIGHT, FPS = 160, 120, 25


def _background(scenario: int) -> np.ndarray:
    """A smooth textured background (H, W) float in [0, 255], different for each scenario."""
    rng = np.random.default_rng(100 + scenario)
    coarse = rng.uniform(60, 170, size=(HEIGHT // 20 + 1, WIDTH // 20 + 1))
    rows = np.linspace(0, coarse.shape[0] - 1, HEIGHT)
    cols = np.linspace(0, coarse.shape[1] - 1, WIDTH)
    r0, c0 = np.floor(rows).astype(int), np.floor(cols).astype(int)
    r1, c1 = np.minimum(r0 + 1, coarse.shape[0] - 1), np.minimum(c0 + 1, coarse.shape[1] - 1)
    fr, fc = (rows - r0)[:, None], (cols - c0)[None, :]
    top = coarse[r0][:, c0] * (1 - fc) + coarse[r0][:, c1] * fc
    bottom = coarse[r1][:, c0] * (1 - fc) + coarse[r1][:, c1] * fc
    image = top * (1 - fr) + bottom * fr
    image[HEIGHT * 3 // 4:] *= 0.7  # a darker ground
    return image


def render_video(key: VideoKey, frames: int) -> np.ndarray:
    """The frames (T, 120, 160) uint8 of one miniature video (see the module docstring)."""
    t = np.arange(frames)
    image = np.repeat(_background(key.scenario)[None], frames, axis=0)
    shade = 20 + 9 * (key.person % 5)  # the person's "clothes"
    height = 44 + 2 * (key.person % 4)
    width = 12
    action = key.action
    speed = {"walking": 1, "jogging": 2, "running": 3}.get(action, 0)
    span = WIDTH - width - 20
    if speed:
        travel = (10 + speed * t + 7 * key.person) % (2 * span)
        x = np.where(travel < span, travel, 2 * span - travel) + 10
    else:
        x = np.full(frames, WIDTH // 2 - width // 2 + (key.person % 3 - 1) * 20)
    top = HEIGHT * 3 // 4 - height
    phase = 2 * np.pi * t / 12
    for i in range(frames):
        x0 = int(x[i])
        image[i, top:top + height, x0:x0 + width] = shade
        image[i, top - 10:top, x0 + 2:x0 + width - 2] = shade + 30  # head
        arm_y = top + 8
        if action == "boxing":
            reach = int(6 + 10 * (0.5 + 0.5 * np.sin(phase[i])))
            image[i, arm_y:arm_y + 4, x0 + width:x0 + width + reach] = shade
        elif action == "handclapping":
            gap = int(2 + 8 * (0.5 + 0.5 * np.sin(phase[i])))
            image[i, arm_y:arm_y + 4, x0 - gap - 6:x0 - gap] = shade
            image[i, arm_y:arm_y + 4, x0 + width + gap:x0 + width + gap + 6] = shade
        elif action == "handwaving":
            lift = int(12 * (0.5 + 0.5 * np.sin(phase[i])))
            image[i, arm_y - lift:arm_y - lift + 10, x0 - 4:x0] = shade
            image[i, arm_y - lift:arm_y - lift + 10, x0 + width:x0 + width + 4] = shade
        else:  # legs swing while moving
            stride = int(4 * np.sin(phase[i] * speed))
            image[i, top + height:top + height + 6, x0 + 2 + stride:x0 + 5 + stride] = shade
            image[i, top + height:top + height + 6, x0 + width - 5 - stride:x0 + width - 2 - stride] = shade
    return np.clip(image, 0, 255).astype(np.uint8)


def write_avi(path: str | Path, frames: np.ndarray, fps: int = FPS) -> Path:
    """Write grey frames (T, H, W) uint8 as an AVI with MPEG-4 Part 2 video (FourCC DX50), with PyAV."""
    import av

    path = Path(path)
    with av.open(str(path), "w", format="avi") as container:
        stream = container.add_stream("mpeg4", rate=fps)
        stream.width, stream.height = frames.shape[2], frames.shape[1]
        stream.pix_fmt = "yuv420p"
        stream.codec_context.codec_tag = "DX50"
        stream.codec_context.bit_rate = 400_000
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="gray")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


@dataclass
class MiniatureKTH:
    """What :func:`write_miniature_kth` wrote.

    Attributes:
        folder: holds ``<action>.zip`` and ``00sequences.txt``.
        videos: every video written, with its number of frames.
        listed_only: videos in the sequence file but left out of their archive.
        sequence_text: the text of ``00sequences.txt``.
    """

    folder: Path
    videos: dict[str, int]
    listed_only: list[str]
    sequence_text: str


def _ranges(key: VideoKey, frames: int, quirk: str) -> str:
    """The ranges written for a video; ``quirk`` picks which real-file oddity it shows."""
    q = frames // 4
    if quirk == "past_end":  # like person01_boxing_d4: declared longer than what decodes
        return f"1-{q}, {q + 1}-{2 * q}, {2 * q + 1}-{3 * q}, {3 * q + 1}-{frames + 25}"
    if quirk == "beyond_end":  # the last range starts after the last decoded frame: dropped
        return f"1-{2 * q}, {2 * q + 1}-{frames}, {frames + 5}-{frames + 40}"
    if quirk == "overlap":
        return f"1-{2 * q}, {2 * q}-{frames}"
    if quirk == "three":
        return f"1-{q + 3}, {q + 4}-{2 * q + 6}, {2 * q + 7}-{frames}"
    return f"1-{q}, {q + 1}-{2 * q}, {2 * q + 1}-{3 * q}, {3 * q + 1}-{frames}"


def write_miniature_kth(folder: str | Path, persons: Sequence[int] = (1, 2, 17, 18), actions: Iterable[str] = ACTIONS,
                        scenarios: Sequence[int] = (1,), frames: int = 48, omit: Sequence[str] = ()) -> MiniatureKTH:
    """Write a miniature KTH (archives and sequence file) into ``folder``.

    Args:
        persons, actions, scenarios: which videos exist.
        frames: frames per video (the real ones have a few hundred).
        omit: video names (``person02_running_d1``) listed in the sequence
            file but left out of their archive (a missing video).

    The quirks land on fixed videos: the first video of the first person
    (ranges past the end), the first boxing video of the second person
    (a range wholly past the end), walking videos (an overlap) and
    handwaving videos (3 ranges).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    actions = list(actions)
    videos: dict[str, int] = {}
    lines = [
        "Training:\tperson11, person12, person13, person14, person15, person16, person17, person18",
        "Validation:\tperson19, person20, person21, person23, person24, person25, person01, person04",
        "Test:\tperson22, person02, person03, person05, person06, person07, person08, person09, person10",
        "",
    ]
    work = folder / "avi"
    work.mkdir(exist_ok=True)
    for action in actions:
        archive_path = folder / f"{action}.zip"
        tmp = archive_path.with_name(archive_path.name + ".tmp")
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for person in persons:
                for scenario in scenarios:
                    key = VideoKey(person, action, scenario)
                    if key.name == MISSING_VIDEO:
                        continue
                    if person == persons[0] and action == actions[0] and scenario == scenarios[0]:
                        quirk = "past_end"
                    elif len(persons) > 1 and person == persons[1] and action == "boxing" and scenario == scenarios[0]:
                        quirk = "beyond_end"
                    else:
                        quirk = {"walking": "overlap", "handwaving": "three"}.get(action, "")
                    sep = "\t\tframes\t" if person % 2 else "      frames    "  # tabs and spaces both occur
                    lines.append(f"{key.name}{sep}{_ranges(key, frames, quirk)}")
                    if key.name in omit:
                        continue
                    avi = write_avi(work / key.filename, render_video(key, frames))
                    archive.write(avi, arcname=key.filename)
                    avi.unlink()
                    videos[key.name] = frames
            if action == "handclapping":
                lines.append(f"{MISSING_VIDEO}\t\t*missing*")
        tmp.replace(archive_path)
    work.rmdir()
    text = "\n".join(lines) + "\n"
    (folder / SEQUENCE_FILE).write_text(text)
    return MiniatureKTH(folder, videos, list(omit), text)
