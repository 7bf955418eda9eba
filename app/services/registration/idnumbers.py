"""居民身份证号 (GB 11643-1999): checked, kept encrypted, shown masked, recognised by a keyed digest.

The clear number exists only in the request that received it and, decrypted, in the one answer to
the person it belongs to (:func:`app.services.registration.query.reveal_id`). It is never stored,
logged, audited, put in an exception's message or a job's result.

Keys: both come from the app's ``SECRET_KEY`` through HKDF-SHA256 (RFC 5869) with their own
``info`` label, so neither is the secret key itself nor usable for the other's purpose:

- encryption: AES-256-GCM (``cryptography``'s AESGCM), a random 96-bit nonce per value; stored as
  ``v1:<urlsafe base64 of nonce + ciphertext + tag>``. A changed ``SECRET_KEY`` makes old values
  unreadable (the masked form and digest stay): rotate by re-encrypting before the change.
- digest: HMAC-SHA256 of the normalized number, hex: equal numbers give equal digests, so a second
  registration of one person is found without decrypting anything, and the digest is useless to
  someone without the key (an unkeyed hash of an 18-digit number with a known structure could be
  brute-forced in minutes).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from datetime import date

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
_SHAPE = re.compile(r"^[1-9]\d{16}[\dX]$")
_PREFIX = "v1:"
_AES_LABEL = b"huiyi/registration/id-number/aes-gcm/v1"
_HMAC_LABEL = b"huiyi/registration/id-number/hmac/v1"


def normalize(raw: str) -> str:
    """Spaces out, a full-width digit or a lower-case x folded: what people paste from documents."""
    folded = "".join(chr(ord(c) - 0xFEE0) if "０" <= c <= "９" or c in "ｘＸ" else c for c in raw or "")
    return re.sub(r"\s+", "", folded).upper()


def is_valid(number: str) -> bool:
    """An 18-character number with a real birth date and the right check character (GB 11643)."""
    if not _SHAPE.match(number):
        return False
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    if born.year < 1900 or born > date.today():
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11] == number[17]


def mask(number: str) -> str:
    """110105199001011234 -> 110105********1234: the region and the last four, as a desk checks."""
    return f"{number[:6]}{'*' * (len(number) - 10)}{number[-4:]}"


def _key(secret_key: str, label: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label).derive(secret_key.encode())


def encrypt(number: str, secret_key: str) -> str:
    nonce = os.urandom(12)
    sealed = AESGCM(_key(secret_key, _AES_LABEL)).encrypt(nonce, number.encode(), None)
    return _PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()


def decrypt(cipher: str, secret_key: str) -> str:
    raw = base64.urlsafe_b64decode(cipher.removeprefix(_PREFIX))
    key = _key(secret_key, _AES_LABEL)
    return AESGCM(key).decrypt(raw[:12], raw[12:], None).decode()


def digest(number: str, secret_key: str) -> str:
    key = _key(secret_key, _HMAC_LABEL)
    return hmac.new(key, number.encode(), hashlib.sha256).hexdigest()


def app_secret() -> str:
    """The running app's ``SECRET_KEY``, from which both keys derive."""
    return current_app.config["SECRET_KEY"]
