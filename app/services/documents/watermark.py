"""The viewer's name and phone tail, tiled diagonally over every page image, drawn on the server.

Drawn into the pixels (not an HTML overlay), so a screenshot or a saved image still says who it was
shown to. Each (page, viewer) result is cached in Redis for a few minutes: a reader flicking back
and forth costs one render. The cache is only ever read after the access check of the request
(recall included), so it can never outlive a refusal.
"""

from __future__ import annotations

import hashlib
import io
import math
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

from app.extensions import get_redis
from app.services.fonts import find_cjk_font
from models import Contact

CACHE_TTL_S = 300
#: Deep red at about a fifth opacity: readable over text, never hiding it.
INK = (176, 24, 24, 54)
ANGLE_DEG = 30


def viewer_text(contact: Contact) -> str:
    """e.g. "张三 8000": enough to name the person, not their whole phone number."""
    digits = "".join(ch for ch in (contact.phone or "") if ch.isdigit())
    return f"{contact.name} {digits[-4:]}".strip()


@lru_cache(maxsize=8)
def _font(size_px: int) -> ImageFont.FreeTypeFont:
    font = find_cjk_font(False)
    return ImageFont.truetype(str(font.path), size_px, index=font.index)


@lru_cache(maxsize=16)
def _overlay(width: int, height: int, text: str) -> Image.Image:
    """A transparent layer the size of the page with the text tiled on a rotated grid."""
    size = max(18, width // 24)
    font = _font(size)
    left, top, right, bottom = font.getbbox(text)
    tile = Image.new("RGBA", (right - left + size * 3, bottom - top + size * 3), (0, 0, 0, 0))
    ImageDraw.Draw(tile).text((size * 1.5 - left, size * 1.5 - top), text, font=font, fill=INK)
    tile = tile.rotate(ANGLE_DEG, expand=True, resample=Image.Resampling.BICUBIC)
    layer = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    step_x = tile.width
    step_y = max(tile.height * 2 // 3, 1)
    rows = math.ceil(height / step_y) + 1
    for row in range(-1, rows):
        offset = (step_x // 2) if row % 2 else 0  # stagger rows, a brick pattern
        for x in range(-step_x + offset, width + step_x, step_x):
            layer.alpha_composite(tile, (max(x, 0), max(row * step_y, 0)),
                                  (max(-x, 0), max(-row * step_y, 0)))
    return layer


def apply_watermark(png: bytes, text: str) -> bytes:
    with Image.open(io.BytesIO(png)) as img:
        base = img.convert("RGBA")
    base.alpha_composite(_overlay(base.width, base.height, text))
    buf = io.BytesIO()
    base.convert("RGB").save(buf, "PNG", compress_level=3)
    return buf.getvalue()


def _cache_key(pdf_sha: str, page: int, contact: Contact, text: str) -> str:
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    return f"docwm:{pdf_sha}:{page}:{contact.id}:{digest}"


def watermarked_page(pdf_sha: str, page: int, contact: Contact, plain_png) -> bytes:
    """The page as ``contact`` sees it; ``plain_png()`` gives the unmarked render on a cache miss."""
    text = viewer_text(contact)
    key = _cache_key(pdf_sha, page, contact, text)
    redis = get_redis()
    try:
        cached = redis.get(key)
    except Exception:  # Redis is a cache here: losing it only costs a render
        cached = None
    if cached:
        return bytes(cached)
    marked = apply_watermark(plain_png(), text)
    try:
        redis.set(key, marked, ex=CACHE_TTL_S)
    except Exception:
        pass
    return marked
