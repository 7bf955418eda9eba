"""``flask reports attendance``: the file written whole, --json, bad input refused in Chinese with
nothing written."""

from __future__ import annotations

import io
import json

import openpyxl
import pypdfium2 as pdfium
import pytest

from app.services.attendance import export as ex


@pytest.fixture
def cli_now(monkeypatch):
    """The CLI reads the real clock; the set's meetings are all in the past of it anyway (Nov 2026)
    except MT5, which the CLI at any later time counts as over: pin the clock to the set's."""
    from app.cli import attendance as cli
    from tests.attendance.conftest import NOW

    class Clock:
        @staticmethod
        def now(tz=None):
            return NOW

    monkeypatch.setattr(cli, "datetime", Clock)


def invoke(runner, *args):
    return runner.invoke(args=["reports", "attendance", *args])


def test_xlsx_with_json(runner, att, cli_now, tmp_path):
    out = tmp_path / "kq.xlsx"
    result = invoke(runner, "--from", "2026-11-01", "--to", "2026-11-30", "--format", "xlsx", "--output", str(out),
                    "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["file"] == str(out) and data["meetings"] == 4 and data["people"] == 5
    assert data["total"]["invited"] == 12 and data["total"]["attended"] == 8
    assert {u["unit"]: u["rate"] for u in data["units"]} == {"FGJ": 83.3, "CZJ": 60.0}
    wb = openpyxl.load_workbook(io.BytesIO(out.read_bytes()))
    rows = [r for r in wb["按人员"].iter_rows(min_row=ex.HEADER_ROW + 1, values_only=True) if isinstance(r[0], int)]
    assert [r[1] for r in rows] == ["张一", "张二", "张三", "李一", "李二"]


def test_pdf_for_one_unit(runner, att, cli_now, tmp_path):
    out = tmp_path / "kq.pdf"
    result = invoke(runner, "--from", "2026-11-01", "--to", "2026-11-30", "--unit", "CZJ", "--format", "pdf",
                    "--output", str(out))
    assert result.exit_code == 0, result.output
    assert "已写入" in result.output and "人员 2 人" in result.output
    text = pdfium.PdfDocument(out.read_bytes())[0].get_textpage().get_text_range()
    assert "李一" in text and "张一" not in text and "单位：区财政局" in text


@pytest.mark.parametrize(("args", "code", "words"), [
    (["--from", "2026-11-01", "--to", "2026-11-30", "--format", "docx"], "format_invalid", "xlsx 或 pdf"),
    (["--to", "2026-11-30", "--format", "xlsx"], "date_missing", "开始日期"),
    (["--from", "2026-11-40", "--to", "2026-11-30", "--format", "xlsx"], "date_invalid", "无法识别日期"),
    (["--from", "2026-12-01", "--to", "2026-11-30", "--format", "xlsx"], "range_reversed", "晚于"),
    (["--from", "2026-11-01", "--to", "2026-11-30", "--format", "xlsx", "--unit", "NOPE"], "unit_not_found", "找不到单位"),
    (["--meeting", "NOPE1", "--format", "xlsx"], "meeting_not_found", "找不到会议"),
    (["--meeting", "MT5", "--format", "xlsx"], "meeting_not_over", "尚未结束"),
    (["--from", "2026-11-01", "--to", "2026-11-30", "--format", "xlsx", "--output", "/nonexistent/dir/x.xlsx"],
     "output_invalid", "无法写入文件"),
])
def test_bad_input_refused_in_chinese_nothing_written(runner, att, cli_now, tmp_path, args, code, words):
    out = tmp_path / "kq.xlsx"
    if "--output" not in args:
        args = [*args, "--output", str(out)]
    result = invoke(runner, *args, "--json")
    assert result.exit_code == 1
    assert json.loads(result.output.splitlines()[0])["error"]["code"] == code
    assert words in result.output
    assert list(tmp_path.iterdir()) == []


def test_output_is_required(runner, att, cli_now):
    result = invoke(runner, "--from", "2026-11-01", "--to", "2026-11-30", "--format", "xlsx")
    assert result.exit_code == 1 and "--output" in result.output
