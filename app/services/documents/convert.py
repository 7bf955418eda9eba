"""Turn an uploaded document into page images for phones.

Office files go to PDF with LibreOffice headless (a fresh profile per conversion, killed on
timeout, one conversion at a time in this process so a huge file cannot starve the machine); images
become a one-page PDF; pypdfium2 (Apache-2.0/BSD, Google's PDFium) renders pages to PNG at phone
width. The first page is rendered in the conversion job itself, so it is viewable at once; the
rest follow in chunked jobs that advance ``pages_ready``. A page asked for before its job ran is
rendered on demand.

Every failure ends as ``status = failed`` with a stable ``error_code`` and a Chinese message on the
version; nothing a hostile file does escapes as an exception from :func:`convert_version`.

:func:`convert_version` and :func:`render_pages` are plain functions: the job queue runs them
(app/jobs.py, one unit of work each) and tests call them directly.
"""

from __future__ import annotations

import io
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import threading
from pathlib import Path

import pypdfium2 as pdfium
from flask import current_app

from app.extensions import db
from app.jobs import enqueue_after_commit
from app.services import storage
from app.services.documents.errors import DocumentError
from app.services.documents.filetypes import detect
from app.services.documents.pdf import (
    PAGE_WIDTH_PX,
    PDFIUM_LOCK,
    open_pdf,
    render_page_png,
)
from models import DocumentVersion

log = logging.getLogger(__name__)

DEFAULT_MAX_PAGES = 1000
DEFAULT_CONVERT_TIMEOUT_S = 120
RENDER_CHUNK = 4  # small: a new upload waits behind at most one chunk of another

#: One LibreOffice conversion at a time per worker process.
CONVERT_SLOTS = threading.BoundedSemaphore(1)


def _config(name: str, default: int) -> int:
    try:
        return int(current_app.config.get(name, default))
    except RuntimeError:  # outside an app context (benchmarks, scripts)
        return default


def page_name(page: int) -> str:
    return f"page-{page:05d}-w{PAGE_WIDTH_PX}.png"


# --- Office and images to PDF --------------------------------------------------------------------

def soffice_binary() -> str:
    binary = shutil.which("soffice") or shutil.which("libreoffice")
    if binary is None:
        raise DocumentError("convert_failed")
    return binary


def office_to_pdf(data: bytes, kind: str, *, timeout_s: int | None = None) -> bytes:
    """Convert an Office file with LibreOffice headless; ``convert_timeout`` kills the whole process
    group (soffice forks oosplash + soffice.bin)."""
    timeout_s = timeout_s or _config("DOCUMENT_CONVERT_TIMEOUT_S", DEFAULT_CONVERT_TIMEOUT_S)
    with CONVERT_SLOTS, tempfile.TemporaryDirectory(prefix="huiyi-lo-") as tmp:
        work = Path(tmp)
        source = work / f"source.{kind}"
        source.write_bytes(data)
        outdir = work / "out"
        # A profile of its own per conversion: parallel workers never share (and lock) one, and a
        # crashed conversion cannot leave a poisoned profile behind for the next.
        profile = work / "profile"
        cmd = [soffice_binary(), f"-env:UserInstallation={profile.as_uri()}", "--headless", "--invisible",
               "--nologo", "--norestore", "--nodefault", "--nolockcheck", "--nofirststartwizard",
               "--convert-to", "pdf", "--outdir", str(outdir), str(source)]
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(work), "LANG": "zh_CN.UTF-8",
               "TMPDIR": str(work)}
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=env, cwd=work, start_new_session=True)
        try:
            _out, err = proc.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise DocumentError("convert_timeout", seconds=timeout_s) from None
        finally:
            if proc.poll() is None:
                _kill_group(proc)
        result = outdir / "source.pdf"
        if proc.returncode != 0 or not result.is_file() or result.stat().st_size == 0:
            log.warning("LibreOffice failed (rc=%s): %s", proc.returncode, err[-500:].decode("utf-8", "replace"))
            raise DocumentError("convert_failed")
        return result.read_bytes()


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.communicate()


def image_to_pdf(data: bytes) -> bytes:
    from PIL import Image, ImageOps

    try:
        with Image.open(io.BytesIO(data)) as img:
            img = ImageOps.exif_transpose(img).convert("RGB")
            buf = io.BytesIO()
            img.save(buf, "PDF", resolution=150)
    except Exception:
        raise DocumentError("convert_failed") from None
    return buf.getvalue()


def to_pdf(data: bytes) -> bytes:
    """Any accepted upload as PDF bytes (a PDF is returned as is)."""
    doc_type = detect(data)  # again: the job trusts nothing the upload step said
    if doc_type.kind == "pdf":
        return data
    if doc_type.is_image:
        return image_to_pdf(data)
    return office_to_pdf(data, doc_type.kind)


