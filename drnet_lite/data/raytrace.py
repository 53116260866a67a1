"""A small vectorised renderer for toy objects made of primitives (sphere tracing of SDFs).

An object is a union of primitives, each with a signed distance function
(SDF) ``f(p)``: negative inside, positive outside, and never larger than the
distance to the surface. The union of primitives is the minimum of their SDFs.
Sphere tracing walks every ray ``p(t) = o + t d`` by the distance the SDF
guarantees free:

    t_{k+1} = t_k + f(o + t_k d),

for a fixed number of iterations, over all rays at once (no Python loop per
ray or pixel). A ray has hit when ``f < eps``; its surface normal is the
normalised gradient of the SDF (central differences) and its colour the
albedo of the nearest primitive. Shading is Lambertian with one directional
light ``l`` and an ambient term ``a``:

    I = albedo * (a + (1 - a) * max(0, n . l)).

The primitives (local coordinates, axis ``y`` up):

* sphere, radius r:                 ``|p| - r``
* box, half sizes b:                ``|max(q, 0)| + min(max_i q_i, 0)``, ``q = |p| - b``
* cylinder, radius r, half height h: ``d = (|p_xz| - r, |p_y| - h)``, ``min(max(d), 0) + |max(d, 0)|``
* cone, base radius r at ``y = -h``, apex at ``y = +h`` (a capped cone with
  top radius 0);
* torus in the xz plane, radii R and r: ``|(|p_xz| - R, p_y)| - r``.

Every primitive also has a centre and a rotation, so a cylinder can lie along
``x`` (a wheel) or a torus stand upright (a handle).

The camera (perspective) looks at the origin from distance ``CAMERA_DISTANCE``
at an elevation; the object turns about the vertical axis by the azimuth
(the turntable), and the light is fixed in the camera's frame. A
turned object is the same as a camera turned the other way, so the rays are
rotated into the object's frame.

The G-buffer (normal and albedo per pixel) is returned separately from the
shading, so a source can keep the G-buffers of the viewpoints it uses and
shade them under any light without tracing again.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

RENDER_VERSION = 1  # bump when a change alters pixels (it keys the turntable's G-buffer cache)
PRIMITIVES = ("sphere", "box", "cylinder", "cone", "torus")
CAMERA_DISTANCE = 4.0
FIELD_OF_VIEW = 2 * math.degrees(math.atan(1.25 / CAMERA_DISTANCE))  # the unit sphere (plus a margin) fills the frame
BOUND_RADIUS = 1.3  # every object lies inside this sphere about the origin
HIT_EPS = 2e-3
FAR = 1e3  # centre of an unused primitive slot


@dataclass
class Shapes:
    """A batch of objects as fixed slots per primitive type (unused slots sit far away).

    For every type ``k`` in :data:`PRIMITIVES` the tensors have shape
    ``(O, n_k, ...)``: ``centre`` (3), ``rotation`` (3, 3; local = (p - centre) @ rotation),
    ``size`` (3: the type's parameters, see the module docstring) and
    ``colour`` (3, RGB albedo in [0, 1]).
    """

    centre: dict[str, torch.Tensor]
    rotation: dict[str, torch.Tensor]
    size: dict[str, torch.Tensor]
    colour: dict[str, torch.Tensor]

    def __len__(self) -> int:
        return next(iter(self.centre.values())).shape[0]

    def index(self, idx: torch.Tensor) -> "Shapes":
        """The objects ``idx`` (any int64 tensor shape flattened to one batch dimension)."""
        idx = idx.reshape(-1)
        return Shapes(*({k: v[idx] for k, v in d.items()} for d in (self.centre, self.rotation, self.size, self.colour)))

    def to(self, device: torch.device | str) -> "Shapes":
        return Shapes(*({k: v.to(device) for k, v in d.items()} for d in (self.centre, self.rotation, self.size, self.colour)))


def _length(x: torch.Tensor) -> torch.Tensor:
    return torch.sqrt((x * x).sum(-1) + 1e-12)


def _sdf_sphere(p: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    return _length(p) - s[..., 0]


def _sdf_box(p: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    q = p.abs() - s
    return _length(q.clamp(min=0)) + q.amax(-1).clamp(max=0)


def _radial(p: torch.Tensor) -> torch.Tensor:
    return torch.sqrt(p[..., 0] ** 2 + p[..., 2] ** 2 + 1e-12)


def _sdf_cylinder(p: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    d = torch.stack([_radial(p) - s[..., 0], p[..., 1].abs() - s[..., 1]], -1)
    return d.amax(-1).clamp(max=0) + _length(d.clamp(min=0))


def _sdf_cone(p: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    """Capped cone with base radius r1 at y = -h and radius r2 = 0 at y = +h (exact SDF)."""
    r1, h = s[..., 0], s[..., 1]
    qx, qy = _radial(p), p[..., 1]
    # distance to the caps: the base disc (y = -h) and the apex (radius 0)
    cap_r = torch.where(qy < 0, r1, torch.zeros_like(r1))
    ca_x, ca_y = qx - torch.minimum(qx, cap_r), qy.abs() - h
    # distance to the slanted side, from (r1, -h) to (0, h): k2 = (r2 - r1, 2h), k1 = (r2, h)
    k2x, k2y = -r1, 2 * h
    k1x, k1y = torch.zeros_like(r1), h
    along = (((k1x - qx) * k2x + (k1y - qy) * k2y) / (k2x * k2x + k2y * k2y)).clamp(0, 1)
    cb_x, cb_y = qx - k1x + k2x * along, qy - k1y + k2y * along
    inside = (cb_x < 0) & (ca_y < 0)
    dist = torch.sqrt(torch.minimum(ca_x**2 + ca_y**2, cb_x**2 + cb_y**2) + 1e-12)
    return torch.where(inside, -dist, dist)


def _sdf_torus(p: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    q = torch.stack([_radial(p) - s[..., 0], p[..., 1]], -1)
    return _length(q) - s[..., 1]


SDF = {"sphere": _sdf_sphere, "box": _sdf_box, "cylinder": _sdf_cylinder, "cone": _sdf_cone, "torus": _sdf_torus}


def scene_distance(p: torch.Tensor, shapes: Shapes, with_nearest: bool = False):
    """SDF of each ray's object at points ``p`` (N, 3); ``shapes`` holds one object per point (N slots).

    Returns the distance (N,), and with ``with_nearest`` also the colour (N, 3)
    of the nearest primitive.
    """
    best = None
    colour = None
    for kind in PRIMITIVES:
        centre = shapes.centre[kind]
        if centre.shape[1] == 0:
            continue
        local = torch.einsum("nki,nkij->nkj", p[:, None, :] - centre, shapes.rotation[kind])
        dist = SDF[kind](local, shapes.size[kind])  # (N, n_k)
        d, arg = dist.min(1)
        if best is None:
            best = d
            if with_nearest:
                colour = shapes.colour[kind].gather(1, arg[:, None, None].expand(-1, 1, 3))[:, 0]
        else:
            if with_nearest:
                mine = shapes.colour[kind].gather(1, arg[:, None, None].expand(-1, 1, 3))[:, 0]
                colour = torch.where((d < best)[:, None], mine, colour)
            best = torch.minimum(best, d)
    return (best, colour) if with_nearest else best


def rotation_y(angle: torch.Tensor) -> torch.Tensor:
    """(..., 3, 3) rotation about the vertical axis by ``angle`` radians (right-handed, x towards -z)."""
    c, s = torch.cos(angle), torch.sin(angle)
    z, o = torch.zeros_like(c), torch.ones_like(c)
    return torch.stack([torch.stack([c, z, s], -1), torch.stack([z, o, z], -1), torch.stack([-s, z, c], -1)], -2)


def rotation_x(angle: torch.Tensor) -> torch.Tensor:
    """(..., 3, 3) rotation about the horizontal x axis by ``angle`` radians."""
    c, s = torch.cos(angle), torch.sin(angle)
    z, o = torch.zeros_like(c), torch.ones_like(c)
    return torch.stack([torch.stack([o, z, z], -1), torch.stack([z, c, -s], -1), torch.stack([z, s, c], -1)], -2)


def light_direction(azimuth: torch.Tensor, elevation: torch.Tensor) -> torch.Tensor:
    """(..., 3) unit vector towards the light, in the camera's frame at azimuth 0
    (azimuth 0, elevation 0 = from the camera; positive azimuth = from the right)."""
    az, el = torch.deg2rad(azimuth), torch.deg2rad(elevation)
    return torch.stack([torch.sin(az) * torch.cos(el), torch.sin(el), torch.cos(az) * torch.cos(el)], -1)


def _camera_rays(size: int, device) -> torch.Tensor:
    """(S*S, 3) unit ray directions of a camera on +z looking at -z (row 0 = top)."""
    half = math.tan(math.radians(FIELD_OF_VIEW) / 2)
    coords = (torch.arange(size, device=device, dtype=torch.float32) + 0.5) / size * 2 - 1  # pixel centres, symmetric
    y, x = torch.meshgrid(-coords * half, coords * half, indexing="ij")
    d = torch.stack([x, y, -torch.ones_like(x)], -1).reshape(-1, 3)
    return d / d.norm(dim=-1, keepdim=True)


def _local_rays(origin: torch.Tensor, direction: torch.Tensor, shapes: Shapes, frame: torch.Tensor,
                rays: torch.Tensor) -> dict[str, tuple[torch.Tensor, ...]]:
    """Rays ``rays`` (indices into the F*R rays) in every primitive's local frame, and the sizes.

    ``o_l = (o - c) R`` is one point per view and primitive; ``d_l = d R`` is one batched matmul
    per view, (R, 3) @ (3, 3 n_k), before the gather of the rays asked for. Returns (N, n_k, 3) each.
    """
    views, n_rays = origin.shape[0], direction.shape[0] // origin.shape[0]
    out = {}
    f = frame[rays]
    for kind in PRIMITIVES:
        rot = shapes.rotation[kind]  # (F, k, 3, 3)
        k = rot.shape[1]
        if k == 0:
            continue
        o_l = torch.einsum("fki,fkij->fkj", origin[:, None, :] - shapes.centre[kind], rot)
        d_l = torch.bmm(direction.view(views, n_rays, 3), rot.permute(0, 2, 1, 3).reshape(views, 3, k * 3))
        out[kind] = (o_l[f], d_l.view(-1, k, 3)[rays], shapes.size[kind][f])
    return out


def _march_distance(local: dict[str, tuple[torch.Tensor, ...]], t: torch.Tensor) -> torch.Tensor:
    best = None
    for kind, (o_l, d_l, size) in local.items():
        d = SDF[kind](torch.addcmul(o_l, t[:, None, None], d_l), size).amin(1)
        best = d if best is None else torch.minimum(best, d)
    return best


def trace(shapes: Shapes, azimuth: torch.Tensor, elevation: torch.Tensor, size: int,
          iterations: int = 48) -> tuple[torch.Tensor, torch.Tensor]:
    """The G-buffer of ``F`` views: one object per view turned by ``azimuth``, seen from ``elevation`` (degrees).

    All rays march together; every ray starts where it enters the bounding
    sphere, and rays that have hit (``f < eps``) or left the sphere are
    dropped from the batch (the work shrinks as the march goes on).

    Args:
        shapes: ``F`` objects (one per view).
        azimuth, elevation: (F,) degrees.
        size: frame size in pixels.
        iterations: sphere-tracing steps at most.

    Returns:
        ``normal`` (F, 3, S, S) camera-frame unit normals (0 where nothing was hit),
        ``albedo`` (F, 3, S, S) RGB albedo (0 = background).
    """
    device = azimuth.device
    views = azimuth.shape[0]
    # camera frame -> object frame: undo the camera's elevation (a rotation about x), then the turntable's azimuth
    to_object = rotation_y(-torch.deg2rad(azimuth)) @ rotation_x(-torch.deg2rad(elevation))  # (F, 3, 3)
    rays = _camera_rays(size, device)  # (R, 3)
    origin_cam = torch.tensor([0.0, 0.0, CAMERA_DISTANCE], device=device)
    origin = torch.einsum("fij,j->fi", to_object, origin_cam)  # (F, 3)
    direction = torch.einsum("fij,rj->fri", to_object, rays).reshape(-1, 3)  # (F*R, 3)
    n_rays = rays.shape[0]
    frame = torch.arange(views, device=device).repeat_interleave(n_rays)
    o = origin[frame]
    # start on the bounding sphere; rays that miss it are background
    b = (o * direction).sum(-1)
    disc = b * b - ((o * o).sum(-1) - BOUND_RADIUS**2)
    root = torch.sqrt(disc.clamp(min=0))
    active = torch.nonzero(disc > 0).squeeze(1)
    t_a, far_a = (-b - root)[active], (-b + root)[active]
    local = _local_rays(origin, direction, shapes, frame, active)
    hit = torch.zeros(frame.shape[0], dtype=torch.bool, device=device)
    t_hit = torch.zeros(frame.shape[0], device=device)
    pixel_cone = 0.5 * 2 * math.tan(math.radians(FIELD_OF_VIEW) / 2) / size / 4  # a quarter of half a pixel, per unit of t
    for _ in range(iterations):
        if active.numel() == 0:
            break
        dist = _march_distance(local, t_a)
        done_hit = dist < torch.clamp(t_a * pixel_cone, min=HIT_EPS)  # closer than half a pixel's footprint
        hit[active[done_hit]] = True
        t_hit[active[done_hit]] = t_a[done_hit]
        t_a = t_a + dist
        keep = ~done_hit & (t_a < far_a)
        kept = int(keep.sum())
        if kept < 0.8 * keep.numel():  # compact only when it pays: a gather costs about one march step
            active, t_a, far_a = active[keep], t_a[keep], far_a[keep]
            local = {k: tuple(x[keep] for x in v) for k, v in local.items()}
        else:  # rays that are done stay in the batch, frozen
            t_a = torch.where(keep, t_a, far_a + 1)
    normal = torch.zeros(frame.shape[0], 3, device=device)
    albedo = torch.zeros(frame.shape[0], 3, device=device)
    idx = torch.nonzero(hit).squeeze(1)
    if idx.numel():
        sub = shapes.index(frame[idx])
        local = _local_rays(origin, direction, shapes, frame, idx)
        t = t_hit[idx]
        eps = 1e-3
        grad = torch.zeros(idx.numel(), 3, device=device)
        nearest = torch.full((idx.numel(),), float("inf"), device=device)
        for kind, (o_l, d_l, size_k) in local.items():
            p_l = torch.addcmul(o_l, t[:, None, None], d_l)
            dist = SDF[kind](p_l, size_k)
            d_min, arg = dist.min(1)
            closer = d_min < nearest
            nearest = torch.where(closer, d_min, nearest)
            albedo[idx] = torch.where(closer[:, None], sub.colour[kind].gather(1, arg[:, None, None].expand(-1, 1, 3))[:, 0],
                                      albedo[idx])
            # the gradient of the nearest primitive of this type (the union's gradient where it is the nearest);
            # an offset e_i of the object frame is row i of the rotation in the local frame
            rot = sub.rotation[kind].gather(1, arg[:, None, None, None].expand(-1, 1, 3, 3))[:, 0]  # (N, 3, 3)
            p_n = p_l.gather(1, arg[:, None, None].expand(-1, 1, 3))  # (N, 1, 3)
            s_n = size_k.gather(1, arg[:, None, None].expand(-1, 1, 3))
            offsets = rot * eps  # (N, 3 axes, 3)
            g = SDF[kind](p_n + offsets, s_n.expand(-1, 3, -1)) - SDF[kind](p_n - offsets, s_n.expand(-1, 3, -1))
            grad = torch.where(closer[:, None], g, grad)
        n_obj = grad / grad.norm(dim=-1, keepdim=True).clamp(min=1e-12)
        # object frame -> camera frame: the transpose of to_object
        normal[idx] = torch.einsum("nji,nj->ni", to_object[frame[idx]], n_obj)
    shape = (views, size, size, 3)
    return normal.reshape(shape).permute(0, 3, 1, 2).contiguous(), albedo.reshape(shape).permute(0, 3, 1, 2).contiguous()


def shade(normal: torch.Tensor, albedo: torch.Tensor, light: torch.Tensor, ambient: float = 0.25,
          grey: bool = True) -> torch.Tensor:
    """Lambertian shading ``I = albedo * (a + (1 - a) max(0, n . l))`` of G-buffers.

    Args:
        normal, albedo: (F, 3, S, S) from :func:`trace`.
        light: (F, 3) unit light directions (camera frame).
        grey: return one channel (luminance 0.299 R + 0.587 G + 0.114 B) instead of RGB.

    Returns:
        (F, 1 or 3, S, S) frames in [0, 1]; the background is 0.
    """
    lambert = (normal * light[:, :, None, None]).sum(1, keepdim=True).clamp(min=0)
    image = albedo * (ambient + (1 - ambient) * lambert)
    if grey:
        weights = torch.tensor([0.299, 0.587, 0.114], device=image.device, dtype=image.dtype)
        image = (image * weights[None, :, None, None]).sum(1, keepdim=True)
    return image.clamp(0, 1)


def render(shapes: Shapes, azimuth: torch.Tensor, elevation: torch.Tensor, light: torch.Tensor, size: int = 64,
           grey: bool = True, ambient: float = 0.25, iterations: int = 48) -> torch.Tensor:
    """Frames (F, C, S, S) of ``F`` objects at the given azimuths, elevations (degrees) and light directions (F, 3)."""
    normal, albedo = trace(shapes, azimuth, elevation, size, iterations)
    return shade(normal, albedo, light, ambient, grey)
