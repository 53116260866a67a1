"""DRNet's networks: content encoder E_c, pose encoder E_p, decoder D, scene discriminator C.

DCGAN-style stacks for square frames of 32, 64 or 128 pixels (any power of two
from 8 up). Each encoder stage halves the size with a 4x4 stride-2 convolution,
BatchNorm and LeakyReLU(0.2) until the map is 4x4; a 4x4 convolution then gives
the vector, followed by BatchNorm and tanh:

    h_c = E_c(x) in [-1, 1]^content_dim,    h_p = E_p(x) in [-1, 1]^pose_dim.

The decoder mirrors it with transposed convolutions and a sigmoid:
``x_hat = D(h_c, h_p)``. With ``skip=True`` (the variant used for KTH) the
decoder also receives the content encoder's feature maps at every scale, a
U-Net whose skips come only from the *content* frame.

The scene discriminator is an MLP on a pair of pose vectors that outputs one
logit: ``C(h_p, h_p')`` is high when both come from the same clip.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn

from .checkpoint import check_field_types
from .layers import FoldConvTranspose2d, MapToVector, VectorToMap  # plain conv layers, computed faster (same weights)


#: Largest frame size the models are built for (the paper uses 64 and 128; a stage is added per doubling).
MAX_IMAGE_SIZE = 256
#: Frames may overshoot [0, 1] by this much (resampling) before they are refused.
RANGE_TOLERANCE = 1e-3
#: The scene discriminator's architectures (``DRNetConfig.discriminator``).
DISCRIMINATORS = ("mlp", "siamese")


@dataclass
class DRNetConfig:
    """Everything needed to rebuild a DRNet model (stored in every checkpoint).

    Attributes:
        image_size: frame size (a power of two from 8 to :data:`MAX_IMAGE_SIZE`).
        channels: input/output channels (1 grey, or one per digit).
        content_dim: size of the content vector h_c.
        pose_dim: size of the pose vector h_p.
        width: channels of the first stage (``nf``; 64 in the paper).
        skip: decoder takes skip connections from the content encoder.
        discriminator_hidden: units of each of the two hidden layers of C.
        scene_classes: outputs of a scene classifier on one pose vector, an adversary not in the paper
            that needs scene labels (:class:`SceneClassifier`); 0 (the default): none.
        discriminator: C's architecture, ``"mlp"`` (the paper) or ``"siamese"`` (a comparator of
            two embeddings; see :class:`SceneDiscriminator`).
        discriminator_norm: C standardises each pose dimension over the batch before reading it, so
            a pose dimension shrunk towards 0 stays visible to it (:class:`SceneDiscriminator`).
        normalize_content: give the content head's BatchNorm no learnable
            scale and shift, so every content dimension keeps unit variance
            across the batch before the tanh. Content then cannot collapse to
            a constant (the easy way to a zero similarity loss); it has to
            vary between clips while staying fixed within a clip.
        content_pool: end the content encoder with a global max-pool over
            the last 4x4 feature map and a 1x1 convolution instead of the
            4x4 convolution. The paper's head has separate weights for every
            cell of that map, so "which digit" must be learned anew at every
            position; pooling makes content translation-invariant by
            construction (a lite-preset choice, off for the paper preset).
        per_channel: one set of encoders and decoder, shared by the channels
            and applied to each channel alone (for Moving MNIST with one
            digit per colour channel: every channel is a one-digit frame).
            ``content_dim`` and ``pose_dim`` are then the sizes of the whole
            vectors, the per-channel vectors concatenated, and must divide by
            ``channels``; the decoder draws channel n from (content_n,
            pose_n) alone. The scene discriminator sees the concatenated pose.
            With one channel it is the ordinary model.
    """

    image_size: int = 64
    channels: int = 1
    content_dim: int = 128
    pose_dim: int = 10
    width: int = 64
    skip: bool = False
    discriminator_hidden: int = 100
    discriminator: str = "mlp"
    discriminator_norm: bool = False
    normalize_content: bool = False
    content_pool: bool = False
    per_channel: bool = False
    scene_classes: int = 0

    def __post_init__(self) -> None:
        check_field_types(self)
        size = self.image_size
        if size < 8 or size > MAX_IMAGE_SIZE or size & (size - 1):
            raise ValueError(f"image_size must be a power of two from 8 to {MAX_IMAGE_SIZE} (32, 64, 128), got {size}")
        for name in ("channels", "content_dim", "pose_dim", "width", "discriminator_hidden"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.scene_classes < 0:
            raise ValueError(f"scene_classes must be >= 0 (0: no scene classifier), got {self.scene_classes}")
        if self.discriminator not in DISCRIMINATORS:
            raise ValueError(f"discriminator must be one of {DISCRIMINATORS}, got {self.discriminator!r}")
        if self.per_channel:
            for name in ("content_dim", "pose_dim"):
                if getattr(self, name) % self.channels:
                    raise ValueError(f"per_channel: {name} {getattr(self, name)} is the size of the whole vector "
                                     f"and must divide by channels ({self.channels}); use a multiple of {self.channels}")
            if self.skip:
                raise ValueError("per_channel with skip=True is not built; use one of the two")

    def channel_config(self) -> "DRNetConfig":
        """The one-channel model that ``per_channel`` applies to every channel (itself without ``per_channel``)."""
        if not self.per_channel:
            return self
        return DRNetConfig(**{**asdict(self), "channels": 1, "content_dim": self.content_dim // self.channels,
                              "pose_dim": self.pose_dim // self.channels, "per_channel": False})

    @property
    def stages(self) -> int:
        """Stride-2 stages from ``image_size`` down to 4x4."""
        return int(math.log2(self.image_size)) - 2

    def stage_width(self, i: int) -> int:
        """Channels after encoder stage ``i`` (0-based): nf, 2nf, 4nf, 8nf, 8nf, ..."""
        return self.width * min(2**i, 8)

    def to_dict(self) -> dict:
        return asdict(self)


def _down(cin: int, cout: int, batchnorm: bool = True) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, 4, 2, 1, bias=not batchnorm)]
    if batchnorm:
        layers.append(nn.BatchNorm2d(cout))
    layers.append(nn.LeakyReLU(0.2, inplace=True))
    return nn.Sequential(*layers)


def _up(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class Encoder(nn.Module):
    """DCGAN encoder: frame (B, C, S, S) -> vector (B, dim) in [-1, 1] and the stage feature maps."""

    def __init__(self, config: DRNetConfig, dim: int, affine_head: bool = True, pool: bool = False) -> None:
        super().__init__()
        widths = [config.stage_width(i) for i in range(config.stages)]
        stages = [_down(config.channels, widths[0], batchnorm=False)]
        stages += [_down(widths[i - 1], widths[i]) for i in range(1, config.stages)]
        self.stages = nn.ModuleList(stages)
        to_vector = [nn.AdaptiveMaxPool2d(1), MapToVector(widths[-1], dim, 1, bias=False)] if pool else [MapToVector(widths[-1], dim, 4, 1, 0, bias=False)]
        self.head = nn.Sequential(*to_vector, nn.BatchNorm2d(dim, affine=affine_head), nn.Tanh())

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        features = []
        for stage in self.stages:
            x = stage(x)
            features.append(x)
        return self.head(x).flatten(1), features


class Decoder(nn.Module):
    """DCGAN decoder: ``D(h_c, h_p)`` -> frame (B, C, S, S) in [0, 1].

    With ``skip`` the content encoder's feature maps are concatenated to the
    decoder's maps of the same size (coarsest first).
    """

    def __init__(self, config: DRNetConfig) -> None:
        super().__init__()
        self.skip = config.skip
        widths = [config.stage_width(i) for i in range(config.stages)]
        grow = 2 if config.skip else 1
        top = widths[-1]
        self.project = nn.Sequential(
            VectorToMap(config.content_dim + config.pose_dim, top, 4, 1, 0, bias=False),
            nn.BatchNorm2d(top),
            nn.ReLU(inplace=True),
        )
        self.stages = nn.ModuleList(_up(widths[i] * grow, widths[i - 1]) for i in range(config.stages - 1, 0, -1))
        self.out = nn.Sequential(FoldConvTranspose2d(widths[0] * grow, config.channels, 4, 2, 1), nn.Sigmoid())

    def forward(self, content: torch.Tensor, pose: torch.Tensor, skips: list[torch.Tensor] | None = None) -> torch.Tensor:
        if self.skip and skips is None:
            raise ValueError("this decoder was built with skip=True: pass the content encoder's feature maps")
        x = self.project(torch.cat([content, pose], dim=1)[:, :, None, None])
        layers = list(self.stages) + [self.out]
        for depth, layer in enumerate(layers):
            if self.skip:
                x = torch.cat([x, skips[-1 - depth]], dim=1)
            x = layer(x)
        return x


class SceneDiscriminator(nn.Module):
    """C(h_p, h_p'): logit that two pose vectors come from the same clip.

    ``kind="mlp"`` (the paper): an MLP with two hidden layers (ReLU) on the concatenated pair.
    ``kind="siamese"``: one MLP ``f`` (two layers) embeds each vector, and a linear layer reads
    ``[f(h_p) * f(h_p'), |f(h_p) - f(h_p')|]``. "Do these two name the same scene?" is then a
    comparison of two embeddings, which the concatenating MLP has to learn anew for every pair
    of scenes; the comparator is also symmetric in its two inputs.

    ``normalize=True`` standardises every pose dimension over the batch first (BatchNorm without
    scale and shift; running statistics in eval mode), as a probe standardises its inputs. Without
    it the pose encoder can hide from C by shrinking a dimension: its BatchNorm scale goes towards 0,
    C sees a near-constant number, and the decoder (or a probe that standardises) still reads it.
    """

    def __init__(self, pose_dim: int, hidden: int = 100, kind: str = "mlp", normalize: bool = False) -> None:
        super().__init__()
        if kind not in DISCRIMINATORS:
            raise ValueError(f"the scene discriminator must be one of {DISCRIMINATORS}, got {kind!r}")
        self.kind = kind
        # standardise every pose dimension over the batch (both members of the pairs) before C reads it
        self.norm = nn.BatchNorm1d(pose_dim, affine=False, eps=1e-8) if normalize else None
        if kind == "mlp":
            self.net = nn.Sequential(
                nn.Linear(2 * pose_dim, hidden), nn.ReLU(inplace=True),
                nn.Linear(hidden, hidden), nn.ReLU(inplace=True),
                nn.Linear(hidden, 1),
            )
        else:
            self.embed = nn.Sequential(nn.Linear(pose_dim, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, hidden))
            self.compare = nn.Linear(2 * hidden, 1)

    def forward(self, pose_a: torch.Tensor, pose_b: torch.Tensor) -> torch.Tensor:
        if self.norm is not None:
            pose_a, pose_b = self.norm(torch.cat([pose_a, pose_b])).chunk(2)
        if self.kind == "mlp":
            return self.net(torch.cat([pose_a, pose_b], dim=1)).squeeze(1)
        a, b = self.embed(pose_a), self.embed(pose_b)
        return self.compare(torch.cat([a * b, (a - b).abs()], dim=1)).squeeze(1)


class SceneClassifier(nn.Module):
    """Which scene (of ``classes``) one pose vector shows: an MLP like C's, two hidden layers (ReLU).

    Not in the paper: an adversary that asks what the probes ask (``TrainConfig.classifier_weight``;
    :func:`drnet_lite.leak_losses.scene_classifier_loss` and :func:`~drnet_lite.leak_losses.scene_confusion_loss`).
    """

    def __init__(self, pose_dim: int, classes: int, hidden: int = 100) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(pose_dim, hidden), nn.ReLU(inplace=True),
                                 nn.Linear(hidden, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, classes))

    def forward(self, pose: torch.Tensor) -> torch.Tensor:
        return self.net(pose)


def dcgan_init(module: nn.Module) -> None:
    """DCGAN initialisation: conv weights ~ N(0, 0.02), BatchNorm weights ~ N(1, 0.02), biases 0."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d) and module.affine:
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


class DRNet(nn.Module):
    """The four networks of DRNet under one roof.

    >>> model = DRNet(DRNetConfig(image_size=64, width=16))
    >>> x = torch.rand(2, 1, 64, 64)
    >>> model(x, x).shape
    torch.Size([2, 1, 64, 64])
    """

    def __init__(self, config: DRNetConfig) -> None:
        super().__init__()
        self.config = config
        net = config.channel_config()  # with per_channel: the networks of one channel, shared by all
        self.content_encoder = Encoder(net, net.content_dim, affine_head=not config.normalize_content,
                                       pool=config.content_pool)
        self.pose_encoder = Encoder(net, net.pose_dim)
        self.decoder = Decoder(net)
        self.scene_discriminator = SceneDiscriminator(config.pose_dim, config.discriminator_hidden, config.discriminator,
                                                     config.discriminator_norm)
        self.scene_classifier = (SceneClassifier(config.pose_dim, config.scene_classes, config.discriminator_hidden)
                                 if config.scene_classes else None)
        self.apply(dcgan_init)
        if config.discriminator == "siamese":  # PyTorch's default init: under N(0, 0.02) its products start near 1e-6
            for layer in self.scene_discriminator.modules():
                if isinstance(layer, nn.Linear):
                    layer.reset_parameters()

    def encode_content(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """``h_c = E_c(x)`` and the content encoder's feature maps (the skips)."""
        self._check_frames(x)
        if self.config.per_channel:
            content, features = self.content_encoder(self._fold(x))
            return self._unfold(content, x.shape[0]), features
        return self.content_encoder(x)

    def encode_pose(self, x: torch.Tensor) -> torch.Tensor:
        """``h_p = E_p(x)``."""
        self._check_frames(x)
        if self.config.per_channel:
            return self._unfold(self.pose_encoder(self._fold(x))[0], x.shape[0])
        return self.pose_encoder(x)[0]

    def decode(self, content: torch.Tensor, pose: torch.Tensor, skips: list[torch.Tensor] | None = None) -> torch.Tensor:
        """``D(h_c, h_p)``; with ``per_channel``, channel n is ``D(h_c[n], h_p[n])``, the n-th slices of the vectors."""
        if self.config.per_channel:
            channels = self.config.channels
            frames = self.decoder(self._fold(content), self._fold(pose))  # (B*C, 1, S, S)
            return frames.reshape(-1, channels, *frames.shape[2:])
        return self.decoder(content, pose, skips if self.config.skip else None)

    def _fold(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, ...) frames or (B, C*d) vectors -> (B*C, 1, ...) frames or (B*C, d) vectors: channels into the batch."""
        if x.dim() == 4:
            return x.reshape(-1, 1, *x.shape[2:])
        return x.reshape(x.shape[0] * self.config.channels, -1)

    def _unfold(self, vectors: torch.Tensor, batch: int) -> torch.Tensor:
        """(B*C, d) per-channel vectors -> (B, C*d), channel 0's first."""
        return vectors.reshape(batch, -1)

    def forward(self, content_frame: torch.Tensor, pose_frame: torch.Tensor) -> torch.Tensor:
        """``D(E_c(x_content), E_p(x_pose))``: the content of one frame drawn in the pose of another."""
        content, skips = self.encode_content(content_frame)
        return self.decode(content, self.encode_pose(pose_frame), skips)

    def _check_frames(self, x: torch.Tensor) -> None:
        """Shape, dtype and range: frames are float in [0, 1] (one min/max per call, see benchmarks/bench_input_check.py)."""
        c, s = self.config.channels, self.config.image_size
        if x.dim() != 4 or x.shape[1:] != (c, s, s):
            raise ValueError(
                f"expected frames of shape (B, {c}, {s}, {s}) for this model, got {tuple(x.shape)}; "
                "check image_size and the channel mode of the data"
            )
        if not x.is_floating_point():
            raise ValueError(f"frames must be float in [0, 1], got {x.dtype}; divide uint8 frames by 255")
        if x.numel() and x.device.type == "cpu":  # on a GPU a range check would wait for it at every call (meta: no values)
            low, high = (float(v) for v in torch.aminmax(x.detach()))
            if not (low >= -RANGE_TOLERANCE and high <= 1 + RANGE_TOLERANCE):
                hint = "; divide 0..255 frames by 255" if high > 1.5 else ""
                raise ValueError(f"frames must be float in [0, 1], got min {low:.4g} / max {high:.4g}{hint}")

    def start_from(self, other: "DRNet") -> "DRNet":
        """Copy ``other``'s content encoder, pose encoder and decoder into this model and return it.

        ``other`` is a model of this shape, or, for a ``per_channel`` model, the one-channel model of
        :meth:`DRNetConfig.channel_config` (e.g. a one-digit Moving MNIST model: every channel then starts
        as that model). The scene discriminator is copied when it has the same shape, else kept as it is.
        """
        mine = {**self.config.channel_config().to_dict(), "discriminator_hidden": 0}
        theirs = {**other.config.channel_config().to_dict(), "discriminator_hidden": 0}
        differ = {k: (mine[k], theirs.get(k)) for k in mine if mine[k] != theirs.get(k)}
        if differ or other.config.per_channel != self.config.per_channel and other.config.channels != 1:
            raise ValueError(f"cannot start from this model: its networks differ from ours ({differ or 'per_channel'}; "
                             "ours, theirs per channel); a per_channel model starts from the one-channel model of "
                             "DRNetConfig.channel_config()")
        for name in ("content_encoder", "pose_encoder", "decoder"):
            getattr(self, name).load_state_dict(getattr(other, name).state_dict())
        ours, given = self.scene_discriminator.state_dict(), other.scene_discriminator.state_dict()
        if all(ours[k].shape == given[k].shape for k in ours):
            self.scene_discriminator.load_state_dict(given)
        return self

    def autoencoder_parameters(self) -> list[nn.Parameter]:
        """Parameters of E_c, E_p and D (updated together, against C)."""
        return [p for m in (self.content_encoder, self.pose_encoder, self.decoder) for p in m.parameters()]

    def adversary_parameters(self) -> list[nn.Parameter]:
        """Parameters of C and, if there is one, the scene classifier (updated together, against the encoders)."""
        adversaries = [self.scene_discriminator] + ([self.scene_classifier] if self.scene_classifier is not None else [])
        return [p for m in adversaries for p in m.parameters()]


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
