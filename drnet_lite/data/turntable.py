"""The turntable: rendered toys that turn, with exact ground truth (a NORB-like source).

small NORB photographs 50 toys (5 categories: animals, humans, airplanes,
trucks, cars) on a turntable, under 18 azimuths, 9 elevations and 6
lightings. A "video" there is the same toy seen while the table turns. This
source builds the same thing from a seeded bank of 3D toys made of spheres,
boxes, cylinders, cones and tori (:mod:`drnet_lite.data.raytrace`), so every
frame's object, category, azimuth, elevation and lighting is known exactly.

A clip is one object turning:

    azimuth(t)   = (a_0 + v t) mod 360,        v = k * azimuth_step, k in +-[speed]
    elevation(t) = fixed, or one step of the elevation grid every
                   ``elevation_every`` frames, bouncing between its ends;
    light        = fixed for the clip (azimuth and elevation drawn per clip).

Content is the object (and the clip's light); pose is the viewpoint. So the
exact swap target of content clip A and pose clip B is A's object under A's
light at B's azimuth and elevation (:meth:`Turntable.swap_target`), and the
exact continuation of a clip is the same formula at later times
(:meth:`Turntable.future`).

Viewpoints lie on a grid (``azimuth_steps`` azimuths, the ``elevations``
listed), as in NORB. The G-buffer (normals and albedo) of every viewpoint used
is traced once and kept (``cache=True``); lighting is then a cheap shading
pass, so drawing a training batch costs a gather and a multiply.
"""
from __future__ import annotations

import hashlib
import math
import os
import warnings
from dataclasses import asdict, dataclass, field

from pathlib import Path

import torch

from .source import ConfiguredSource, register_source, sample_inputs
from .raytrace import PRIMITIVES, RENDER_VERSION, Shapes, light_direction, rotation_x, shade, trace

CATEGORIES = ("car", "plane", "figure", "animal", "teapot")
SLOTS = {"sphere": 2, "box": 3, "cylinder": 4, "cone": 1, "torus": 1}
CHANNEL_MODES = ("grey", "rgb")
SPLITS = ("train", "test", "all")


# ----------------------------------------------------------------------------------------------------------------------
# the bank of toys
# ----------------------------------------------------------------------------------------------------------------------

def _rot_x(deg: float) -> torch.Tensor:
    return rotation_x(torch.tensor(math.radians(deg)))


