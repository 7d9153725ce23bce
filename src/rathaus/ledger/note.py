"""C2SP signed notes (Ed25519) and tlog checkpoints.

Formats: https://c2sp.org/signed-note and https://c2sp.org/tlog-checkpoint. Keys use the
encodings of golang.org/x/mod/sumdb/note, which other tools in the ecosystem read:

* verifier key: ``<name>+<key id, 8 hex digits>+<base64(0x01 || 32-byte public key)>``
* signer key:   ``PRIVATE+KEY+<name>+<key id>+<base64(0x01 || 32-byte seed)>``

with key id = SHA-256(name || 0x0A || 0x01 || public key)[:4]. Imports nothing from Django.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

ED25519 = 0x01
MAX_SIGNATURES = 100
_NAME = re.compile(r"^[^\s+]+$")


class NoteError(ValueError):
    """A note, key or checkpoint is malformed or its signature does not verify."""


def key_id(name: str, public_key: bytes) -> int:
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([ED25519]) + public_key).digest()
    return int.from_bytes(digest[:4], "big")


def _check_name(name: str) -> None:
    if not name or not _NAME.match(name):
        raise NoteError(f"invalid key name {name!r}: no spaces or plus signs allowed")


def _b64decode(value: str) -> bytes:
    try:
        return base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise NoteError("invalid base64") from exc


def _b64encode(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


@dataclass(frozen=True)
class Verifier:
    name: str
    key_id: int
    public_key: Ed25519PublicKey

    @classmethod
    def from_key(cls, vkey: str) -> Verifier:
        """Parse a verifier key ``name+keyid+base64``."""
        parts = vkey.strip().split("+", 2)
        if len(parts) != 3:
            raise NoteError("a verifier key has the form name+keyid+base64key")
        name, id_hex, encoded = parts
        _check_name(name)
        if not re.fullmatch(r"[0-9a-f]{8}", id_hex):
            raise NoteError("the key id must be 8 lower-case hex digits")
        raw = _b64decode(encoded)
        if len(raw) != 33 or raw[0] != ED25519:
            raise NoteError("only Ed25519 verifier keys (type 0x01, 32 bytes) are supported")
        if key_id(name, raw[1:]) != int(id_hex, 16):
            raise NoteError("the key id does not match the key")
        return cls(name, int(id_hex, 16), Ed25519PublicKey.from_public_bytes(raw[1:]))

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            self.public_key.verify(signature, message)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class Signer:
    name: str
    key_id: int
    private_key: Ed25519PrivateKey

    @classmethod
    def from_seed(cls, name: str, seed: bytes) -> Signer:
        _check_name(name)
        if len(seed) != 32:
            raise NoteError("an Ed25519 seed is 32 bytes")
        private = Ed25519PrivateKey.from_private_bytes(seed)
        return cls(name, key_id(name, _public_bytes(private)), private)

    @classmethod
    def generate(cls, name: str) -> Signer:
        _check_name(name)
        private = Ed25519PrivateKey.generate()
        return cls(name, key_id(name, _public_bytes(private)), private)

    @classmethod
    def from_key(cls, skey: str) -> Signer:
        """Parse a signer key ``PRIVATE+KEY+name+keyid+base64``."""
        prefix = "PRIVATE+KEY+"
        parts = skey.strip().removeprefix(prefix).split("+", 2)
        if not skey.strip().startswith(prefix) or len(parts) != 3:
            raise NoteError("a signer key has the form PRIVATE+KEY+name+keyid+base64seed")
        name, id_hex, encoded = parts
        raw = _b64decode(encoded)
        if len(raw) != 33 or raw[0] != ED25519:
            raise NoteError("only Ed25519 signer keys (type 0x01, 32-byte seed) are supported")
        signer = cls.from_seed(name, raw[1:])
        if f"{signer.key_id:08x}" != id_hex:
            raise NoteError("the key id does not match the key")
        return signer

    @property
    def public_key(self) -> bytes:
        return _public_bytes(self.private_key)

    def signer_key(self) -> str:
        seed = self.private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        return f"PRIVATE+KEY+{self.name}+{self.key_id:08x}+{_b64encode(bytes([ED25519]) + seed)}"

    def verifier_key(self) -> str:
        return f"{self.name}+{self.key_id:08x}+{_b64encode(bytes([ED25519]) + self.public_key)}"

    def verifier(self) -> Verifier:
        return Verifier.from_key(self.verifier_key())

    def sign(self, message: bytes) -> bytes:
        return self.private_key.sign(message)


def _public_bytes(private: Ed25519PrivateKey) -> bytes:
    return private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def _check_text(text: str) -> None:
    if not text.endswith("\n"):
        raise NoteError("the note text must end with a newline")
    if any(ord(c) < 0x20 and c != "\n" for c in text):
        raise NoteError("the note text contains control characters")


def sign(text: str, signers: list[Signer]) -> str:
    """Sign ``text`` (ending in a newline) with every signer; returns the signed note."""
    _check_text(text)
    if not signers:
        raise NoteError("at least one signer is needed")
    message = text.encode("utf-8")
    lines = []
    for signer in signers:
        signature = signer.key_id.to_bytes(4, "big") + signer.sign(message)
        lines.append(f"\u2014 {signer.name} {_b64encode(signature)}\n")
    return text + "\n" + "".join(lines)


@dataclass(frozen=True)
class Signature:
    name: str
    key_id: int
    signature: bytes


def split(note: str | bytes) -> tuple[str, list[Signature]]:
    """Split a signed note into its text and signature lines (nothing is verified yet)."""
    if isinstance(note, bytes):
        try:
            note = note.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise NoteError("a note must be UTF-8") from exc
    if any(ord(c) < 0x20 and c != "\n" for c in note):
        raise NoteError("the note contains control characters")
    cut = note.rfind("\n\n")
    if cut < 0 or not note.endswith("\n"):
        raise NoteError("malformed note: no blank line before the signatures")
    text, block = note[: cut + 1], note[cut + 2 :]
    signatures = []
    for line in block[:-1].split("\n"):
        if not line.startswith("\u2014 "):
            raise NoteError("malformed signature line")
        fields = line[2:].split(" ")
        if len(fields) != 2:
            raise NoteError("malformed signature line")
        name, encoded = fields
        _check_name(name)
        raw = _b64decode(encoded)
        if len(raw) < 5:
            raise NoteError("signature too short")
        signatures.append(Signature(name, int.from_bytes(raw[:4], "big"), raw[4:]))
    if len(signatures) > MAX_SIGNATURES:
        raise NoteError("too many signatures")
    return text, signatures


def open_note(note: str | bytes, verifiers: list[Verifier]) -> tuple[str, list[Verifier]]:
    """Verify a signed note; return its text and the verifiers whose signatures verified.

    Signatures of unknown keys are ignored; a signature of a known key that fails rejects the
    whole note; a note without a verified signature is rejected (c2sp.org/signed-note).
    """
    text, signatures = split(note)
    message = text.encode("utf-8")
    verified: list[Verifier] = []
    for sig in signatures:
        for verifier in verifiers:
            if verifier.name == sig.name and verifier.key_id == sig.key_id:
                if not verifier.verify(message, sig.signature):
                    raise NoteError(f"invalid signature for key {sig.name}+{sig.key_id:08x}")
                if verifier not in verified:
                    verified.append(verifier)
    if not verified:
        raise NoteError("the note has no signature by a trusted key")
    return text, verified


@dataclass(frozen=True)
class Checkpoint:
    """A tlog checkpoint: the log's origin, tree size and root hash."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def text(self) -> str:
        lines = [self.origin, str(self.size), _b64encode(self.root_hash), *self.extensions]
        return "\n".join(lines) + "\n"

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "" or any(not line for line in lines[:-1]):
            raise NoteError("a checkpoint has at least three non-empty lines")
        origin, size, root_b64, *extensions = lines[:-1]
        if not re.fullmatch(r"0|[1-9][0-9]*", size):
            raise NoteError("the tree size is not a decimal number without leading zeroes")
        root_hash = _b64decode(root_b64)
        if len(root_hash) != 32:
            raise NoteError("the root hash is not 32 bytes")
        return cls(origin, int(size), root_hash, tuple(extensions))


def sign_checkpoint(checkpoint: Checkpoint, signers: list[Signer]) -> str:
    return sign(checkpoint.text(), signers)


def open_checkpoint(
    note: str | bytes, verifiers: list[Verifier], *, origin: str | None = None
) -> Checkpoint:
    """Verify a signed checkpoint and parse it; optionally require its origin line."""
    text, _ = open_note(note, verifiers)
    checkpoint = Checkpoint.parse(text)
    if origin is not None and checkpoint.origin != origin:
        raise NoteError(f"the checkpoint is for origin {checkpoint.origin!r}, not {origin!r}")
    return checkpoint
