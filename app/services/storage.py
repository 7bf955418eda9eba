"""Content-addressed file storage: a blob is named by the SHA-256 of its bytes.

Uploading the same file twice stores it once, and a name can never point at changed content. Only
the local-disk backend exists now; an S3-compatible one implements the same small interface
(:class:`Backend`) later. Derived files (rendered page images) live beside the blobs under a
``derived/<sha>/`` prefix: they can always be made again from the blob.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import BinaryIO, Protocol

from flask import current_app


class Backend(Protocol):
    def put(self, data: bytes) -> str: ...
    def exists(self, sha: str) -> bool: ...
    def open(self, sha: str) -> BinaryIO: ...
    def read(self, sha: str) -> bytes: ...
    def put_derived(self, sha: str, name: str, data: bytes) -> None: ...
    def read_derived(self, sha: str, name: str) -> bytes | None: ...


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _check_sha(sha: str) -> str:
    # The name becomes a path: only a real hex digest may reach the filesystem.
    if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
        raise ValueError(f"not a sha256 hex digest: {sha!r}")
    return sha


class LocalStorage:
    """Blobs at ``<root>/blobs/ab/cd/<sha>``; writes are atomic (temp file + rename)."""

    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root)

    def path(self, sha: str) -> Path:
        sha = _check_sha(sha)
        return self.root / "blobs" / sha[:2] / sha[2:4] / sha

    def _derived_path(self, sha: str, name: str) -> Path:
        if not name or "/" in name or "\\" in name or name.startswith("."):
            raise ValueError(f"bad derived name: {name!r}")
        sha = _check_sha(sha)
        return self.root / "derived" / sha[:2] / sha / name

    @staticmethod
    def _write_atomic(target: Path, data: bytes) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def put(self, data: bytes) -> str:
        sha = sha256_hex(data)
        target = self.path(sha)
        if not target.exists():
            self._write_atomic(target, data)
        return sha

    def exists(self, sha: str) -> bool:
        return self.path(sha).is_file()

    def open(self, sha: str) -> BinaryIO:
        return self.path(sha).open("rb")

    def read(self, sha: str) -> bytes:
        return self.path(sha).read_bytes()

    def put_derived(self, sha: str, name: str, data: bytes) -> None:
        self._write_atomic(self._derived_path(sha, name), data)

    def read_derived(self, sha: str, name: str) -> bytes | None:
        try:
            return self._derived_path(sha, name).read_bytes()
        except FileNotFoundError:
            return None


def get_storage() -> LocalStorage:
    """The app's storage, from STORAGE_DIR."""
    return LocalStorage(current_app.config["STORAGE_DIR"])


def put(data: bytes) -> str:
    return get_storage().put(data)


def open(sha: str) -> BinaryIO:  # noqa: A001 - the storage's own verb
    return get_storage().open(sha)


def path(sha: str) -> Path:
    return get_storage().path(sha)


def read_blob(sha: str) -> bytes:
    return get_storage().read(sha)
