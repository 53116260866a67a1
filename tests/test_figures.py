"""The architecture picture of notebook 00."""
from __future__ import annotations

from drnet_lite.figures import architecture_figure, save_architecture


def test_architecture_names_the_four_networks_and_three_losses(tmp_path):
    fig = architecture_figure()
    texts = " ".join(t.get_text() for t in fig.axes[0].texts)
    for name in ("E_c", "E_p", "decoder", "scene", "L_{rec}", "L_{sim}", "L_{adv}"):
        assert name in texts, name
    path = save_architecture(tmp_path / "figures" / "architecture.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(path.parent.glob("*.tmp"))
