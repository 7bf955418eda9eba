"""The reports' CJK font: the cached TrueType conversion serves ordinary text; a character beyond
its coverage (a CJK Compatibility Ideograph such as 﨑, used in some names) gets a font of the
report's own characters, and both come back from the PDF as the same text.

Known limit: a character beyond the Basic Multilingual Plane (CJK Extension B and later) is drawn,
but reportlab writes its text mapping in 16 bits, so an extractor reads a wrong character back."""

from __future__ import annotations

from app.services.reports import pdffont
from app.services.reports.export import export
from tests.reports.helpers import pdf_text


def test_cached_face_covers_the_usual_characters():
    assert pdffont.register("签到表會議①％（）ABC") == "HuiyiCJK-R"
    assert pdffont.register("签到表", bold=True) == "HuiyiCJK-B"
    assert pdffont.cached_font_file(False).is_file()


def test_a_rare_character_gets_its_own_font_and_reads_back(db, factory, scene):
    rare = "\uFA11"  # 﨑: a CJK Compatibility Ideograph, in Noto Sans CJK SC, beyond the cached coverage
    assert pdffont.register({"王", rare}).startswith("HuiyiCJK-R-")
    person = scene.people["b3"]
    person.name = f"孙{rare}三"
    db.session.commit()
    text = pdf_text(export(scene.meeting, "signin_sheet", "pdf", actor="test").data)
    assert f"孙{rare}三" in text and "张发一" in text
