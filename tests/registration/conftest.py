"""Registration test helpers: a meeting with a unit, a code form, people to register."""

from __future__ import annotations

import itertools

import pytest

from app.services.registration import forms, idnumbers
from app.services.registration.fields import CATALOG, spec

_seq = itertools.count(1)


def id_number(birth: str = "19900101", seq: str | None = None, region: str = "110105") -> str:
    """A valid 居民身份证号 (GB 11643 check character computed)."""
    body = f"{region}{birth}{seq or f'{next(_seq) % 1000:03d}'}"
    total = sum(int(d) * w for d, w in zip(body, idnumbers.WEIGHTS, strict=True))
    return body + idnumbers.CHECK_CHARS[total % 11]


def person(n: int | None = None, **values) -> dict:
    n = n if n is not None else next(_seq)
    base = {"name": f"报名{n}", "phone": f"139{n % 10**8:08d}", "title": "科员", "gender": "男"}
    base.update(values)
    return base


ALL_STANDARD = [spec(key, required=False) for key in CATALOG]


@pytest.fixture
def reg_meeting(db, factory):
    meeting = factory.meeting(title="全区经济工作会议")
    unit = factory.unit(code=f"D{next(_seq):04d}", name=f"区发展和改革局{next(_seq)}", aliases=["发改局"])
    db.session.commit()  # (a savepoint here) a refused request's rollback keeps the test's data
    return meeting, unit


@pytest.fixture
def code_form(db, reg_meeting):
    meeting, _unit = reg_meeting
    form = forms.create_form(meeting, actor="test", title="代表报名", role="代表", access="code",
                             invite_code="HY2026AB", needs_approval=True, fields=ALL_STANDARD, published=True)
    db.session.commit()
    return form
