"""Recognise WeChat's retries and replayed requests.

WeChat resends a callback it got no answer to within 5 s (three tries in all). A retry must get
the same answer without doing the work twice: the first request claims the message's key and stores
its reply; later copies wait briefly for that reply. Separately, a (timestamp, nonce) pair seen with
a *different* body is a replay and is refused.

Redis holds these keys. If Redis is down we process anyway: the database's unique guards make the
work itself idempotent, so the worst case is a second identical reply.
"""

from __future__ import annotations

import hashlib
import logging
import time

from redis.exceptions import NoScriptError

from app.extensions import get_redis
from wechat_handlers.envelope import TIMESTAMP_WINDOW_S, Envelope, EnvelopeError

log = logging.getLogger(__name__)
CLAIM_TTL_S = 30
REPLY_TTL_S = 120
WAIT_FOR_FIRST_S = 4.0


def message_key(envelope: Envelope) -> str:
    msg_id = envelope.get("MsgId") or envelope.get("MsgID")
    if msg_id and envelope.get("MsgType") != "event":
        # WeChat's retries repeat the MsgId, but nothing promises it is unique across users: keyed on
        # it alone, another user's message could be answered with this one's reply.
        return f"msg:{envelope.get('FromUserName')}:{msg_id}"
    # Events have no id; CreateTime is in whole seconds, so the event and its key are added.
    return ":".join(["evt", envelope.get("FromUserName"), envelope.get("CreateTime"),
                     envelope.get("Event"), envelope.get("EventKey")])


# One call for both checks of every request in it, each request atomically: refuse a (timestamp,
# nonce) already seen with another body *before* claiming the message key, so a refused replay can
# never claim a key in passing. KEYS: each request's nonce key then its claim key; ARGV: the two TTLs,
# then each request's body hash. Returns per request -1 (replay), 1 (first) or 0 (a retry).
_ADMIT = """
local verdicts = {}
for n = 1, #KEYS / 2 do
  local nonce, claim, body = KEYS[2 * n - 1], KEYS[2 * n], ARGV[2 + n]
  if not redis.call('SET', nonce, body, 'NX', 'EX', ARGV[1]) and redis.call('GET', nonce) ~= body then
    verdicts[n] = -1
  elseif redis.call('SET', claim, '1', 'NX', 'EX', ARGV[2]) then
    verdicts[n] = 1
  else
    verdicts[n] = 0
  end
end
return verdicts
"""


_ADMIT_SHA = hashlib.sha1(_ADMIT.encode()).hexdigest()
REPLAYED = "nonce reused with another body"


def admit(envelope: Envelope, key: str) -> bool:
    """Refuse a replay (:raise EnvelopeError: 403); True if this request is the first with this
    message key and should do the work, False for a retry of one already claimed."""
    verdict = admit_many([(envelope, key)])[0]
    if isinstance(verdict, EnvelopeError):
        raise verdict
    return verdict


def admit_many(items: list[tuple[Envelope, str]]) -> list[bool | EnvelopeError]:
    """:func:`admit` for several requests in one Redis call: per request True (first), False (a
    retry) or the EnvelopeError to answer a replay with. Requests are checked in order, so of two
    copies in one call the first is the one admitted."""
    if not items:
        return []
    r = get_redis()
    keys: list[str] = []
    for envelope, key in items:
        keys += [f"huiyi:wx:nonce:{envelope.timestamp}:{envelope.nonce}", f"huiyi:wx:claim:{key}"]
    args = [2 * TIMESTAMP_WINDOW_S, CLAIM_TTL_S, *(envelope.body_sha256 for envelope, _ in items)]
    try:
        try:  # EVALSHA: the script is sent once per server, not with every call
            verdicts = r.evalsha(_ADMIT_SHA, len(keys), *keys, *args)
        except NoScriptError:  # a restarted or flushed Redis: load it once more
            r.script_load(_ADMIT)
            verdicts = r.evalsha(_ADMIT_SHA, len(keys), *keys, *args)
    except Exception:
        log.warning("replay and retry detection skipped: Redis unavailable")
        return [True] * len(items)
    return [EnvelopeError(403, REPLAYED) if v == -1 else v == 1 for v in verdicts]


def remember_reply(key: str, reply: str, pipe=None) -> None:
    """Keep the reply for WeChat's retries; ``pipe``: queue it on that Redis pipeline instead."""
    remember_replies([(key, reply)], pipe)


# Several replies in one command, each with its own key and the same expiry. EVAL (not EVALSHA): it
# is queued on a pipeline, where a script the server no longer has would fail the whole pipeline;
# the server caches the compiled script by its hash either way.
_SET_MANY = "for i = 1, #KEYS do redis.call('SET', KEYS[i], ARGV[i + 1], 'EX', ARGV[1]) end"


def remember_replies(replies: list[tuple[str, str]], pipe=None) -> None:
    """:func:`remember_reply` for each (message key, reply), in one Redis command."""
    if not replies:
        return
    try:
        (pipe if pipe is not None else get_redis()).eval(
            _SET_MANY, len(replies), *(f"huiyi:wx:reply:{key}" for key, _ in replies), REPLY_TTL_S,
            *(reply for _, reply in replies))
    except Exception:
        log.warning("could not store replies for %s", [key for key, _ in replies])


def wait_for_reply(key: str, timeout_s: float = WAIT_FOR_FIRST_S) -> str | None:
    """The first request's reply, if it arrives within ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    try:
        r = get_redis()
        while True:
            value = r.get(f"huiyi:wx:reply:{key}")
            if value is not None:
                return value.decode()
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.05)
    except Exception:
        return None
