"""Badges (issue 18): 1,000 badges printed as one PDF, with their personal QR codes, with and without photos.

    taskset -c 0,1 .venv/bin/python -m scripts.bench.bench_badges [--people 1000] [--runs 3] [--keep-db] [--json]

1. Creates a database of its own (``huiyi_bench_badges``, dropped afterwards unless ``--keep-db``) and
   a storage folder of its own (temporary), runs the migrations and seeds with bulk SQL: 30 units,
   ``people`` contacts with names drawn from about 2,800 distinct hanzi (a real directory's spread,
   which the PDF's font subset pays for) and 职务, every role, 20 delegations; two meetings of them
   all: one with no photos, one where each person's approved registration carries a photo of their
   own (a 600 × 800 JPEG, ~40 KB, as a phone's upload resized by the registration form would be).
2. Times, in this process, what the console's print job does (``badges.print_job``: the roster,
   the signed personal codes, every card's QR, the photos opened and checked, the PDF, into storage,
   the audit row): the small badge (10 a sheet) without photos and with photos, and the large
   代表证 (2 a sheet) with photos, ``--runs`` times each. A size's first run with photos opens and
   scales every upload (cold); later runs find them scaled beside their blobs (warm).
3. Reads the files back: page count, every 50th name as text (pdfium), and the QR codes of a page
   decoded by zxing-cpp (when installed) against the people's codes.

Target (issue 18): 1,000 badges as PDF in under 20 s on this 2-core machine, worst run.
"""

from __future__ import annotations

import io
import random
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from scripts.bench import logistics_common as common
from scripts.bench.logistics_common import person_name as _name
from scripts.bench.logistics_common import say as _say

TARGET_S = 20.0


@dataclass
class Report:
    people: int
    runs: dict[str, list[float]]
    pages: dict[str, int]
    mbytes: dict[str, float]
    photos_skipped: dict[str, int]
    names_ok: bool
    qr_checked: int
    qr_ok: bool | None
    machine: dict
    targets: dict = field(default_factory=dict)


