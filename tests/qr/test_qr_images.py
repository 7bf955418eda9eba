"""QR images decode, with a real decoder, to exactly what was encoded."""

from __future__ import annotations

import io
import re

import pytest
import zxingcpp
from PIL import Image, ImageDraw

from app.services.codes.qr_images import qr_png, qr_svg

URL = "https://huiyi.example.gov.cn/m/signin?c=MTG2026A&t=Ab3-_x9QzT0k&src=poster"
# WeChat's longest parametric-QR scene string: 64 chars.
SCENE_64 = ("s:MTG2026A:" + "0123456789abcdefghijklmnopqrstuvwxyz-_ABCDEFGHIJKLMNOPQRSTUVWXYZ")[:64]


def decode(img: Image.Image) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(img, formats=zxingcpp.BarcodeFormat.QRCode)]


@pytest.mark.parametrize("payload", ["HELLO-123", URL, SCENE_64], ids=["ascii", "url", "scene64"])
def test_png_decodes_to_payload(payload: str) -> None:
    img = Image.open(io.BytesIO(qr_png(payload)))
    assert img.format == "PNG"
    assert decode(img) == [payload]


def test_scene_fixture_is_64_chars() -> None:
    assert len(SCENE_64) == 64


def test_png_geometry_follows_box_and_border() -> None:
    img = Image.open(io.BytesIO(qr_png("HELLO", box_px=5, border=4)))
    # Version 1 is 21 modules; plus 4 quiet-zone modules on each side.
    assert img.size == ((21 + 8) * 5, (21 + 8) * 5)
    assert img.getpixel((0, 0)) != 0  # quiet zone is white


def test_png_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError):
        qr_png("")
    with pytest.raises(ValueError):
        qr_png("x", box_px=0)
    with pytest.raises(ValueError):
        qr_png("x", border=-1)


def _rasterize_svg(svg: str, scale: int = 10) -> Image.Image:
    """Draw our SVG's rectangles with Pillow (no SVG renderer needed: the format is ours)."""
    n = int(re.search(r'viewBox="0 0 (\d+) \1"', svg).group(1))  # type: ignore[union-attr]
    img = Image.new("L", (n * scale, n * scale), 255)
    draw = ImageDraw.Draw(img)
    path = re.search(r'<path fill="#000" d="([^"]*)"', svg).group(1)  # type: ignore[union-attr]
    for x, y, w in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\3z", path):
        x0, y0 = int(x) * scale, int(y) * scale
        draw.rectangle((x0, y0, x0 + int(w) * scale - 1, y0 + scale - 1), fill=0)
    return img


@pytest.mark.parametrize("payload", [URL, SCENE_64])
def test_svg_decodes_to_payload(payload: str) -> None:
    svg = qr_svg(payload)
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert 'shape-rendering="crispEdges"' in svg
    assert "width=" not in svg.split(">", 1)[0]  # scales with CSS unless a size is asked for
    assert decode(_rasterize_svg(svg)) == [payload]


def test_svg_size_attribute() -> None:
    assert 'width="60vmin" height="60vmin"' in qr_svg("x", size="60vmin")
