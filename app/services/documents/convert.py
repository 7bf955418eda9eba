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
(app/jobs.py, one unit of work each, recorded in the database with the upload, so an upload made
while Redis is down converts once the reconciler hands its job over) and tests call them directly.
:func:`conversion_notes` says where a version's conversion really is, for the console.
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
from sqlalchemy import select

from app import jobs
from app.extensions import db
from app.services import storage
from app.services.documents.errors import DocumentError
from app.services.documents.filetypes import detect
from app.services.documents.pdf import (
    PAGE_WIDTH_PX,
    PDFIUM_LOCK,
    open_pdf,
    render_page_png,
)
from models import Document, DocumentVersion, Job

log = logging.getLogger(__name__)

DEFAULT_MAX_PAGES = 1000
DEFAULT_CONVERT_TIMEOUT_S = 120
RENDER_CHUNK = 4  # small: a new upload waits behind at most one chunk of another
CONVERT_KIND = "document_convert"
RENDER_KIND = "document_render"

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
        _schedule(render_pages, version_id, 2, min(pages, 1 + RENDER_CHUNK), kind=RENDER_KIND,
                  meeting_id=_meeting_of(version))


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
        _schedule(render_pages, version_id, end + 1, min(version.page_count, end + RENDER_CHUNK), kind=RENDER_KIND,
                  meeting_id=_meeting_of(version))


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


def _meeting_of(version: DocumentVersion) -> int | None:
    return db.session.scalar(select(Document.meeting_id).where(Document.id == version.document_id))


def _schedule(func, *args, kind: str, actor: str = jobs.SYSTEM_ACTOR, meeting_id: int | None = None) -> None:
    """Record ``func(*args)`` as a job, queued after commit; without the queue, the caller runs it."""
    if not current_app.config.get("DOCUMENT_JOBS", True):
        return
    jobs.submit(kind, func, *args, actor=actor, meeting_id=meeting_id)


def schedule_conversion(version_id: int, *, actor: str = jobs.SYSTEM_ACTOR, meeting_id: int | None = None) -> None:
    _schedule(convert_version, version_id, kind=CONVERT_KIND, actor=actor, meeting_id=meeting_id)


def _note(job: Job) -> str | None:
    work = "转换" if job.kind == CONVERT_KIND else "生成预览"
    if job.state == "queued":
        return f"已记录，等待任务队列恢复后{work}" if job.enqueued_at is None else f"排队等待{work}"
    if job.state == "running" and job.kind == CONVERT_KIND:
        return "正在转换…"
    if job.state == "failed":
        return f"{work}中断：{job.error_message or jobs.JOB_FAILED_MESSAGE}"
    return None


def conversion_notes(meeting_id: int) -> dict[int, str]:
    """Version id -> where its conversion job really is (queued, waiting for the queue, running,
    failed), from the newest conversion or rendering job of each version of the meeting."""
    latest: dict[int, Job] = {}
    for job in db.session.scalars(select(Job).where(Job.meeting_id == meeting_id,
                                                    Job.kind.in_((CONVERT_KIND, RENDER_KIND))).order_by(Job.id)):
        if job.args:
            latest[int(job.args[0])] = job
    notes = {version_id: _note(job) for version_id, job in latest.items()}
    return {version_id: note for version_id, note in notes.items() if note}