def _photo(rng: random.Random, grain) -> bytes:
    """A portrait-like JPEG of its own: a plain background, a head and shoulders in random tones, the
    grain of a phone's camera (so it weighs what a photo does, ~40 KB)."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (600, 800), tuple(rng.randrange(160, 240) for _ in range(3)))
    draw = ImageDraw.Draw(img)
    draw.ellipse((190 + rng.randrange(-20, 20), 140, 410, 420), fill=tuple(rng.randrange(150, 230) for _ in range(3)))
    draw.rectangle((110, 480 + rng.randrange(-20, 20), 490, 800), fill=tuple(rng.randrange(20, 90) for _ in range(3)))
    img = Image.blend(img, grain, 0.10)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=82)
    return out.getvalue()


def seed(app, people: int) -> dict[str, int]:
    from app.extensions import db
    from app.services import storage
    from app.services.meetings.meetings import create_meeting
    from models.registrations import Registration, RegistrationForm

    with app.app_context():
        ids = common.seed_directory(people, "BU")
        starts = datetime.now(UTC) + timedelta(days=1)
        meetings = {}
        for key, title in (("plain", "2026年全市经济工作会议"), ("photos", "市第十五届人民代表大会第三次会议")):
            meeting = create_meeting(f"BADGE{key[:2].upper()}", title, actor="bench", starts_at=starts,
                                     ends_at=starts + timedelta(hours=6), publish=True)
            common.invite(meeting.id, ids, [f"第{i % 20 + 1}代表团" for i in range(people)])
            meetings[key] = meeting.id
        form = RegistrationForm(meeting_id=meetings["photos"], title="代表报名", role="代表")
        db.session.add(form)
        db.session.flush()
        from PIL import Image

        rng = random.Random(18)
        grain = Image.effect_noise((600, 800), 40).convert("RGB")
        t0 = time.perf_counter()
        keys = [storage.put(_photo(rng, grain)) for _ in range(people)]
        _say(f"{people} photos made and stored in {time.perf_counter() - t0:.1f} s")
        db.session.execute(sa.insert(Registration), [
            {"meeting_id": meetings["photos"], "form_id": form.id, "batch": f"b{i}", "submitted_by": "bench",
             "status": "approved", "name": _name(i), "phone": f"139{i:08d}", "contact_id": c, "photo": keys[i],
             "unit_name": "", "title": "", "diet": [], "answers": {}, "tags": [],
             "group_name": f"第{i % 20 + 1}代表团"} for i, c in enumerate(ids)])
        common.analyze()
        db.session.remove()
    return meetings


def time_prints(app, meetings: dict[str, int], people: int, runs: int) -> dict:
    import pypdfium2 as pdfium

    from app.extensions import db
    from app.services import storage
    from app.services.logistics import badges
    from app.services.signin.personal_codes import personal_codes_of
    from models import Meeting

    cases = {"small, no photos": ("plain", "small"), "small, with photos": ("photos", "small"),
             "large 代表证, with photos": ("photos", "large")}
    out: dict = {"runs": {}, "pages": {}, "mbytes": {}, "photos_skipped": {}, "names_ok": True, "qr_checked": 0,
                 "qr_ok": None}
    with app.app_context():
        for label, (key, size) in cases.items():
            out["runs"][label] = []
            for _ in range(runs):
                t0 = time.perf_counter()
                result = badges.print_job(meetings[key], {"size": size}, "bench")
                db.session.commit()
                out["runs"][label].append(round(time.perf_counter() - t0, 2))
                db.session.expunge_all()
                _say(f"{label}: {out['runs'][label][-1]:.2f} s")
            data = storage.read_blob(result["sha"])
            doc = pdfium.PdfDocument(data)
            pages = len(doc)
            text = "".join(doc[i].get_textpage().get_text_range() for i in range(pages))
            out["pages"][label], out["mbytes"][label] = pages, round(len(data) / 1e6, 2)
            out["photos_skipped"][label] = len(result["notes"])
            out["names_ok"] &= result["count"] == people and all(_name(i) in text for i in range(0, people, 50))
            try:
                import zxingcpp
            except ImportError:
                zxingcpp = None
            if zxingcpp is not None:
                found = {r.text for r in zxingcpp.read_barcodes(doc[0].render(scale=300 / 72).to_pil().convert("L"))}
                meeting = db.session.get(Meeting, meetings[key])
                codes = set(personal_codes_of(meeting, [int(c) for c in result["printed"]]).values())
                per_page = badges.SIZES[size].per_sheet
                out["qr_checked"] += len(found)
                out["qr_ok"] = (out["qr_ok"] is not False) and len(found) == per_page and found <= codes
            doc.close()
        db.session.remove()
    return out


def run(people: int, runs: int, keep_db: bool) -> Report:
    db_name = "huiyi_bench_badges"
    mach = common.machine_info()
    with common.bench_app(db_name, keep_db) as app:
        _say(f"seeding {people} people into {db_name} …")
        meetings = seed(app, people)
        timed = time_prints(app, meetings, people, runs)
    report = Report(people=people, machine=mach, **timed)
    report.targets = {
        f"{people} badges as PDF < {TARGET_S:g} s (worst run of each kind)":
            all(max(times) < TARGET_S for times in report.runs.values()),
        "every badge printed, names as text, no photo skipped": report.names_ok
            and not any(report.photos_skipped.values()),
    }
    if report.qr_ok is not None:
        report.targets["a page's QR codes decode (zxing-cpp) to the people's door codes"] = report.qr_ok
    return report


def summary(r: Report) -> str:
    lines = [f"{r.people} badges ({common.machine_note(r.machine)})"]
    for label, times in r.runs.items():
        lines.append(f"  {label:26} {', '.join(f'{t:.2f}' for t in times)} s   {r.pages[label]} pages, "
                     f"{r.mbytes[label]} MB")
    lines.append(f"  QR codes decoded from first pages: {r.qr_checked}")
    return "\n".join(lines + common.target_lines(r.targets))


def main(argv: list[str] | None = None) -> int:
    return common.main(__doc__, run, summary, argv, runs=3)


if __name__ == "__main__":
    sys.exit(main())
