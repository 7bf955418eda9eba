"""A refusal quotes what a person sent, but never all of a hostile megabyte: the message travels in a
flash cookie (browsers drop one over 4 KB, and the login with it), a WeChat reply and a row report."""

from __future__ import annotations

from app.services.attendance.query import AttendanceError
from app.services.contacts.phones import normalize_phone
from app.services.errors import MAX_QUOTED


def test_a_quoted_parameter_is_cut_to_its_start():
    exc = AttendanceError("date_invalid", value="9" * 100_000)
    assert "9" * MAX_QUOTED + "…" in exc.message and len(exc.message) < MAX_QUOTED + 40
    short = AttendanceError("date_invalid", value="2026-13-01")
    assert short.message == "无法识别日期“2026-13-01”，请按 2026-11-01 的格式填写"


def test_a_garbage_phone_cell_is_named_by_its_start_and_kept_whole():
    garbage = "电话" + "x" * 100_000
    result = normalize_phone(garbage)
    assert result.error == "phone_invalid" and result.raw == garbage
    assert "“电话" + "x" * 38 + "…”" in result.detail and len(result.detail) < 80