def _rot_z(deg: float) -> torch.Tensor:
    c, s = math.cos(math.radians(deg)), math.sin(math.radians(deg))
    return torch.tensor([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def _layout(category: str, u) -> list[tuple[str, tuple, tuple, torch.Tensor, int]]:
    """Primitives of one instance: (kind, centre, size, rotation, colour slot). ``u(lo, hi)`` draws a proportion.

    Every layout is mirror-symmetric front to back (z -> -z) and not left to right, so a half turn
    shows the mirror image (a test uses that).
    """
    eye = torch.eye(3)
    if category == "car":
        length, height, width, wheel = u(0.75, 1.0), u(0.18, 0.28), u(0.3, 0.42), u(0.16, 0.24)
        cabin = u(0.3, 0.5)
        return [
            ("box", (0, 0, 0), (length, height, width), eye, 0),
            ("box", (-u(0.0, 0.3), height + u(0.12, 0.2), 0), (cabin, u(0.12, 0.2), width * 0.9), eye, 1),
            *[("cylinder", (sx * length * 0.65, -height, sz * width), (wheel, 0.06, 0), _rot_x(90), 2)
              for sx in (-1, 1) for sz in (-1, 1)],
        ]
    if category == "plane":
        body, radius, span = u(0.75, 0.95), u(0.1, 0.16), u(0.7, 1.0)
        return [
            ("cylinder", (-0.1, 0, 0), (radius, body, 0), _rot_z(90), 0),
            ("box", (u(-0.1, 0.15), 0, 0), (u(0.15, 0.25), 0.03, span), eye, 1),
            ("box", (-0.1 - body * 0.85, 0, 0), (0.1, 0.025, span * u(0.3, 0.45)), eye, 1),
            ("box", (-0.1 - body * 0.85, u(0.15, 0.25), 0), (0.1, u(0.12, 0.2), 0.025), eye, 2),
            ("cone", (-0.1 + body + 0.15, 0, 0), (radius, 0.15, 0), _rot_z(-90), 2),
        ]
    if category == "figure":
        head, torso, leg = u(0.15, 0.22), u(0.18, 0.26), u(0.22, 0.32)
        return [
            ("sphere", (0, 2 * leg + 2 * 0.28 + head - 0.75, 0), (head, 0, 0), eye, 1),
            ("cylinder", (0, 2 * leg + 0.28 - 0.75, 0), (torso, 0.28, 0), eye, 0),
            *[("cylinder", (0, leg - 0.75, sz * torso * 0.5), (0.07, leg, 0), eye, 2) for sz in (-1, 1)],
            ("box", (0, 2 * leg + 0.4 - 0.75, 0), (0.06, 0.06, torso + u(0.25, 0.4)), eye, 0),
            ("box", (-torso - 0.08, 2 * leg + 0.25 - 0.75, 0), (0.08, u(0.12, 0.2), torso * 0.7), eye, 2),
            ("cone", (torso * 0.4 + head, 2 * leg + 2 * 0.28 + head - 0.75, 0), (0.05, u(0.08, 0.14), 0), _rot_z(-90), 2),
        ]
    if category == "animal":
        body, height, leg, head = u(0.45, 0.65), u(0.15, 0.24), u(0.18, 0.28), u(0.15, 0.22)
        return [
            ("box", (0, leg, 0), (body, height, u(0.16, 0.24)), eye, 0),
            *[("cylinder", (sx * body * 0.75, 0, sz * 0.12), (0.06, leg, 0), eye, 0) for sx in (-1, 1) for sz in (-1, 1)],
            ("sphere", (body + head * 0.6, leg + height + head * 0.5, 0), (head, 0, 0), eye, 1),
            ("cone", (-body - 0.15, leg + height * 0.5, 0), (0.06, u(0.15, 0.25), 0), _rot_z(60), 2),
        ]
    if category == "teapot":
        radius, half = u(0.35, 0.5), u(0.3, 0.45)
        return [
            ("cylinder", (0, 0, 0), (radius, half, 0), eye, 0),
            ("torus", (-radius - 0.12, 0, 0), (u(0.18, 0.26), 0.06, 0), _rot_x(90), 1),
            ("cone", (radius + 0.15, half * 0.3, 0), (0.1, u(0.2, 0.3), 0), _rot_z(-45), 1),
            ("sphere", (0, half + 0.05, 0), (u(0.08, 0.14), 0, 0), eye, 2),
        ]
    raise ValueError(f"unknown category {category!r}; choose from {CATEGORIES}")


def _extent(kind: str, size: tuple) -> float:
    a, b, c = (list(size) + [0, 0, 0])[:3]
    return {"sphere": a, "box": math.sqrt(a * a + b * b + c * c), "cylinder": math.hypot(a, b),
            "cone": math.hypot(a, b), "torus": a + b}[kind]


@dataclass
class ObjectBank:
    """A seeded bank of ``len(categories) * instances`` toys; object id = category * instances + instance.

    Every instance of a category has the same layout of primitives; sizes and
    proportions vary within fixed ranges, and every object has three colours
    (drawn from the whole hue circle). Objects are centred and scaled so that
    they reach radius ``radius`` (the frame is filled alike for every object).
    """

    instances: int = 10
    categories: int = 5
    seed: int = 0
    radius: float = 1.15
    shapes: Shapes = field(init=False, repr=False)
    category: torch.Tensor = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not 1 <= self.categories <= len(CATEGORIES):
            raise ValueError(f"categories must be in 1..{len(CATEGORIES)} ({', '.join(CATEGORIES)}), got {self.categories}")
        if self.instances < 1:
            raise ValueError(f"instances must be at least 1, got {self.instances}")
        g = torch.Generator().manual_seed(int(self.seed))
        n = self.categories * self.instances
        centre = {k: torch.full((n, SLOTS[k], 3), 1e3) for k in PRIMITIVES}
        rotation = {k: torch.eye(3).repeat(n, SLOTS[k], 1, 1) for k in PRIMITIVES}
        size = {k: torch.full((n, SLOTS[k], 3), 0.1) for k in PRIMITIVES}
        colour = {k: torch.zeros(n, SLOTS[k], 3) for k in PRIMITIVES}

        def u(lo: float, hi: float) -> float:
            return lo + (hi - lo) * float(torch.rand((), generator=g))

        for obj in range(n):
            parts = _layout(CATEGORIES[obj // self.instances], u)
            hues = torch.rand(3, generator=g)
            palette = [_hsv(float(h), u(0.5, 0.9), u(0.55, 1.0)) for h in hues]
            bound = max(math.sqrt(sum(c * c for c in p[1])) + _extent(p[0], p[2]) for p in parts)
            scale = self.radius / bound
            used = {k: 0 for k in PRIMITIVES}
            for kind, c, s, rot, col in parts:
                i = used[kind]
                used[kind] += 1
                centre[kind][obj, i] = torch.tensor(c, dtype=torch.float32) * scale
                size[kind][obj, i] = torch.tensor((list(s) + [0, 0, 0])[:3], dtype=torch.float32) * scale
                # local = (p - centre) @ rotation: a primitive turned by R has rotation R (row vectors)
                rotation[kind][obj, i] = rot.float()
                colour[kind][obj, i] = palette[col]
        self.shapes = Shapes(centre, rotation, size, colour)
        self.category = torch.arange(n) // self.instances

    def __len__(self) -> int:
        return self.categories * self.instances

    def instance(self, object_id: torch.Tensor) -> torch.Tensor:
        return object_id % self.instances


def _hsv(h: float, s: float, v: float) -> torch.Tensor:
    k = torch.tensor([5.0, 3.0, 1.0])
    k = (k + h * 6) % 6
    return v - v * s * torch.clamp(torch.minimum(k, 4 - k), 0, 1)


# ----------------------------------------------------------------------------------------------------------------------
# the source
# ----------------------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TurntableConfig:
    """Everything that defines a turntable distribution.

    Attributes:
        image_size: 32, 64 or 128.
        channels: ``"grey"`` or ``"rgb"``.
        seq_len: frames per clip.
        categories, instances: the bank (``instances`` per category).
        bank_seed: seed of the bank of toys (shapes and colours).
        split: ``"train"`` (the first half of the instances of every
            category), ``"test"`` (the other half; unseen toys) or ``"all"``.
        azimuth_steps: azimuths on the grid (36: every 10 degrees).
        speed: (min, max) grid steps per frame; the sign is drawn per clip.
        elevations: the elevation grid, degrees.
        elevation_every: 0 for a fixed elevation per clip, else the clip's
            elevation moves one grid step every that many frames (bouncing).
        light_azimuth, light_elevation: (min, max) degrees of the clip's light.
        ambient: ambient share of the shading.
        cache: keep the traced G-buffers of the viewpoints used (fast).
    """

    image_size: int = 64
    channels: str = "grey"
    seq_len: int = 20
    categories: int = 5
    instances: int = 10
    bank_seed: int = 0
    split: str = "train"
    azimuth_steps: int = 36
    speed: tuple[int, int] = (1, 2)
    elevations: tuple[float, ...] = (5.0, 15.0, 25.0, 35.0)
    elevation_every: int = 0
    light_azimuth: tuple[float, float] = (-60.0, 60.0)
    light_elevation: tuple[float, float] = (15.0, 60.0)
    ambient: float = 0.25
    cache: bool = True
    source: str = "turntable"

    def __post_init__(self) -> None:
        for name in ("speed", "elevations", "light_azimuth", "light_elevation"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        self.validate()

    def validate(self) -> None:
        s = self.image_size
        if s < 8 or s & (s - 1):
            raise ValueError(f"image_size must be a power of two >= 8 (32, 64, 128), got {s}")
        if self.channels not in CHANNEL_MODES:
            raise ValueError(f"channels must be one of {CHANNEL_MODES}, got {self.channels!r}")
        if self.split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {self.split!r}")
        if self.seq_len < 1:
            raise ValueError(f"seq_len must be at least 1, got {self.seq_len}")
        if self.instances < 2 and self.split != "all":
            raise ValueError("a train/test split needs at least 2 instances per category (or split='all')")
        if self.azimuth_steps < 1:
            raise ValueError(f"azimuth_steps must be at least 1, got {self.azimuth_steps}")
        if len(self.speed) != 2 or not 0 <= self.speed[0] <= self.speed[1]:
            raise ValueError(f"speed must be (min, max) grid steps with 0 <= min <= max, got {self.speed}")
        if not self.elevations:
            raise ValueError("elevations must list at least one elevation in degrees")
        if self.elevation_every < 0:
            raise ValueError(f"elevation_every must be >= 0 (0 = fixed elevation), got {self.elevation_every}")
        for name in ("light_azimuth", "light_elevation"):
            lo_hi = getattr(self, name)
            if len(lo_hi) != 2 or lo_hi[0] > lo_hi[1]:
                raise ValueError(f"{name} must be (min, max) degrees, got {lo_hi}")
        if not 0 <= self.ambient <= 1:
            raise ValueError(f"ambient must be in [0, 1], got {self.ambient}")
        if self.source != "turntable":
            raise ValueError(f"a TurntableConfig has source 'turntable', got {self.source!r}")

    @property
    def num_channels(self) -> int:
        return 1 if self.channels == "grey" else 3

    @property
    def azimuth_step(self) -> float:
        return 360.0 / self.azimuth_steps

    def object_ids(self) -> torch.Tensor:
        """Ids (into the bank) of the objects of this split."""
        instance = torch.arange(self.categories * self.instances) % self.instances
        half = self.instances // 2
        mask = {"train": instance < half, "test": instance >= half, "all": torch.ones_like(instance, dtype=torch.bool)}
        return torch.nonzero(mask[self.split]).squeeze(1)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class TurntableClips:
    """A batch of turntable clips and their ground truth.

    Attributes:
        frames: float32 (B, T, C, H, W) in [0, 1].
        times: int64 (B, T).
        object_id: int64 (B,) id in the bank; ``category`` (B,) and ``instance`` (B,).
        azimuth, elevation: float32 (B, T) degrees of every frame.
        azimuth_index, elevation_index: int64 (B, T) positions on the grids.
        light: float32 (B, 2) the clip's light (azimuth, elevation) in degrees.
        start, velocity: int64 (B,) azimuth grid step at t = 0 and grid steps per frame;
            ``elevation_start``, ``elevation_sign`` (B,) for the elevation path.
    """

    frames: torch.Tensor
    times: torch.Tensor
    object_id: torch.Tensor
    category: torch.Tensor
    instance: torch.Tensor
    azimuth: torch.Tensor
    elevation: torch.Tensor
    azimuth_index: torch.Tensor
    elevation_index: torch.Tensor
    light: torch.Tensor
    start: torch.Tensor
    velocity: torch.Tensor
    elevation_start: torch.Tensor
    elevation_sign: torch.Tensor

    def __len__(self) -> int:
        return self.frames.shape[0]

    @property
    def scene(self) -> torch.Tensor:
        """The scene of every clip (B,): its toy (:func:`drnet_lite.data.source.scene_labels`)."""
        return self.object_id


def bounce_index(start: torch.Tensor, sign: torch.Tensor, times: torch.Tensor, every: int, levels: int) -> torch.Tensor:
    """Grid index of a path that moves one level every ``every`` frames and bounces at ``0`` and ``levels - 1``."""
    if every == 0 or levels == 1:
        return start[:, None].expand_as(times).clone()
    period = 2 * (levels - 1)
    u = (start[:, None] + sign[:, None] * (times // every)) % period
    return (levels - 1) - (u - (levels - 1)).abs()


class Turntable(ConfiguredSource):
    """Turntable clips (a registered source, name ``"turntable"``).

    >>> tt = Turntable(TurntableConfig(image_size=32, seq_len=4))   # doctest: +SKIP
    >>> tt.sample(8, seed=0).frames.shape                            # doctest: +SKIP
    torch.Size([8, 4, 1, 32, 32])

    Random draws use a CPU generator, so a seed gives the same clips on every device.
    """

    name = "turntable"

    def __init__(self, config: TurntableConfig | None = None, device: str | torch.device = "cpu",
                 cache_dir: str | os.PathLike | None = None, **overrides) -> None:
        config = config or TurntableConfig()
        if overrides:
            config = TurntableConfig(**{**config.to_dict(), **overrides})
        self.config = config
        self.device = torch.device(device)
        self.bank = ObjectBank(config.instances, config.categories, config.bank_seed)
        self.shapes = self.bank.shapes.to(self.device)
        self.objects = config.object_ids()
        views = len(self.bank) * config.azimuth_steps * len(config.elevations)
        self._filled = torch.zeros(views, dtype=torch.bool)
        self._gbuffer: torch.Tensor | None = None  # (views, 6, S, S) float16: normal and albedo, allocated on first use
        self.cache_file = Path(cache_dir) / f"turntable-{self._cache_key()}.pt" if cache_dir is not None else None
        if self.cache_file is not None and self.cache_file.exists() and config.cache:
            try:
                saved = torch.load(self.cache_file, map_location="cpu", weights_only=True)
                self._filled, self._gbuffer = saved["filled"], saved["gbuffer"].to(self.device)
            except Exception as exc:  # a damaged cache is traced again, never trusted
                warnings.warn(f"{self.cache_file}: unreadable turntable cache ({exc}); tracing again")

    def _cache_key(self) -> str:
        cfg = self.config
        fields = (RENDER_VERSION, cfg.instances, cfg.categories, cfg.bank_seed, cfg.image_size, cfg.azimuth_steps,
                  tuple(cfg.elevations))
        return hashlib.sha1(repr(fields).encode()).hexdigest()[:12]

    def __repr__(self) -> str:
        return f"Turntable({self.config}, {len(self.objects)} objects, device={self.device})"

    # -- drawing -------------------------------------------------------------------------------------------------------
    def draw(self, batch_size: int, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        """The random part of ``batch_size`` clips (on the CPU)."""
        cfg = self.config
        obj = self.objects[torch.randint(len(self.objects), (batch_size,), generator=generator)]
        start = torch.randint(cfg.azimuth_steps, (batch_size,), generator=generator)
        low, high = cfg.speed
        velocity = torch.randint(low, high + 1, (batch_size,), generator=generator) * (
            torch.randint(0, 2, (batch_size,), generator=generator) * 2 - 1)
        elevation_start = torch.randint(len(cfg.elevations), (batch_size,), generator=generator)
        elevation_sign = torch.randint(0, 2, (batch_size,), generator=generator) * 2 - 1
        la, le = cfg.light_azimuth, cfg.light_elevation
        light = torch.stack([la[0] + (la[1] - la[0]) * torch.rand(batch_size, generator=generator),
                             le[0] + (le[1] - le[0]) * torch.rand(batch_size, generator=generator)], 1)
        return {"object_id": obj, "start": start, "velocity": velocity, "elevation_start": elevation_start,
                "elevation_sign": elevation_sign, "light": light}

    def sample(self, batch_size: int, generator: torch.Generator | None = None, seed: int | None = None,
               times: torch.Tensor | None = None) -> TurntableClips:
        """Draw ``batch_size`` clips (all ``seq_len`` frames, or the (B, T') ``times`` given)."""
        generator, times = sample_inputs(batch_size, generator, seed, times, self.config.seq_len)
        params = self.draw(batch_size, generator)
        return self.clips(params, times.cpu())

    def clips(self, params: dict[str, torch.Tensor], times: torch.Tensor) -> TurntableClips:
        """Clips of given parameters (from :meth:`draw`) at the (B, T) ``times``: the exact ground truth."""
        cfg = self.config
        az_index = (params["start"][:, None] + params["velocity"][:, None] * times) % cfg.azimuth_steps
        el_index = bounce_index(params["elevation_start"], params["elevation_sign"], times,
                                cfg.elevation_every, len(cfg.elevations))
        obj = params["object_id"][:, None].expand_as(times)
        light = params["light"][:, None, :].expand(*times.shape, 2)
        frames = self.frames(obj, az_index, el_index, light)
        elevation_grid = torch.tensor(cfg.elevations, dtype=torch.float32)
        d = self.device
        return TurntableClips(
            frames=frames, times=times.to(d), object_id=params["object_id"].to(d),
            category=self.bank.category[params["object_id"]].to(d), instance=self.bank.instance(params["object_id"]).to(d),
            azimuth=(az_index.float() * cfg.azimuth_step).to(d), elevation=elevation_grid[el_index].to(d),
            azimuth_index=az_index.to(d), elevation_index=el_index.to(d), light=params["light"].to(d),
            start=params["start"].to(d), velocity=params["velocity"].to(d),
            elevation_start=params["elevation_start"].to(d), elevation_sign=params["elevation_sign"].to(d),
        )

    def frames(self, object_id: torch.Tensor, azimuth_index: torch.Tensor, elevation_index: torch.Tensor,
               light: torch.Tensor) -> torch.Tensor:
        """Frames (..., C, S, S) of objects at grid viewpoints under lights (..., 2) = (azimuth, elevation) degrees."""
        shape = object_id.shape
        obj, az, el = object_id.reshape(-1).cpu(), azimuth_index.reshape(-1).cpu(), elevation_index.reshape(-1).cpu()
        lights = light_direction(light[..., 0].reshape(-1), light[..., 1].reshape(-1)).to(self.device)
        if self.config.cache:
            normal, albedo = self._cached(obj, az, el)
        else:
            normal, albedo = self._trace(obj, az, el)
        image = shade(normal, albedo, lights, self.config.ambient, grey=self.config.channels == "grey")
        return image.reshape(*shape, *image.shape[1:])

    def swap_target(self, content: TurntableClips, pose: TurntableClips) -> torch.Tensor:
        """The exact swap: content clip's object under its light, at the pose clip's viewpoints (B, T, C, S, S)."""
        if content.object_id.shape[0] != pose.azimuth_index.shape[0]:
            raise ValueError("content and pose clips must be batches of the same size")
        obj = content.object_id[:, None].expand_as(pose.azimuth_index)
        light = content.light[:, None, :].expand(*pose.azimuth_index.shape, 2)
        return self.frames(obj, pose.azimuth_index, pose.elevation_index, light)

    def future(self, clips: TurntableClips, times: torch.Tensor) -> TurntableClips:
        """The same clips at other (B, T') ``times`` (e.g. the exact targets of a rollout)."""
        params = {"object_id": clips.object_id.cpu(), "start": clips.start.cpu(), "velocity": clips.velocity.cpu(),
                  "elevation_start": clips.elevation_start.cpu(), "elevation_sign": clips.elevation_sign.cpu(),
                  "light": clips.light.cpu()}
        return self.clips(params, times.to(torch.int64).cpu())

    def warm(self, progress: bool = False, chunk: int = 256) -> "Turntable":
        """Trace every viewpoint of this split's objects now (training then never waits on the tracer)."""
        from tqdm.auto import tqdm

        cfg = self.config
        if not cfg.cache:
            return self
        per_object = cfg.azimuth_steps * len(cfg.elevations)
        keys = (self.objects[:, None] * per_object + torch.arange(per_object)).reshape(-1)
        keys = keys[~self._filled[keys]]
        for i in tqdm(range(0, len(keys), chunk), disable=not progress or not len(keys), desc="turntable views"):
            k = keys[i:i + chunk]
            el = k % len(cfg.elevations)
            az = (k // len(cfg.elevations)) % cfg.azimuth_steps
            self._cached(k // per_object, az, el)
        if self.cache_file is not None and len(keys):
            self.cache_file.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.cache_file.with_name(f"{self.cache_file.name}.{os.getpid()}.tmp")
            torch.save({"filled": self._filled, "gbuffer": self._gbuffer.cpu()}, tmp)
            os.replace(tmp, self.cache_file)  # atomic: a reader sees the old file or the new one
        return self

    # -- the G-buffers -------------------------------------------------------------------------------------------------
    def _trace(self, obj: torch.Tensor, az: torch.Tensor, el: torch.Tensor, chunk: int = 256):
        cfg = self.config
        normals, albedos = [], []
        elevation_grid = torch.tensor(cfg.elevations, dtype=torch.float32)
        for i in range(0, len(obj), chunk):
            sl = slice(i, i + chunk)
            shapes = self.shapes.index(obj[sl].to(self.device))
            n, a = trace(shapes, (az[sl].float() * cfg.azimuth_step).to(self.device),
                         elevation_grid[el[sl]].to(self.device), cfg.image_size)
            normals.append(n)
            albedos.append(a)
        if not normals:
            s = cfg.image_size
            return torch.zeros(0, 3, s, s, device=self.device), torch.zeros(0, 3, s, s, device=self.device)
        return torch.cat(normals), torch.cat(albedos)

    def _cached(self, obj: torch.Tensor, az: torch.Tensor, el: torch.Tensor):
        cfg = self.config
        key = (obj * cfg.azimuth_steps + az) * len(cfg.elevations) + el
        missing = torch.unique(key[~self._filled[key]])
        if self._gbuffer is None:
            s = cfg.image_size
            self._gbuffer = torch.empty(len(self._filled), 6, s, s, dtype=torch.float16, device=self.device)
        if missing.numel():
            m_el = missing % len(cfg.elevations)
            m_az = (missing // len(cfg.elevations)) % cfg.azimuth_steps
            m_obj = missing // (len(cfg.elevations) * cfg.azimuth_steps)
            normal, albedo = self._trace(m_obj, m_az, m_el)
            self._gbuffer[missing.to(self.device)] = torch.cat([normal, albedo], 1).half()
            self._filled[missing] = True
        g = self._gbuffer[key.to(self.device)].float()
        return g[:, :3], g[:, 3:]


def _make(config: TurntableConfig, root=None, device: str | torch.device = "cpu") -> Turntable:
    """The registered factory: with a ``root`` folder, every view of the split is traced once and kept there."""
    source = Turntable(config, device=device, cache_dir=root)
    return source.warm(progress=True) if root is not None else source


register_source("turntable", TurntableConfig, _make, "rendered toys turning on a turntable, exact ground truth")
