"""Checkpoints and cosignatures as C2SP signed notes (c2sp.org/signed-note, tlog-checkpoint,
tlog-cosignature), so that any tool of the transparency-log ecosystem reads them.

A checkpoint's body is three lines: the log's origin, its size in decimal, its root hash in
base64 (standard, padded). A note is its body, an empty line, and one signature line per signer:
``— <key name> base64(key id || signature)`` (U+2014, a space, the name, a space). For the log's
own Ed25519 signature the key id is ``SHA-256(name || 0x0A || 0x01 || public key)[:4]`` and the
signature is over the body; for a witness's cosignature (cosignature/v1) the id's type byte is
0x04 and what is signed is ``cosignature/v1\\ntime <T>\\n`` followed by the body, the signature
being the 8-byte big-endian ``T`` followed by the 64-byte Ed25519 signature. A verifier is
configured with a (name, public key) and ignores lines that do not match them: so a key can
rotate, and each note names the key that signed it by its name and id.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from socialcredit.errors import Refused
from socialcredit.i18n import N_

DASH = "\u2014"
ED25519 = 0x01
COSIGNATURE_V1 = 0x04


class NoteError(Refused):
    """A note that cannot be read, or whose signature by the expected key does not hold."""


def raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(name: str, public: Ed25519PublicKey, kind: int = ED25519) -> bytes:
    """The 4-byte key id a signature line carries (signed-note; tlog-cosignature with 0x04)."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([kind]) + raw(public)).digest()[:4]


def vkey(name: str, public: Ed25519PublicKey, kind: int = ED25519) -> str:
    """The verifier key text (``name+hex id+base64(type || key)``) others configure to trust it."""
    material = base64.b64encode(bytes([kind]) + raw(public)).decode()
    return f"{name}+{key_id(name, public, kind).hex()}+{material}"


def check_name(name: str) -> str:
    if not name or any(c.isspace() for c in name) or "+" in name:
        raise NoteError(
            N_("a key name must be non-empty, without spaces or '+': {name!r}", name=name), field="name"
        )
    return name


