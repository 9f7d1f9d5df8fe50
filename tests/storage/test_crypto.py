"""Envelope encryption, pseudonyms and master-key encoding."""

import base64

import pytest

from storage import crypto
from storage.crypto import InvalidMasterKey
from storage.interface import DecryptionFailed, StoreError

KEY = bytes(range(32))
AAD = crypto.associated_data("feedback", "rec-1", "a" * 64, 1)


def test_round_trip() -> None:
    blob = crypto.encrypt(KEY, b"Sehr gut, danke", AAD)
    assert crypto.decrypt(KEY, blob, AAD) == b"Sehr gut, danke"


def test_blob_layout_is_version_nonce_ciphertext_tag() -> None:
    blob = crypto.encrypt(KEY, b"12345", AAD)
    assert blob[:1] == b"\x01"
    assert len(blob) == 1 + 12 + 5 + 16
    assert b"12345" not in blob


def test_fresh_nonce_each_time() -> None:
    blobs = {crypto.encrypt(KEY, b"same", AAD) for _ in range(50)}
    assert len(blobs) == 50
    assert len({b[1:13] for b in blobs}) == 50


@pytest.mark.parametrize("position", [0, 1, 12, 13, -1])
def test_tampering_is_detected(position: int) -> None:
    blob = bytearray(crypto.encrypt(KEY, b"payload", AAD))
    blob[position] ^= 0x01
    with pytest.raises(DecryptionFailed):
        crypto.decrypt(KEY, bytes(blob), AAD)


@pytest.mark.parametrize("length", [0, 1, 13, 28])
def test_truncated_blob_fails(length: int) -> None:
    blob = crypto.encrypt(KEY, b"payload", AAD)
    with pytest.raises(DecryptionFailed):
        crypto.decrypt(KEY, blob[:length], AAD)


@pytest.mark.parametrize(
    "other",
    [
        crypto.associated_data("drafts", "rec-1", "a" * 64, 1),  # other table
        crypto.associated_data("feedback", "rec-2", "a" * 64, 1),  # other row
        crypto.associated_data("feedback", "rec-1", "b" * 64, 1),  # other person
        crypto.associated_data("feedback", "rec-1", "a" * 64, 2),  # other key version
    ],
)
def test_ciphertext_moved_elsewhere_fails(other: bytes) -> None:
    blob = crypto.encrypt(KEY, b"payload", AAD)
    with pytest.raises(DecryptionFailed):
        crypto.decrypt(KEY, blob, other)


def test_associated_data_is_unambiguous() -> None:
    assert crypto.associated_data("ab", "c", "p", 1) != crypto.associated_data("a", "bc", "p", 1)
    assert crypto.associated_data("t", "r", "p", 1) != crypto.associated_data("t", "r", "p", 256)


def test_associated_data_is_encoded_as_ever() -> None:
    """Every ciphertext in a store is bound to these bytes: encoded any other way, none
    would open again. Lengths are of the UTF-8 bytes."""
    assert crypto.associated_data("feedback", "rec-1", "a" * 64, 1) == (
        b"\x00\x00\x00\x12feedbackbot/aad/v1\x00\x00\x00\x08feedback\x00\x00\x00\x05rec-1"
        + b"\x00\x00\x00\x40"
        + b"a" * 64
        + b"\x00\x00\x00\x01"
    )
    assert crypto.associated_data("t", "\u00fc", "", 256) == (
        b"\x00\x00\x00\x12feedbackbot/aad/v1\x00\x00\x00\x01t\x00\x00\x00\x02\xc3\xbc"
        + b"\x00\x00\x00\x00\x00\x00\x01\x00"
    )


def test_a_decrypter_opens_many_blobs_under_one_key_as_decrypt_does() -> None:
    decrypt = crypto.decrypter(KEY)
    blobs = [crypto.encrypt(KEY, f"payload {n}".encode(), AAD) for n in range(3)]
    assert [decrypt(blob, AAD) for blob in blobs] == [b"payload 0", b"payload 1", b"payload 2"]
    with pytest.raises(DecryptionFailed):
        decrypt(blobs[0], crypto.associated_data("feedback", "rec-2", "a" * 64, 1))
    with pytest.raises(DecryptionFailed):
        decrypt(blobs[0][:20], AAD)
    with pytest.raises(DecryptionFailed):
        crypto.decrypter(crypto.generate_key())(blobs[0], AAD)
    with pytest.raises(DecryptionFailed):
        crypto.decrypter(b"short")


def test_wrong_key_fails() -> None:
    blob = crypto.encrypt(KEY, b"payload", AAD)
    with pytest.raises(DecryptionFailed):
        crypto.decrypt(crypto.generate_key(), blob, AAD)


def test_wrong_size_key_is_refused() -> None:
    with pytest.raises(ValueError):
        crypto.encrypt(b"short", b"x", AAD)
    with pytest.raises(DecryptionFailed):
        crypto.decrypt(b"short", crypto.encrypt(KEY, b"x", AAD), AAD)


def test_generate_key_is_random_256_bit() -> None:
    keys = {crypto.generate_key() for _ in range(20)}
    assert len(keys) == 20
    assert all(len(k) == 32 for k in keys)


def test_wrap_unwrap() -> None:
    kek, dek = crypto.generate_key(), crypto.generate_key()
    wrapped = crypto.wrap_key(kek, dek, b"dek:p:1")
    assert dek not in wrapped
    assert crypto.unwrap_key(kek, wrapped, b"dek:p:1") == dek
    with pytest.raises(DecryptionFailed):
        crypto.unwrap_key(crypto.generate_key(), wrapped, b"dek:p:1")
    with pytest.raises(DecryptionFailed):
        crypto.unwrap_key(kek, wrapped, b"dek:q:1")


def test_pseudonym_is_keyed_hash() -> None:
    first = crypto.pseudonym(KEY, "tg-user:123")
    assert first == crypto.pseudonym(KEY, "tg-user:123")
    assert len(first) == 64 and int(first, 16) >= 0
    assert first != crypto.pseudonym(KEY, "tg-user:124")
    assert first != crypto.pseudonym(crypto.generate_key(), "tg-user:123")


def test_master_key_text_round_trip() -> None:
    key = crypto.generate_key()
    text = crypto.encode_master_key(key)
    assert crypto.decode_master_key(text) == key
    assert crypto.decode_master_key(f"  {text}\n") == key
    assert crypto.decode_master_key(text.rstrip("=")) == key


def test_a_standard_base64_key_opens_the_same_store_as_its_urlsafe_form() -> None:
    """`openssl rand -base64 32` writes "+" and "/": the same 32 bytes as the urlsafe form
    `feedbackbot keygen` prints, and accepted as such."""
    key = bytes(range(0xE0, 0x100))
    standard = base64.b64encode(key).decode()
    assert "+" in standard and "/" in standard
    assert crypto.decode_master_key(standard) == key
    assert crypto.decode_master_key(standard.rstrip("=") + "\n") == key
    assert crypto.decode_master_key(base64.urlsafe_b64encode(key).decode()) == key


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not a key!",
        base64.urlsafe_b64encode(b"x" * 31).decode(),
        base64.urlsafe_b64encode(b"x" * 33).decode(),
        "%%%%" * 11,
    ],
)
def test_malformed_master_key_is_rejected_without_echo(text: str) -> None:
    with pytest.raises(InvalidMasterKey) as caught:
        crypto.decode_master_key(text)
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, StoreError)
    if text:
        assert text not in str(caught.value)
