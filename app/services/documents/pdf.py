"""Reading PDFs with PDFium: opening one (refusing a password or a broken file) and rendering a
page to PNG. Shared by the upload check (``documents.filetypes``) and the conversion
(``documents.convert``)."""

from __future__ import annotations

import io
import threading

import pypdfium2 as pdfium

from app.services.documents.errors import DocumentError

PAGE_WIDTH_PX = 1080
#: Tall pages (a long image, a banner) are capped so one page cannot become a 100-megapixel bitmap.
MAX_PAGE_HEIGHT_PX = 4 * PAGE_WIDTH_PX

#: PDFium is not thread-safe: every call into it in this process goes through this lock.
PDFIUM_LOCK = threading.RLock()


def open_pdf(data: bytes) -> pdfium.PdfDocument:
    """Open PDF bytes, or raise ``pdf_encrypted`` / ``pdf_broken``. Caller holds or takes the lock."""
    with PDFIUM_LOCK:
        try:
            return pdfium.PdfDocument(data)
        except pdfium.PdfiumError as exc:
            if getattr(exc, "err_code", None) == pdfium.raw.FPDF_ERR_PASSWORD:
                raise DocumentError("pdf_encrypted") from None
            raise DocumentError("pdf_broken") from None


def render_page_png(pdf: pdfium.PdfDocument, index: int, *, width_px: int = PAGE_WIDTH_PX) -> bytes:
    """Page ``index`` (0-based) as a PNG ``width_px`` wide on white."""
    with PDFIUM_LOCK:
        page = pdf[index]
        try:
            w_pt, h_pt = page.get_size()
            scale = width_px / max(w_pt, 1.0)
            if h_pt * scale > MAX_PAGE_HEIGHT_PX:
                scale = MAX_PAGE_HEIGHT_PX / max(h_pt, 1.0)
            bitmap = page.render(scale=scale, fill_color=(255, 255, 255, 255), may_draw_forms=True)
            image = bitmap.to_pil().convert("RGB")
        finally:
            page.close()
    buf = io.BytesIO()
    # Stored renders are a cache: fast compression; the served (watermarked) copy is compressed better.
    image.save(buf, "PNG", compress_level=1)
    return buf.getvalue()
