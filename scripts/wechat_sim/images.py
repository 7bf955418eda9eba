"""Real, scannable PNGs: QR codes made with `qrcode`, read back with `zxingcpp`."""

from __future__ import annotations

import io

import qrcode
from PIL import Image
from qrcode import constants as qr_constants


def qr_png(content: str, size: int = 430) -> bytes:
    """A ``size`` x ``size`` PNG QR code of ``content`` (whole-pixel modules, white margin)."""
    code = qrcode.QRCode(error_correction=qr_constants.ERROR_CORRECT_M, border=4, box_size=1)
    code.add_data(content)
    code.make(fit=True)
    modules = code.modules_count + 2 * code.border
    code.box_size = max(1, size // modules)
    img = code.make_image(fill_color="black", back_color="white").get_image().convert("L")
    canvas = Image.new("L", (max(size, img.width), max(size, img.height)), 255)
    canvas.paste(img, ((canvas.width - img.width) // 2, (canvas.height - img.height) // 2))
    out = io.BytesIO()
    canvas.save(out, format="PNG")
    return out.getvalue()


def decode_png(data: bytes) -> str | None:
    """The text of the first QR code in an image, or None."""
    import zxingcpp

    try:
        img = Image.open(io.BytesIO(data))
        img.load()
    except Exception:
        return None
    results = zxingcpp.read_barcodes(img.convert("L"))
    return results[0].text if results else None
