"""Recognise WeChat's retries and replayed requests.

WeChat resends a callback it got no answer to within 5 s (three tries in all). A retry must get
the same answer without doing the work twice: the first request claims the message's key and stores
its reply; later copies wait briefly for that reply. Separately, a (timestamp, nonce) pair seen with
a *different* body is a replay and is refused.

A claim is a lease, not a lock: it holds the time until which its owner answers (its deadline plus
the time to keep its answer, ``deadline.LEASE_S``). A worker killed mid-request never keeps its
answer, so the retry that finds the lease run out and no answer takes the message over and does the
work itself. The work is idempotent (the database's unique guards make a sign-in once, and a second
scan is answered with the sign-in already there), so a retry is answered for real, never with an
empty ``success`` standing for a reply nobody will send.

Redis holds these keys. If Redis is down we process anyway: the database's unique guards make the
work itself idempotent, so the worst case is a second identical reply.
"""

from __future__ import annotations

import hashlib
import logging
import time

from redis.exceptions import NoScriptError

from app.extensions import get_redis
from wechat_handlers.deadline import LEASE_S
from wechat_handlers.envelope import TIMESTAMP_WINDOW_S, Envelope, EnvelopeError

log = logging.getLogger(__name__)
#: How long a claim is remembered: past WeChat's last retry (about 15 s after the first try).
CLAIM_TTL_S = 30
REPLY_TTL_S = 120


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
# never claim a key in passing. KEYS: each request's nonce key, claim key and reply key; ARGV: the two
# TTLs, now and the lease's end (ms since the epoch), then each request's body hash. Returns per
# request -1 (replay), 1 (first), 2 (a retry taking over a message whose first attempt left no answer
# by the end of its lease) or 0 (a retry of a message answered or still within its lease).
# A claim written before leases existed holds "1", a lease long run out.
_ADMIT = """
local verdicts = {}
local now, lease = tonumber(ARGV[3]), ARGV[4]
for n = 1, #KEYS / 3 do
  local nonce, claim, reply, body = KEYS[3 * n - 2], KEYS[3 * n - 1], KEYS[3 * n], ARGV[4 + n]
  if not redis.call('SET', nonce, body, 'NX', 'EX', ARGV[1]) and redis.call('GET', nonce) ~= body then
    verdicts[n] = -1
  elseif redis.call('SET', claim, lease, 'NX', 'EX', ARGV[2]) then
    verdicts[n] = 1
  elseif redis.call('EXISTS', reply) == 0 and (tonumber(redis.call('GET', claim)) or 0) < now then
    redis.call('SET', claim, lease, 'EX', ARGV[2])
    verdicts[n] = 2
  else
    verdicts[n] = 0
  end
end
return verdicts
"""


_ADMIT_SHA = hashlib.sha1(_ADMIT.encode()).hexdigest()
REPLAYED = "nonce reused with another body"


def admit(envelope: Envelope, key: str) -> bool:
    """Refuse a replay (:raise EnvelopeError: 403); True if this request should do the work (the
    first with this message key, or a retry taking over from a first attempt that left no answer),
    False for a retry of one answered or still within its lease."""
    verdict = admit_many([(envelope, key)])[0]
    if isinstance(verdict, EnvelopeError):
        raise verdict
    return verdict


def admit_many(items: list[tuple[Envelope, str]]) -> list[bool | EnvelopeError]:
    """:func:`admit` for several requests in one Redis call: per request True (do the work), False
    (a retry) or the EnvelopeError to answer a replay with. Requests are checked in order, so of two
    copies in one call the first is the one admitted."""
    if not items:
        return []
    r = get_redis()
    keys: list[str] = []
    for envelope, key in items:
        keys += [f"huiyi:wx:nonce:{envelope.timestamp}:{envelope.nonce}", f"huiyi:wx:claim:{key}",
                 f"huiyi:wx:reply:{key}"]
    now_ms = int(time.time() * 1000)
    args = [2 * TIMESTAMP_WINDOW_S, CLAIM_TTL_S, now_ms, now_ms + int(LEASE_S * 1000),
            *(envelope.body_sha256 for envelope, _ in items)]
    try:
        try:  # EVALSHA: the script is sent once per server, not with every call
            verdicts = r.evalsha(_ADMIT_SHA, len(keys), *keys, *args)
        except NoScriptError:  # a restarted or flushed Redis: load it once more
            r.script_load(_ADMIT)
            verdicts = r.evalsha(_ADMIT_SHA, len(keys), *keys, *args)
    except Exception:
        log.warning("replay and retry detection skipped: Redis unavailable")
        return [True] * len(items)
    return [EnvelopeError(403, REPLAYED) if v == -1 else v > 0 for v in verdicts]


# A retry that waited for an answer in vain: take the message over if its owner's lease has run out
# and it left no answer. KEYS: claim, reply; ARGV: claim TTL, now, the new lease's end (ms).
_TAKE_OVER = """
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
if (tonumber(redis.call('GET', KEYS[1])) or 0) >= tonumber(ARGV[2]) then return 0 end
redis.call('SET', KEYS[1], ARGV[3], 'EX', ARGV[1])
return 1
"""


def take_over(key: str) -> bool:
    """True if this retry now owns the message and must do the work: the first attempt's lease ran
    out and it kept no answer (or Redis cannot tell: the work is idempotent)."""
    now_ms = int(time.time() * 1000)
    try:
        return bool(get_redis().eval(_TAKE_OVER, 2, f"huiyi:wx:claim:{key}", f"huiyi:wx:reply:{key}",
                                     CLAIM_TTL_S, now_ms, now_ms + int(LEASE_S * 1000)))
    except Exception:
        log.warning("could not check the claim on %s: Redis unavailable; answering it here", key)
        return True


def lease_left(key: str) -> float:
    """Seconds until the lease on ``key`` runs out (0 if it has, or Redis cannot tell)."""
    try:
        value = get_redis().get(f"huiyi:wx:claim:{key}")
        return max(0.0, float(value or 0) / 1000 - time.time())
    except Exception:
        return 0.0


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


def wait_for_reply(key: str, timeout_s: float) -> str | None:
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
            time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
    except Exception:
        return None
