"""QR code images for meeting sign-in: PNG for posters and downloads, SVG for the big screen.

Error correction is M on purpose. Higher levels (Q, H) add modules, so at a fixed display size each
module gets smaller; on a projector seen from the back row, bigger modules scan better than extra
redundancy does. We never overlay a logo on the code, so M's ~15% recovery is enough.
"""

from __future__ import annotations

import io

import qrcode
from qrcode.constants import ERROR_CORRECT_M

# The QR spec asks for a 4-module quiet zone. 2 is the default here because callers place the code on
# a white page or screen that supplies the rest; pass border=4 when the background is unknown.
DEFAULT_BORDER = 2


def _matrix(payload: str, border: int) -> list[list[bool]]:
    if not payload:
        raise ValueError("QR payload must not be empty")
    if border < 0:
        raise ValueError("border must be >= 0")
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=border, box_size=1)
    qr.add_data(payload)
    # fit=True picks the smallest version that holds the payload, keeping modules as big as possible.
    qr.make(fit=True)
    return qr.get_matrix()


def qr_png(payload: str, *, box_px: int = 12, border: int = DEFAULT_BORDER) -> bytes:
    """Render `payload` as a black-on-white PNG with square `box_px`-pixel modules."""
    if box_px < 1:
        raise ValueError("box_px must be >= 1")
    if not payload:
        raise ValueError("QR payload must not be empty")
    if border < 0:
        raise ValueError("border must be >= 0")
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=border, box_size=box_px)
    qr.add_data(payload)
    qr.make(fit=True)
    # A 1-bit image keeps module edges exact and the file tiny; PNG compresses it well.
    img = qr.make_image(fill_color="black", back_color="white").get_image().convert("1")
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def qr_svg(payload: str, *, border: int = DEFAULT_BORDER, size: str | None = None) -> str:
    """Render `payload` as a standalone SVG document.

    The drawing is in module units (viewBox) with no fixed width/height unless `size` is given
    (e.g. "100%" or "60vmin"), so the big-screen page scales it with CSS and it stays sharp at any
    resolution. Horizontal runs of dark modules become one rectangle each, which keeps the path
    short and avoids hairline seams between adjacent modules.
    """
    matrix = _matrix(payload, border)
    n = len(matrix)
    parts: list[str] = []
    for y, row in enumerate(matrix):
        x = 0
        while x < n:
            if row[x]:
                start = x
                while x < n and row[x]:
                    x += 1
                parts.append(f"M{start} {y}h{x - start}v1h-{x - start}z")
            else:
                x += 1
    dims = f' width="{size}" height="{size}"' if size else ""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {n} {n}"{dims} '
        f'shape-rendering="crispEdges">'
        f'<rect width="{n}" height="{n}" fill="#fff"/>'
        f'<path fill="#000" d="{"".join(parts)}"/>'
        "</svg>"
    )
