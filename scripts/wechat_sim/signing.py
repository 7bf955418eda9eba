"""How WeChat signs and encrypts what it posts to a callback (via wechatpy's primitives).

signature     = sha1(sorted(token, timestamp, nonce))
msg_signature = sha1(sorted(token, timestamp, nonce, Encrypt))
Encrypt       = base64(AES-256-CBC(random16 + htonl(len) + xml + appid)), key = b64(EncodingAESKey + "=")
"""

from __future__ import annotations

import base64

from wechatpy.crypto import PrpCrypto
from wechatpy.utils import WeChatSigner


def signature(*parts: str) -> str:
    signer = WeChatSigner()
    signer.add_data(*[str(p) for p in parts])
    return str(signer.signature)


def aes_key_bytes(encoding_aes_key: str) -> bytes:
    key = base64.b64decode(encoding_aes_key + "=")
    if len(key) != 32:
        raise ValueError("EncodingAESKey must be 43 base64 characters (32 bytes)")
    return key


class _FixedRandomPrp(PrpCrypto):
    def __init__(self, key: bytes, random16: bytes) -> None:
        super().__init__(key)
        self._random16 = random16

    def get_random_string(self) -> bytes:  # type: ignore[override]
        return self._random16


def encrypt(encoding_aes_key: str, app_id: str, plaintext: str, random16: bytes | None = None) -> str:
    """The Encrypt field for ``plaintext``; ``random16`` fixes the random prefix (test vectors)."""
    key = aes_key_bytes(encoding_aes_key)
    prp = _FixedRandomPrp(key, random16) if random16 is not None else PrpCrypto(key)
    return bytes(prp.encrypt(plaintext, app_id)).decode("ascii")


def decrypt(encoding_aes_key: str, app_id: str, encrypted: str) -> str:
    """Plaintext of an Encrypt field; raises wechatpy's InvalidAppIdException on an app id mismatch."""
    return str(PrpCrypto(aes_key_bytes(encoding_aes_key)).decrypt(encrypted, app_id))


def random_prefix(encoding_aes_key: str, encrypted: str) -> bytes:
    """The 16 random bytes at the start of a ciphertext (lets tests re-encrypt a vector exactly)."""
    from wechatpy.crypto.base import WeChatCipher

    return bytes(WeChatCipher(aes_key_bytes(encoding_aes_key)).decrypt(base64.b64decode(encrypted))[:16])
