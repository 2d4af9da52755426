"""Pseudonyms (``app.training.names``): a keyed HMAC of the id, checked against published
HMAC-SHA256 vectors (RFC 4231), never against the function under test."""

from __future__ import annotations

from app.training.names import pseudonym


def test_pseudonyms_are_hmac_sha256_of_the_id_under_the_key() -> None:
    # RFC 4231 test cases 1 and 2: HMAC-SHA256 b0344c61... and 5bdcc146...
    assert pseudonym("Hi There", key=b"\x0b" * 20) == "Learner-B0344C61"
    assert pseudonym("what do ya want for nothing?", key=b"Jefe") == "Learner-5BDCC146"


def test_the_key_decides_the_pseudonym() -> None:
    # Without the server's key no one can compute a student's pseudonym from the id.
    student = "SIDHI_0001"
    assert pseudonym(student, key=b"a" * 32) == pseudonym(student, key=b"a" * 32)
    assert pseudonym(student, key=b"a" * 32) != pseudonym(student, key=b"b" * 32)
    assert pseudonym(student, key=b"a" * 32) != pseudonym("SIDHI_0002", key=b"a" * 32)
