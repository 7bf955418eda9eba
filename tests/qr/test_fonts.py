"""Finding Noto Sans CJK SC: the simplified-Chinese face, a clear error naming the package when it
is missing, and no false friend from fontconfig."""

from __future__ import annotations

import pytest
from PIL import Image, ImageDraw, ImageFont

from app.services import fonts
from app.services.fonts import CjkFontNotFoundError, find_cjk_font


@pytest.mark.parametrize("bold", [False, True])
def test_finds_simplified_chinese_face(bold: bool) -> None:
    f = find_cjk_font(bold)
    font = ImageFont.truetype(str(f.path), 48, index=f.index)
    family, style = font.getname()
    assert family == "Noto Sans CJK SC"
    assert style == ("Bold" if bold else "Regular")
    # Real glyphs, not tofu: different hanzi draw differently (.notdef boxes would all be equal).
    glyphs = []
    for ch in "会易":
        img = Image.new("L", (64, 64), 0)
        ImageDraw.Draw(img).text((8, 4), ch, font=font, fill=255)
        glyphs.append(img.tobytes())
    assert glyphs[0] != glyphs[1] and any(glyphs[0])


def test_missing_font_names_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        fonts, "_KNOWN_PATHS", {False: ("/nonexistent/a.ttc",), True: ("/nonexistent/b.ttc",)}
    )
    monkeypatch.setattr(fonts, "_from_fontconfig", lambda bold: None)
    find_cjk_font.cache_clear()
    try:
        with pytest.raises(CjkFontNotFoundError, match="fonts-noto-cjk"):
            find_cjk_font(True)
    finally:
        find_cjk_font.cache_clear()


def test_fontconfig_fallback_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    """fc-match answers with some font even when Noto is missing; a non-CJK answer is refused."""
    import reportlab

    vera = f"{reportlab.__path__[0]}/fonts/Vera.ttf"
    monkeypatch.setattr(fonts, "_KNOWN_PATHS", {False: (), True: ()})
    monkeypatch.setattr(fonts, "_from_fontconfig", lambda bold: fonts.Path(vera))
    find_cjk_font.cache_clear()
    try:
        with pytest.raises(CjkFontNotFoundError):
            find_cjk_font(False)
    finally:
        find_cjk_font.cache_clear()
