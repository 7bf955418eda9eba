"""wechat_handlers.dedupe: one Redis call admits a whole round of callbacks, each on its own terms."""

from __future__ import annotations

from wechat_handlers.dedupe import REPLAYED, admit_many
from wechat_handlers.envelope import Envelope, EnvelopeError


def _envelope(nonce: str, body: str, timestamp: str = "1700000000") -> Envelope:
    return Envelope(fields={"FromUserName": "o-1", "MsgType": "event"}, encrypted=False, timestamp=timestamp,
                    nonce=nonce, body_sha256=body)


def test_first_retry_replay_and_newcomer_in_one_call(app_ctx, redis_client):
    verdicts = admit_many([
        (_envelope("n1", "body-a"), "evt:a"),   # first: do the work
        (_envelope("n1", "body-a"), "evt:a"),   # WeChat's retry, same nonce and body: wait for the answer
        (_envelope("n1", "body-b"), "evt:b"),   # the nonce again with another body: a replay
        (_envelope("n2", "body-c"), "evt:c"),   # someone else
    ])
    assert verdicts[:2] == [True, False] and verdicts[3] is True
    assert isinstance(verdicts[2], EnvelopeError) and verdicts[2].status == 403 and verdicts[2].reason == REPLAYED
    assert redis_client.exists("huiyi:wx:claim:evt:b") == 0  # a refused replay claims nothing
    assert admit_many([(_envelope("n9", "body-a2"), "evt:a")]) == [False]  # later: still a retry
    assert redis_client.ttl("huiyi:wx:nonce:1700000000:n1") > 0 and redis_client.ttl("huiyi:wx:claim:evt:a") > 0


def test_a_flushed_redis_reloads_the_script(app_ctx, redis_client):
    redis_client.script_flush()
    assert admit_many([(_envelope("n1", "x"), "evt:x")]) == [True]


def test_without_redis_everything_is_admitted(app_ctx, redis_client, monkeypatch):
    from redis.exceptions import ConnectionError as RedisDown

    def gone(*_args):
        raise RedisDown("redis is down")

    monkeypatch.setattr(redis_client, "evalsha", gone)
    assert admit_many([(_envelope("n1", "x"), "evt:x"), (_envelope("n1", "y"), "evt:y")]) == [True, True]


def test_replies_kept_for_retries_in_one_command(app_ctx, redis_client):
    from wechat_handlers.dedupe import REPLY_TTL_S, remember_replies, wait_for_reply

    remember_replies([("evt:a", "<xml>甲</xml>"), ("evt:b", "<xml>乙</xml>")])
    assert wait_for_reply("evt:a", 0) == "<xml>甲</xml>" and wait_for_reply("evt:b", 0) == "<xml>乙</xml>"
    assert 0 < redis_client.ttl("huiyi:wx:reply:evt:b") <= REPLY_TTL_S
