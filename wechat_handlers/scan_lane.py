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

What a scan is told is true, whatever fails: a round that fails for a scan, or does not answer by
the callback's deadline, is settled from the database (:func:`settle`): someone signed in is told
so; someone whose sign-in is certainly not stored is told to scan again (``BUSY``); and when neither
can be known in time (the database is unreachable, or the round holding the scan has not finished)
the answer says the outcome is not confirmed yet (``UNSURE``). A round that lost its database
connection is tried again while the deadline allows: a restarting database costs a moment, not
the answers.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from flask import current_app

from app.batching import (
    GroupCommitTimeout,
    GroupCommitWithdrawn,
    committed,
    group_commit,
    lost_database,
    split_on_failure,
)
from app.extensions import door_calls
from app.services.codes.scenes import Scene, parse_login_scene, parse_scene
from app.services.live import events as live_events
from app.services.signin.scans import Scan, scan_status, sign_in_scans
from wechat_handlers.deadline import ANSWER_MARGIN_S, Deadline
from wechat_handlers.dedupe import admit, admit_many, remember_replies
from wechat_handlers.envelope import Envelope, EnvelopeError, seal_reply, wechat_keys
from wechat_handlers.replies import BUSY, UNSURE, text_reply
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
#: A round failed on its database connection: tried again while the deadline leaves this much.
RETRY_WHEN_LEFT_S = 0.6
RETRY_PAUSE_S = 0.2


@dataclass(frozen=True)
class Failed:
    """A scan the round could not answer: ``error`` is why."""

    error: BaseException


@dataclass(frozen=True)
class Arrival:
    envelope: Envelope
    key: str
    scene: Scene | None
    at: datetime
    #: Already admitted by this request (a retry that took the message over, or a round tried
    #: again): the round must not check it against its own claim.
    admitted: bool = False


def answer(envelope: Envelope, key: str, scene_text: str, deadline: Deadline | None = None, *,
           admitted: bool = False) -> str | _Pass:
    """The sealed reply to a scan callback, or RETRY / FIRST_SCAN for the request to finish, by
    ``deadline`` (the callback's).

    :raise EnvelopeError: a replayed request (403).
    """
    deadline = deadline or Deadline()
    if parse_login_scene(scene_text) is not None:  # a desktop login: the usual dispatch answers it
        return FIRST_SCAN if admitted or admit(envelope, key) else RETRY
    arrival = Arrival(envelope, key, parse_scene(scene_text), datetime.now(UTC), admitted)
    submit = group_commit("wechat-scan", answer_scans)
    while True:
        try:
            result = submit(arrival, timeout_s=deadline.left(ANSWER_MARGIN_S))
        except GroupCommitWithdrawn:
            log.error("scan %s not taken by a round in time", key)
            return _seal(arrival, settle(arrival, stored=False))
        except GroupCommitTimeout:
            log.error("scan %s not answered in time", key)
            return _seal(arrival, settle(arrival, stored=None))
        except EnvelopeError:  # a replay: refused, not failed
            raise
        except Exception as exc:  # the round's own machinery failed for it
            result = Failed(exc)
        if not isinstance(result, Failed):
            return result
        if _transient(result.error) and deadline.left(ANSWER_MARGIN_S) > RETRY_WHEN_LEFT_S:
            time.sleep(RETRY_PAUSE_S)  # the database is reconnecting: the sign-in is idempotent
            arrival = replace(arrival, admitted=True)
            continue
        return _seal(arrival, settle(arrival, stored=False))


def _transient(error: BaseException) -> bool:
    """A lost or refused database connection (a restart, a failover), not a fault of this scan."""
    return lost_database(error)


def settle(arrival: Arrival, *, stored: bool | None) -> str:
    """The truth about a scan whose round gave no answer, from the database.

    :param stored: False when this request's sign-in is certainly not stored (rolled back, or never
        processed), None when a round may still store it.
    """
    scene = arrival.scene
    if scene is None:
        return NOT_A_MEETING_CODE
    try:
        status = scan_status(Scan(scene.meeting_code, scene.session_position, arrival.envelope.get("FromUserName"),
                                  arrival.at))
    except Exception as exc:
        # (No traceback when the database is failing over: hundreds of scans a second would log one each.)
        log.warning("could not read %s's sign-in to answer the scan", arrival.key, exc_info=not lost_database(exc))
        return UNSURE
    if status.state in ("already", "no_meeting"):
        return reply_for(status) or UNSURE
    # Not signed in now (or not bound: this request signs nobody in then): true for good only if
    # no round can still store this request's sign-in.
    return BUSY if stored is False or status.state == "unbound" else UNSURE


def answer_scans(arrivals: list[Arrival]) -> list[str | _Pass | EnvelopeError | Failed]:
    """One round: every replay and retry check, then the sign-ins, then the replies kept for retries."""
    with door_calls():  # this round answers WeChat: Redis may not hold it up (app.extensions)
        return _answer_scans(arrivals)


def _answer_scans(arrivals: list[Arrival]) -> list[str | _Pass | EnvelopeError | Failed]:
    results: list[str | _Pass | EnvelopeError | Failed | None] = [None] * len(arrivals)
    texts: dict[int, str] = {}
    scans: list[int] = []
    to_admit = [i for i, a in enumerate(arrivals) if not a.admitted]
    verdicts: list[bool | EnvelopeError] = [True] * len(arrivals)
    for i, verdict in zip(to_admit, admit_many([(arrivals[i].envelope, arrivals[i].key) for i in to_admit]),
                          strict=True):
        verdicts[i] = verdict
    for i, verdict in enumerate(verdicts):
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
            if isinstance(result, Exception):  # settled by its request, which may try it again
                results[i] = Failed(result)
                continue
            text = reply_for(result)
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
