"""Scan events answered many at a time: the callback's hot path during a burst at the door.

Each scan callback needs: refuse a replay, recognise WeChat's retry, sign the person in, answer,
and keep the answer for WeChat's retries. One request at a time that is two Redis round trips, a
transaction and a Redis pipeline per scan, and on a small server that overhead is most of the work.
Here the scans that arrive together are handled as one round (:mod:`app.batching`): one Redis call
for every replay and retry check, three statements for the sign-ins (:func:`scan_signin.sign_in_scans`:
read the scanners, one INSERT that commits them, read their numbers), one Redis round trip for the
live events and every reply kept for retries. Each request gets its answer after the commit.

Not answered here: a retry of a scan still being handled (it waits for the first answer), a
scanner not bound yet, whose answer may ask WeChat for their unionid and write a binding, and a
desktop login code (no sign-in in it): the request finishes those itself, in its own transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app

from app.batching import GroupCommitTimeout, committed, group_commit, split_on_failure
from app.services.codes.scenes import Scene, parse_login_scene, parse_scene
from app.services.live import events as live_events
from app.services.signin.scans import Scan, sign_in_scans
from wechat_handlers.dedupe import admit, admit_many, remember_replies, remember_reply
from wechat_handlers.envelope import Envelope, EnvelopeError, seal_reply, wechat_keys
from wechat_handlers.replies import BUSY, text_reply
from wechat_handlers.scan import NOT_A_MEETING_CODE, reply_for

log = logging.getLogger(__name__)


class _Pass:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


#: A retry of a scan already claimed: wait for the first request's answer.
RETRY = _Pass("RETRY")
#: Admitted, but not bound here: the request answers it through the usual dispatch.
FIRST_SCAN = _Pass("FIRST_SCAN")


@dataclass(frozen=True)
class Arrival:
    envelope: Envelope
    key: str
    scene: Scene | None
    at: datetime


def answer(envelope: Envelope, key: str, scene_text: str) -> str | _Pass:
    """The sealed reply to a scan callback, or RETRY / FIRST_SCAN for the request to finish.

    :raise EnvelopeError: a replayed request (403).
    """
    if parse_login_scene(scene_text) is not None:  # a desktop login: the usual dispatch answers it
        return FIRST_SCAN if admit(envelope, key) else RETRY
    arrival = Arrival(envelope, key, parse_scene(scene_text), datetime.now(UTC))
    try:
        return group_commit("wechat-scan", answer_scans)(arrival)
    except GroupCommitTimeout:
        log.error("scan %s not answered in time", key)
        reply = _seal(arrival, BUSY)
        remember_reply(key, reply)
        return reply


def answer_scans(arrivals: list[Arrival]) -> list[str | _Pass | EnvelopeError]:
    """One round: every replay and retry check, then the sign-ins, then the replies kept for retries."""
    results: list[str | _Pass | EnvelopeError | None] = [None] * len(arrivals)
    texts: dict[int, str] = {}
    scans: list[int] = []
    for i, verdict in enumerate(admit_many([(a.envelope, a.key) for a in arrivals])):
        if isinstance(verdict, EnvelopeError):
            results[i] = verdict
        elif not verdict:
            results[i] = RETRY
        elif arrivals[i].scene is None:
            texts[i] = NOT_A_MEETING_CODE
        else:
            scans.append(i)

    with live_events.batch() as pipe:  # the sign-ins' live events and the kept replies: one round trip
        round_scans = [Scan(a.scene.meeting_code, a.scene.session_position, a.envelope.get("FromUserName"), a.at)
                       for a in (arrivals[i] for i in scans)]
        # One INSERT for the round's sign-ins; if the round fails, each scan again alone.
        signed = split_on_failure(lambda batch: sign_in_scans(batch, pipe), round_scans, "scan sign-in")
        committed()  # the next round may form while this one publishes and answers
        for i, result in zip(scans, signed, strict=True):
            text = BUSY if isinstance(result, Exception) else reply_for(result)
            if text is None:
                results[i] = FIRST_SCAN
            else:
                texts[i] = text
        for i, text in texts.items():
            results[i] = _seal(arrivals[i], text)
        remember_replies([(arrivals[i].key, results[i]) for i in texts], pipe)
    return results  # type: ignore[return-value]


def _seal(arrival: Arrival, text: str) -> str:
    envelope = arrival.envelope
    keys = wechat_keys(current_app.config)
    return seal_reply(text_reply(envelope.get("FromUserName"), envelope.get("ToUserName"), text), envelope, **keys)