# --- The jobs ------------------------------------------------------------------------------------

def _fail(version: DocumentVersion, code: str, message: str) -> None:
    version.status = "failed"
    version.error_code = code
    version.error_message = message[:500]


def _record_failure(version: DocumentVersion, exc: Exception, fallback: DocumentError, context: str) -> None:
    """Store why a version failed. A hostile or broken file must never take the worker down or leave
    the version in progress: a known error keeps its message; anything else is logged (call this
    from the ``except`` block) and stored as ``fallback``."""
    if not isinstance(exc, DocumentError):
        log.exception(context)
        exc = fallback
    _fail(version, exc.code, exc.message)
    db.session.flush()


def convert_version(version_id: int) -> None:
    """Convert one version to PDF, check it, render page 1, then queue the rest."""
    version = db.session.get(DocumentVersion, version_id)
    if version is None or version.status not in {"pending", "converting"}:
        return  # deleted, or a retried job for work already done
    version.status = "converting"
    try:
        pdf_bytes = to_pdf(storage.read_blob(version.sha256))
        pdf = open_pdf(pdf_bytes)
        try:
            with PDFIUM_LOCK:
                pages = len(pdf)
            limit = _config("DOCUMENT_MAX_PAGES", DEFAULT_MAX_PAGES)
            if pages == 0:
                raise DocumentError("pdf_empty")
            if pages > limit:
                raise DocumentError("too_many_pages", pages=pages, limit=limit)
            pdf_sha = storage.put(pdf_bytes)
            _render_one(pdf, pdf_sha, 1)
        finally:
            with PDFIUM_LOCK:
                pdf.close()
    except Exception as exc:
        _record_failure(version, exc, DocumentError("internal"), f"document version {version_id} failed to convert")
        return
    version.pdf_sha256 = pdf_sha
    version.page_count = pages
    version.pages_ready = 1
    version.status = "ready" if pages == 1 else "rendering"
    db.session.flush()
    if pages > 1:
        _schedule(render_pages, version_id, 2, min(pages, 1 + RENDER_CHUNK))


def render_pages(version_id: int, start: int, end: int) -> None:
    """Render pages ``start..end`` (1-based, inclusive), advance ``pages_ready``, queue the next chunk."""
    version = db.session.get(DocumentVersion, version_id)
    if version is None or version.pdf_sha256 is None or version.status == "failed":
        return
    end = min(end, version.page_count or 0)
    try:
        pdf = open_pdf(storage.read_blob(version.pdf_sha256))
        try:
            for page in range(start, end + 1):
                _render_one(pdf, version.pdf_sha256, page)
        finally:
            with PDFIUM_LOCK:
                pdf.close()
    except Exception as exc:
        _record_failure(version, exc, DocumentError("render_failed", page=start),
                        f"document version {version_id}: pages {start}-{end} failed to render")
        return
    version.pages_ready = max(version.pages_ready or 0, end)
    if version.pages_ready >= (version.page_count or 0):
        version.status = "ready"
    db.session.flush()
    if end < (version.page_count or 0):
        _schedule(render_pages, version_id, end + 1, min(version.page_count, end + RENDER_CHUNK))


def _render_one(pdf: pdfium.PdfDocument, pdf_sha: str, page: int) -> bytes:
    store = storage.get_storage()
    cached = store.read_derived(pdf_sha, page_name(page))
    if cached is not None:
        return cached
    png = render_page_png(pdf, page - 1)
    store.put_derived(pdf_sha, page_name(page), png)
    return png


def page_png(version: DocumentVersion, page: int) -> bytes:
    """The plain render of ``page`` (1-based): from storage, or rendered now if its job has not run."""
    if version.pdf_sha256 is None or not 1 <= page <= (version.page_count or 0):
        raise DocumentError("page_missing")
    cached = storage.get_storage().read_derived(version.pdf_sha256, page_name(page))
    if cached is not None:
        return cached
    pdf = open_pdf(storage.read_blob(version.pdf_sha256))
    try:
        return _render_one(pdf, version.pdf_sha256, page)
    finally:
        with PDFIUM_LOCK:
            pdf.close()


def process_version(version_id: int) -> None:
    """Convert and render every page now, in this thread (tests, benchmarks, CLI)."""
    convert_version(version_id)
    version = db.session.get(DocumentVersion, version_id)
    if version is not None and version.status == "rendering":
        render_pages(version_id, 2, version.page_count)


def _schedule(func, *args) -> None:
    """Queue ``func(*args)`` after commit on the job queue; without one, the caller runs it."""
    if not current_app.config.get("DOCUMENT_JOBS", True):
        return
    enqueue_after_commit(func, *args)


def schedule_conversion(version_id: int) -> None:
    _schedule(convert_version, version_id)
