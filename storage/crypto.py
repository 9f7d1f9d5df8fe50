"""Envelope encryption (AES-256-GCM), keyed-hash pseudonyms and master-key encoding.

Blob layout: one version byte, a 12-byte random nonce, then the GCM ciphertext with
its 16-byte tag. The version byte lets a later format coexist with this one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct
from collections.abc import Callable
from functools import partial

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from storage.interface import N_, DecryptionFailed, StoreError

KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
FORMAT_V1 = b"\x01"
_AAD_PREFIX = b"feedbackbot/aad/v1"
_AAD_HEAD = struct.pack(">I", len(_AAD_PREFIX)) + _AAD_PREFIX


class InvalidMasterKey(StoreError, ValueError):
    """The master key text is not urlsafe base64 of exactly 32 bytes."""


class MalformedMasterKey(InvalidMasterKey):
    """The text is no master key at all (not base64, or not 32 bytes): the command line
    adds how to make one, as `openssl rand -hex 32` gives 64 hex digits (48 bytes read as
    base64), which the bot refuses (found by an operator review)."""


def generate_key() -> bytes:
    """A fresh random 256-bit key."""
    return os.urandom(KEY_BYTES)


def encrypt(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """AES-256-GCM with a fresh random nonce; raises ValueError for a key of the wrong size."""
    _check_key(key)
    nonce = os.urandom(NONCE_BYTES)
    return FORMAT_V1 + nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def decrypt(key: bytes, blob: bytes, aad: bytes) -> bytes:
    """Inverse of `encrypt`; raises DecryptionFailed for any blob that does not authenticate."""
    if len(key) != KEY_BYTES:
        raise DecryptionFailed("ciphertext or key malformed")
    return _open(AESGCM(key), blob, aad)


def decrypter(key: bytes) -> Callable[[bytes, bytes], bytes]:
    """`decrypt` under one key for many blobs: the key is set up once, which is more
    than half the time a short blob takes (found measuring the erasure ledger's check)."""
    if len(key) != KEY_BYTES:
        raise DecryptionFailed("ciphertext or key malformed")
    return partial(_open, AESGCM(key))


def _open(cipher: AESGCM, blob: bytes, aad: bytes) -> bytes:
    if len(blob) < 1 + NONCE_BYTES + TAG_BYTES:
        raise DecryptionFailed("ciphertext or key malformed")
    if blob[:1] != FORMAT_V1:
        raise DecryptionFailed("unknown ciphertext format")
    nonce, body = blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :]
    try:
        return cipher.decrypt(nonce, body, aad)
    except InvalidTag:
        raise DecryptionFailed("ciphertext failed authentication") from None


def wrap_key(kek: bytes, dek: bytes, aad: bytes) -> bytes:
    """Encrypt a data key under the key-encryption key; raises ValueError for bad key sizes."""
    _check_key(dek)
    return encrypt(kek, dek, aad)


def unwrap_key(kek: bytes, wrapped: bytes, aad: bytes) -> bytes:
    """Inverse of `wrap_key`; raises DecryptionFailed (wrong KEK, other AAD, tampering)."""
    dek = decrypt(kek, wrapped, aad)
    if len(dek) != KEY_BYTES:
        raise DecryptionFailed("unwrapped key has the wrong size")
    return dek


def associated_data(table: str, record_id: str, pseudonym: str, key_version: int) -> bytes:
    """Binds a ciphertext to its table, row, person and key version.

    Every field is length-prefixed so that no two different tuples share an encoding
    (plain concatenation would make ("ab", "c") and ("a", "bc") collide).
    """
    # One pack for all fields: this runs for every ciphertext read, 50,000 times at each
    # opening with a long erasure ledger, and a loop over the fields took three times
    # as long.
    t, r, p = table.encode(), record_id.encode(), pseudonym.encode()
    layout = f">I{len(t)}sI{len(r)}sI{len(p)}sI"
    return _AAD_HEAD + struct.pack(layout, len(t), t, len(r), r, len(p), p, key_version)


def pseudonym(pseudonym_key: bytes, subject: str) -> str:
    """HMAC-SHA256 of the subject reference under the pseudonym key, as 64 hex digits."""
    return hmac.new(pseudonym_key, subject.encode("utf-8"), hashlib.sha256).hexdigest()


def derive_key(key: bytes, label: bytes) -> bytes:
    """A 256-bit key for one purpose, derived from `key` (HMAC-SHA256 as a PRF)."""
    return hmac.new(key, label, hashlib.sha256).digest()


def predictable_key(key: bytes) -> bool:
    """Whether a 32-byte master key is plainly not random: text (a password or phrase
    encoded as base64, every byte printable ASCII) or few distinct bytes (all zeros,
    "AAAA...="). For `generate_key`'s keys either has a chance below 1e-13. Such a key is
    accepted by `decode_master_key` all the same (a store may already rest on it); the
    command line warns (found by a security review: accepted without a word)."""
    return len(set(key)) < 16 or all(0x20 <= byte < 0x7F for byte in key)


def encode_master_key(key: bytes) -> str:
    """The text form of a master key (urlsafe base64, padded)."""
    _check_key(key)
    return base64.urlsafe_b64encode(key).decode("ascii")


def decode_master_key(text: str, source: object = None) -> bytes:
    """Parse a master key; raises InvalidMasterKey (never echoing the input) when malformed,
    naming `source` (the variable or the file it came from) where given: an operator
    with a variable, a key file and a generated `master.key` must learn which to fix
    (found by review)."""
    stripped = text.strip()
    padded = stripped + "=" * (-len(stripped) % 4)
    try:
        key = base64.b64decode(padded, altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        if source is not None:
            raise MalformedMasterKey(
                N_("the master key in {source} is not urlsafe base64"), source=source
            ) from None
        raise MalformedMasterKey(N_("master key is not urlsafe base64")) from None
    if len(key) != KEY_BYTES:
        if source is not None:
            raise MalformedMasterKey(
                N_("the master key in {source} must be {size} bytes, got {got}"),
                source=source,
                size=KEY_BYTES,
                got=len(key),
            )
        raise MalformedMasterKey(
            N_("master key must be {size} bytes, got {got}"), size=KEY_BYTES, got=len(key)
        )
    return key


def _check_key(key: bytes) -> None:
    if len(key) != KEY_BYTES:
        raise ValueError(f"key must be {KEY_BYTES} bytes")