@dataclass(frozen=True)
class Checkpoint:
    """A log's signed statement of its size and root (tlog-checkpoint)."""

    origin: str
    size: int
    root: bytes

    def body(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"

    @classmethod
    def parse(cls, body: str) -> Checkpoint:
        lines = body.split("\n")
        if len(lines) < 4 or lines[-1] != "" or not lines[0]:
            raise NoteError(
                N_("a checkpoint body is an origin, a size and a root hash, one a line"), field="note"
            )
        origin, size, root = lines[0], lines[1], lines[2]
        if not size.isdigit() or (size != "0" and size.startswith("0")):
            raise NoteError(
                N_("the checkpoint's size is not a decimal number: {size!r}", size=size), field="note"
            )
        try:
            digest = base64.b64decode(root, validate=True)
        except binascii.Error:
            digest = b""
        if len(digest) != 32:
            raise NoteError(N_("the checkpoint's root hash is not 32 bytes in base64"), field="note")
        return cls(origin, int(size), digest)


@dataclass(frozen=True)
class Signature:
    """One signature line of a note."""

    name: str
    key_id: bytes
    signature: bytes

    def line(self) -> str:
        return f"{DASH} {self.name} {base64.b64encode(self.key_id + self.signature).decode()}\n"


def split(note: str) -> tuple[str, list[Signature]]:
    """A note's body and its signature lines (every one, whoever signed)."""
    if "\n\n" not in note:
        raise NoteError(N_("not a signed note: no empty line before the signatures"), field="note")
    body, _, tail = note.partition("\n\n")
    body += "\n"
    signatures: list[Signature] = []
    for line in tail.split("\n"):
        if not line:
            continue
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != DASH:
            raise NoteError(N_("not a signature line: {line!r}", line=line[:80]), field="note")
        try:
            blob = base64.b64decode(parts[2], validate=True)
        except binascii.Error:
            raise NoteError(N_("a signature of {name} is not base64", name=parts[1]), field="note") from None
        if len(blob) < 5:
            raise NoteError(N_("a signature of {name} is too short", name=parts[1]), field="note")
        signatures.append(Signature(parts[1], blob[:4], blob[4:]))
    if not signatures:
        raise NoteError(N_("the note has no signature"), field="note")
    return body, signatures


class Signer:
    """A log's (or a witness's) Ed25519 key under its name."""

    def __init__(self, name: str, key: Ed25519PrivateKey) -> None:
        self.name = check_name(name)
        self.key = key
        self.public = key.public_key()

    def key_id(self, kind: int = ED25519) -> bytes:
        return key_id(self.name, self.public, kind)

    def sign(self, body: str) -> str:
        """The signed note of ``body``: the body, an empty line, this key's signature line."""
        line = Signature(self.name, self.key_id(), self.key.sign(body.encode())).line()
        return f"{body}\n{line}"

    def cosign(self, note: str, timestamp: int) -> str:
        """``note`` with this key's cosignature (cosignature/v1) added to its signatures."""
        body, _ = split(note)
        message = f"cosignature/v1\ntime {timestamp}\n{body}".encode()
        blob = struct.pack(">Q", timestamp) + self.key.sign(message)
        return note + Signature(self.name, self.key_id(COSIGNATURE_V1), blob).line()


def verify(note: str, name: str, public: Ed25519PublicKey) -> Checkpoint:
    """The checkpoint ``note`` holds, once its signature by (``name``, ``public``) is checked."""
    body, signatures = split(note)
    wanted = key_id(name, public)
    mine = [s for s in signatures if s.name == name and s.key_id == wanted]
    if not mine:
        named = ", ".join(f"{s.name} ({s.key_id.hex()})" for s in signatures)
        raise NoteError(
            N_(
                "no signature by {name} with key {key}: signed by {named}",
                name=name,
                key=wanted.hex(),
                named=named,
            ),
            field="key",
        )
    try:
        public.verify(mine[0].signature, body.encode())
    except InvalidSignature:
        raise NoteError(
            N_("the signature does not match: the checkpoint was altered"), field="note"
        ) from None
    return Checkpoint.parse(body)


def signed_by(note: str, public: Ed25519PublicKey) -> tuple[str, Checkpoint]:
    """The name under which ``public`` signed ``note``, and the checkpoint it holds: a verifier
    holding only the public key finds the line whose key id that key gives under its name."""
    _body, signatures = split(note)
    for s in signatures:
        if s.key_id == key_id(s.name, public):
            return s.name, verify(note, s.name, public)
    raise NoteError(N_("no signature in the note is by this key"), field="key")


def verify_cosignature(note: str, name: str, public: Ed25519PublicKey) -> int:
    """The time a witness (``name``, ``public``) cosigned ``note``; raises unless it did."""
    body, signatures = split(note)
    wanted = key_id(name, public, COSIGNATURE_V1)
    for s in signatures:
        if s.name == name and s.key_id == wanted and len(s.signature) == 72:
            (timestamp,) = struct.unpack(">Q", s.signature[:8])
            message = f"cosignature/v1\ntime {timestamp}\n{body}".encode()
            try:
                public.verify(s.signature[8:], message)
            except InvalidSignature:
                break
            return int(timestamp)
    raise NoteError(N_("no valid cosignature by {name}", name=name), field="note")


@dataclass(frozen=True)
class Witness:
    """A witness the log knows: its key name and Ed25519 public key (cosignature/v1)."""

    name: str
    public: Ed25519PublicKey

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.public, COSIGNATURE_V1)

    def vkey(self) -> str:
        return vkey(self.name, self.public, COSIGNATURE_V1)


def parse_witness(text: str) -> Witness:
    """A witness's verifier key (``name+hex key id+base64(0x04 || public key)``, as
    ``socialcredit witness`` prints it), checked: the type is cosignature/v1 and the key id is
    the one its name and key give."""
    parts = text.strip().split("+", 2)
    if len(parts) != 3:
        raise NoteError(N_("a witness key is name+key id+key, as the witness prints it"), field="witness")
    name, hex_id, material = parts
    try:
        raw_key = base64.b64decode(material, validate=True)
        given_id = bytes.fromhex(hex_id)
    except (binascii.Error, ValueError):
        raise NoteError(N_("a witness key's id is hex and its key base64"), field="witness") from None
    if len(raw_key) != 33 or raw_key[0] != COSIGNATURE_V1:
        raise NoteError(N_("not a cosignature/v1 Ed25519 witness key"), field="witness")
    witness = Witness(check_name(name), Ed25519PublicKey.from_public_bytes(raw_key[1:]))
    if witness.key_id != given_id:
        raise NoteError(N_("the witness key's id is not the one its name and key give"), field="witness")
    return witness
