"""Finding the CJK font (Noto Sans CJK SC) that every picture with Chinese text is drawn in: the
posters, the watermark on document pages."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import ImageFont


class CjkFontNotFoundError(RuntimeError):
    """Noto Sans CJK is not installed (Debian/Ubuntu package: fonts-noto-cjk)."""


@dataclass(frozen=True)
class CjkFont:
    path: Path
    index: int  # face index inside a .ttc collection (0 for plain .otf/.ttf)


# Known locations first (fast, no subprocess): Debian/Ubuntu fonts-noto-cjk, Fedora, Arch, and
# the single-language OTFs some distributions and manual installs use.
_KNOWN_PATHS: dict[bool, tuple[str, ...]] = {
    False: (
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf",
        "/usr/share/fonts/noto-cjk/NotoSansCJKsc-Regular.otf",
    ),
    True: (
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
        "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Bold.ttc",
        "/usr/share/fonts/noto-cjk/NotoSansCJK-Bold.ttc",
        "/usr/share/fonts/opentype/noto/NotoSansCJKsc-Bold.otf",
        "/usr/share/fonts/noto-cjk/NotoSansCJKsc-Bold.otf",
    ),
}


def _sc_face_index(path: Path) -> int | None:
    """Index of the 'Noto Sans CJK SC' face in `path`, or None if the file has none.

    We look the face up by name instead of hard-coding Debian's index 2: the order inside the
    collection differs between releases, and the JP face (index 0) draws some hanzi with Japanese
    glyph shapes.
    """
    for index in range(16):
        try:
            family, _style = ImageFont.truetype(str(path), 12, index=index).getname()
        except OSError:
            break  # past the last face (or not a font at all)
        if family and family.startswith("Noto Sans CJK SC"):
            return index
    return None


def _from_fontconfig(bold: bool) -> Path | None:
    if shutil.which("fc-match") is None:
        return None
    pattern = "Noto Sans CJK SC:bold" if bold else "Noto Sans CJK SC:regular"
    try:
        out = subprocess.run(
            ["fc-match", "-f", "%{file}", pattern], capture_output=True, text=True, timeout=5, check=False
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    # fc-match always answers with *something* (often DejaVu, which has no hanzi and would print
    # tofu); _sc_face_index below rejects anything that is not really Noto Sans CJK SC.
    return Path(out) if out else None


@lru_cache(maxsize=2)
def find_cjk_font(bold: bool = False) -> CjkFont:
    """Locate Noto Sans CJK SC (regular or bold) or raise CjkFontNotFoundError."""
    candidates = [Path(p) for p in _KNOWN_PATHS[bold]]
    fc = _from_fontconfig(bold)
    if fc is not None:
        candidates.append(fc)
    for path in candidates:
        if path.is_file():
            index = _sc_face_index(path)
            if index is not None:
                return CjkFont(path, index)
    weight = "Bold" if bold else "Regular"
    raise CjkFontNotFoundError(
        f"Noto Sans CJK SC {weight} not found (looked in {', '.join(_KNOWN_PATHS[bold][:1])}, "
        "other known paths and fontconfig). Install it: apt-get install fonts-noto-cjk"
    )
