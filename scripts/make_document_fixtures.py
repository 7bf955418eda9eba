"""Make the Word and PowerPoint fixtures of the document tests with LibreOffice itself.

    .venv/bin/python -m scripts.make_document_fixtures [--out tests/fixtures/documents]

Flat-XML OpenDocument sources (.fodt/.fodp, written here as text) are converted by
``soffice --headless --convert-to docx|pptx``, so the fixtures are real Office files as LibreOffice
writes them, with Chinese text the tests look for after conversion.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from pathlib import Path
from xml.sax.saxutils import escape

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "documents"

NS = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
      'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
      'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
      'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
      'xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" '
      'xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" '
      'xmlns:presentation="urn:oasis:names:tc:opendocument:xmlns:presentation:1.0" '
      'office:version="1.2"')

REPORT_TITLE = "关于2027年度重点项目推进工作的报告"
REPORT_PAGES = [
    ["一、总体情况", "今年以来，全区上下坚持稳中求进工作总基调，重点项目建设取得明显成效。"],
    ["二、存在问题", "部分项目前期工作推进缓慢，要素保障仍需加强。"],
]
SLIDES_TITLE = "全区经济工作会议"


def fodt(title: str, pages: list[list[str]]) -> str:
    body = [f'<text:h text:outline-level="1">{escape(title)}</text:h>']
    for i, paragraphs in enumerate(pages):
        for j, para in enumerate(paragraphs):
            style = ' text:style-name="Break"' if i > 0 and j == 0 else ""
            body.append(f"<text:p{style}>{escape(para)}</text:p>")
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<office:document {NS} '
            'office:mimetype="application/vnd.oasis.opendocument.text">'
            '<office:automatic-styles><style:style style:name="Break" style:family="paragraph">'
            '<style:paragraph-properties fo:break-before="page"/></style:style></office:automatic-styles>'
            f'<office:body><office:text>{"".join(body)}</office:text></office:body></office:document>')


def slide_texts(count: int) -> list[tuple[str, str]]:
    slides = [(SLIDES_TITLE, "第一议题：传达学习上级会议精神")]
    for n in range(2, count + 1):
        slides.append((f"第{n}部分 重点工作安排", f"推进项目建设，优化营商环境（第 {n} 页）"))
    return slides


def fodp(slides: list[tuple[str, str]]) -> str:
    pages = []
    for n, (title, line) in enumerate(slides, start=1):
        pages.append(
            f'<draw:page draw:name="page{n}">'
            '<draw:frame svg:x="2cm" svg:y="2cm" svg:width="24cm" svg:height="3cm"><draw:text-box>'
            f'<text:p>{escape(title)}</text:p></draw:text-box></draw:frame>'
            '<draw:frame svg:x="2cm" svg:y="7cm" svg:width="24cm" svg:height="6cm"><draw:text-box>'
            f'<text:p>{escape(line)}</text:p></draw:text-box></draw:frame></draw:page>')
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<office:document {NS} '
            'office:mimetype="application/vnd.oasis.opendocument.presentation">'
            f'<office:body><office:presentation>{"".join(pages)}</office:presentation></office:body>'
            '</office:document>')


#: LibreOffice's PDF export encrypts with an open password when given these filter options.
ENCRYPTED_PDF = ('pdf:writer_pdf_Export:{"EncryptFile":{"type":"boolean","value":"true"},'
                 '"DocumentOpenPassword":{"type":"string","value":"secret"}}')


def convert(source: Path, fmt: str, outdir: Path) -> Path:
    binary = shutil.which("soffice") or shutil.which("libreoffice")
    if binary is None:
        raise SystemExit("LibreOffice (soffice) is required: apt-get install libreoffice")
    with tempfile.TemporaryDirectory(prefix="huiyi-fixtures-") as profile:
        subprocess.run([binary, f"-env:UserInstallation={Path(profile).as_uri()}", "--headless", "--norestore",
                        "--convert-to", fmt, "--outdir", str(outdir), str(source)],
                       check=True, capture_output=True, timeout=180)
    return outdir / f"{source.stem}.{fmt.split(':', 1)[0]}"


def make_pptx(path: Path, slides: int) -> Path:
    """A pptx of ``slides`` slides at ``path`` (the benchmark uses this for its 30-slide deck)."""
    with tempfile.TemporaryDirectory(prefix="huiyi-src-") as tmp:
        source = Path(tmp) / f"{path.stem}.fodp"
        source.write_text(fodp(slide_texts(slides)), encoding="utf-8")
        made = convert(source, "pptx", Path(tmp))
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(made, path)
    return path


def make_docx(path: Path) -> Path:
    with tempfile.TemporaryDirectory(prefix="huiyi-src-") as tmp:
        source = Path(tmp) / f"{path.stem}.fodt"
        source.write_text(fodt(REPORT_TITLE, REPORT_PAGES), encoding="utf-8")
        made = convert(source, "docx", Path(tmp))
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(made, path)
    return path


def make_encrypted_pdf(path: Path) -> Path:
    """A PDF that needs the password "secret" to open."""
    with tempfile.TemporaryDirectory(prefix="huiyi-src-") as tmp:
        source = Path(tmp) / f"{path.stem}.fodt"
        source.write_text(fodt(REPORT_TITLE, REPORT_PAGES[:1]), encoding="utf-8")
        made = convert(source, ENCRYPTED_PDF, Path(tmp))
        shutil.move(made, path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    print(make_docx(args.out / "report.docx"))
    print(make_pptx(args.out / "slides.pptx", 3))
    print(make_encrypted_pdf(args.out / "password-secret.pdf"))


if __name__ == "__main__":
    main()
