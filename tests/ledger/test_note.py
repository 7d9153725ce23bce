"""Signed notes and checkpoints: the published golang.org/x/mod/sumdb/note vectors."""

from __future__ import annotations

import pytest

from rathaus.ledger import note

PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_SIG = (
    "\u2014 PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
ENOCH_SIG = (
    "\u2014 EnochRoot "
    "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"
)


def test_signing_reproduces_the_published_vector() -> None:
    signer = note.Signer.from_key(PETER_SKEY)
    assert signer.key_id == 0xC74F20A3
    assert signer.verifier_key() == PETER_VKEY
    assert signer.signer_key() == PETER_SKEY
    assert note.sign(TEXT, [signer]) == TEXT + "\n" + PETER_SIG


def test_published_note_opens_with_the_right_key_and_ignores_unknown_signatures() -> None:
    peter = note.Verifier.from_key(PETER_VKEY)
    enoch = note.Verifier.from_key(ENOCH_VKEY)
    text, verified = note.open_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG, [peter])
    assert text == TEXT
    assert verified == [peter]
    _, both = note.open_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG, [peter, enoch])
    assert both == [peter, enoch]


def test_note_without_a_trusted_signature_is_rejected() -> None:
    enoch = note.Verifier.from_key(ENOCH_VKEY)
    with pytest.raises(note.NoteError, match="trusted"):
        note.open_note(TEXT + "\n" + PETER_SIG, [enoch])


def test_changed_text_or_signature_is_rejected() -> None:
    peter = note.Verifier.from_key(PETER_VKEY)
    with pytest.raises(note.NoteError, match="invalid signature"):
        note.open_note(TEXT.replace("answer", "Answer") + "\n" + PETER_SIG, [peter])
    forged = PETER_SIG[:60] + "ABCD" + PETER_SIG[60:]
    with pytest.raises(note.NoteError):
        note.open_note(TEXT + "\n" + forged, [peter])


@pytest.mark.parametrize(
    "bad",
    [
        TEXT,
        TEXT + "\n",
        TEXT + "\n" + PETER_SIG[:-1],
        "\x01" + TEXT + "\n" + PETER_SIG,
        TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
        TEXT + "\n" + PETER_SIG.replace("PeterNeumann", "Peter Neumann"),
    ],
)
def test_malformed_notes_are_rejected(bad: str) -> None:
    with pytest.raises(note.NoteError):
        note.open_note(bad, [note.Verifier.from_key(PETER_VKEY)])


@pytest.mark.parametrize(
    "bad",
    [
        PETER_VKEY[:-1],
        PETER_VKEY.replace("c74f20a3", "c74f20a4"),
        PETER_VKEY.replace("+ARpc", "+ZRpc"),
        "Peter+Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "",
    ],
)
def test_mangled_verifier_keys_are_rejected(bad: str) -> None:
    with pytest.raises(note.NoteError):
        note.Verifier.from_key(bad)


def test_checkpoint_round_trip_and_parsing() -> None:
    cp = note.Checkpoint("rathaus.example/govchain", 20852163, bytes(range(32)))
    assert (
        cp.text()
        == "rathaus.example/govchain\n20852163\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
    )
    assert note.Checkpoint.parse(cp.text()) == cp
    for bad in ["a\n01\nAAAA\n", "a\n1\n\n", "a\n1\n" + "A" * 44 + "\n", "a\n1\n"]:
        with pytest.raises(note.NoteError):
            note.Checkpoint.parse(bad)


def test_checkpoint_from_one_key_does_not_verify_under_another() -> None:
    log_key = note.Signer.generate("rathaus.example/govchain")
    other_key = note.Signer.generate("rathaus.example/govchain")
    cp = note.Checkpoint("rathaus.example/govchain", 5, bytes(32))
    signed = note.sign_checkpoint(cp, [log_key])
    assert note.open_checkpoint(signed, [log_key.verifier()]) == cp
    with pytest.raises(note.NoteError):
        note.open_checkpoint(signed, [other_key.verifier()])
    with pytest.raises(note.NoteError, match="origin"):
        note.open_checkpoint(signed, [log_key.verifier()], origin="elsewhere.example/log")


def test_checkpoint_signed_during_key_rotation_verifies_under_old_and_new_key() -> None:
    old = note.Signer.generate("rathaus.example/govchain")
    new = note.Signer.generate("rathaus.example/govchain")
    signed = note.sign_checkpoint(
        note.Checkpoint("rathaus.example/govchain", 1, bytes(32)), [new, old]
    )
    note.open_checkpoint(signed, [old.verifier()])
    note.open_checkpoint(signed, [new.verifier()])
