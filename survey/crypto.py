"""All of Chorus's cryptography: sealing answers, wrapping keys, codes for people.

Threat model (README.md "What is stored, and what is not"): whoever gets the
database, a backup, a log or the disk learns nothing about any answer. So answers
are sealed to the survey's X25519 public key before anything is written, and the
matching private key only ever exists wrapped (under a recovery code here, under
custodians' keys in the staff side).

Formats are versioned by their first byte so that a later change can be read
beside data sealed today.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import struct
from dataclasses import dataclass

from argon2.low_level import Type as Argon2Type
from argon2.low_level import hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

SEAL_VERSION = 1
WRAP_VERSION = 1
NONCE_BYTES = 12
KEY_BYTES = 32
# What `seal` and `encrypt` add to what they are given: version, (ephemeral public
# key,) nonce and the GCM tag.
SEAL_OVERHEAD = 1 + 32 + NONCE_BYTES + 16
ENCRYPT_OVERHEAD = 1 + NONCE_BYTES + 16
# `pad`'s length prefix.
LENGTH_PREFIX = 4

# Sealed answers are padded to one of these sizes so that the length of a
# ciphertext says little about how much somebody wrote. Beyond the last bucket
# sizes grow in steps of that bucket.
PAD_BUCKETS = (1024, 2048, 4096, 8192, 16384, 32768, 65536)


class CryptoError(Exception):
    """A box could not be opened: wrong key, wrong context, or altered bytes."""


# --- survey key pairs and sealing ------------------------------------------------


def generate_survey_keypair() -> tuple[bytes, bytes]:
    """Return (private, public) raw 32-byte X25519 keys for a survey."""
    private = X25519PrivateKey.generate()
    return _raw_private(private), _raw_public(private.public_key())


def public_key_for(private_key: bytes) -> bytes:
    """The raw public key that belongs to a raw private key."""
    return _raw_public(X25519PrivateKey.from_private_bytes(private_key).public_key())


def response_aad(survey_id: int, response_id: str, format_version: int) -> bytes:
    """Bind a sealed response to its survey, its id and its format version.

    Length-prefixed so that no two different triples give the same bytes; a box
    moved to another row or survey then fails to open.
    """
    return _length_prefixed(
        b"chorus-response",
        str(survey_id).encode(),
        response_id.encode(),
        str(format_version).encode(),
    )


def seal(
    public_key: bytes,
    plaintext: bytes,
    aad: bytes,
    *,
    padded: bool = True,
    ceiling: int | None = None,
) -> bytes:
    """Encrypt `plaintext` to an X25519 public key (one ECDH per call).

    ephemeral X25519 → HKDF-SHA256 → AES-256-GCM. Answers are padded to a size
    bucket first (never beyond `ceiling`, see `pad`); keys (always 32 bytes) are
    sealed with `padded=False`.
    Layout: version ‖ ephemeral public key ‖ nonce ‖ ciphertext.
    """
    recipient = X25519PublicKey.from_public_bytes(public_key)
    ephemeral = X25519PrivateKey.generate()
    ephemeral_public = _raw_public(ephemeral.public_key())
    key = _seal_key(ephemeral.exchange(recipient), ephemeral_public, public_key)
    nonce = os.urandom(NONCE_BYTES)
    ciphertext = AESGCM(key).encrypt(nonce, pad(plaintext, ceiling) if padded else plaintext, aad)
    return bytes([SEAL_VERSION]) + ephemeral_public + nonce + ciphertext


def open_sealed(private_key: bytes, box: bytes, aad: bytes, *, padded: bool = True) -> bytes:
    """Decrypt a box made by `seal`; raise CryptoError if anything is off."""
    header = 1 + 32 + NONCE_BYTES
    if len(box) < header + 16 or box[0] != SEAL_VERSION:
        raise CryptoError("not a sealed box of a known version")
    ephemeral_public = box[1:33]
    nonce = box[33:header]
    private = X25519PrivateKey.from_private_bytes(private_key)
    recipient_public = _raw_public(private.public_key())
    try:
        shared = private.exchange(X25519PublicKey.from_public_bytes(ephemeral_public))
        key = _seal_key(shared, ephemeral_public, recipient_public)
        plaintext = AESGCM(key).decrypt(nonce, box[header:], aad)
        return unpad(plaintext) if padded else plaintext
    except (InvalidTag, ValueError) as exc:
        raise CryptoError("the box could not be opened") from exc


def pad(data: bytes, ceiling: int | None = None) -> bytes:
    """Length-prefix `data` and fill with zeros up to its size bucket.

    A `ceiling` (what the largest data of its kind pads to) is the top bucket:
    data that fits under it is never padded beyond it.
    """
    needed = len(data) + 4
    size = next((b for b in PAD_BUCKETS if b >= needed), None)
    if size is None:
        step = PAD_BUCKETS[-1]
        size = -(-needed // step) * step
    if ceiling is not None and needed <= ceiling < size:
        size = ceiling
    return pad_to(data, size)


def pad_to(data: bytes, size: int) -> bytes:
    """Length-prefix `data` and fill with zeros to exactly `size` bytes (to the
    next multiple of `size` should it not fit). `unpad` undoes it."""
    needed = len(data) + 4
    if needed > size:
        size = -(-needed // size) * size
    return struct.pack(">I", len(data)) + data + bytes(size - needed)


def pad_json(document: bytes, size: int) -> bytes:
    """A JSON document followed by spaces to exactly `size` bytes (to the next
    multiple of `size` should it not fit): still the same JSON to any reader."""
    if len(document) > size:
        size = -(-len(document) // size) * size
    return document.ljust(size, b" ")


def unpad(padded: bytes) -> bytes:
    """Undo `pad`."""
    if len(padded) < 4:
        raise CryptoError("padding is damaged")
    (length,) = struct.unpack(">I", padded[:4])
    if length > len(padded) - 4:
        raise CryptoError("padding is damaged")
    return padded[4 : 4 + length]


def _seal_key(shared: bytes, ephemeral_public: bytes, recipient_public: bytes) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(),
        length=KEY_BYTES,
        salt=ephemeral_public + recipient_public,
        info=b"chorus-seal/1",
    ).derive(shared)


# --- symmetric boxes: key wrapping and drafts --------------------------------------


def encrypt(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """AES-256-GCM with a random nonce. Layout: version ‖ nonce ‖ ciphertext."""
    nonce = os.urandom(NONCE_BYTES)
    return bytes([WRAP_VERSION]) + nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def decrypt(key: bytes, box: bytes, aad: bytes) -> bytes:
    """Undo `encrypt`; raise CryptoError if the key, context or bytes are wrong."""
    if len(box) < 1 + NONCE_BYTES + 16 or box[0] != WRAP_VERSION:
        raise CryptoError("not an encrypted box of a known version")
    try:
        return AESGCM(key).decrypt(box[1 : 1 + NONCE_BYTES], box[1 + NONCE_BYTES :], aad)
    except (InvalidTag, ValueError) as exc:
        raise CryptoError("the box could not be opened") from exc


def new_key() -> bytes:
    """A fresh random 256-bit symmetric key."""
    return secrets.token_bytes(KEY_BYTES)


def recovery_wrapping_key(recovery_code: str, salt: bytes) -> bytes:
    """The key a survey's recovery code stands for.

    The code already carries 140 random bits, so a fast KDF is enough: there is
    nothing to stretch.
    """
    material = normalise_code(recovery_code).encode()
    return HKDF(
        algorithm=hashes.SHA256(), length=KEY_BYTES, salt=salt, info=b"chorus-recovery/1"
    ).derive(material)


def seal_key(public_key: bytes, key: bytes, aad: bytes) -> bytes:
    """A 32-byte key sealed to an X25519 public key (a survey key to a custodian)."""
    if len(key) != KEY_BYTES:
        raise ValueError("only 32-byte keys are sealed this way")
    return seal(public_key, key, aad, padded=False)


def open_key(private_key: bytes, box: bytes, aad: bytes) -> bytes:
    """Undo `seal_key`; CryptoError if the box is not for this key and context."""
    key = open_sealed(private_key, box, aad, padded=False)
    if len(key) != KEY_BYTES:
        raise CryptoError("the box does not hold a key")
    return key


@dataclass(frozen=True)
class PasswordCost:
    """argon2id work factor for keys derived from staff passwords.

    The same settings as staff password hashes (CHORUS_ARGON2_*); tests pass a
    cheap cost through the app config instead of weakening the code.
    """

    time_cost: int = 3
    memory_kib: int = 65536

    def to_text(self) -> str:
        """Stored beside what it protects, so a later change of settings still opens it."""
        return f"argon2id:t={self.time_cost},m={self.memory_kib},p=1"

    @classmethod
    def from_text(cls, text: str) -> PasswordCost:
        match = re.fullmatch(r"argon2id:t=(\d{1,3}),m=(\d{1,8}),p=1", text)
        if match is None:
            raise CryptoError(f"unknown key-derivation parameters {text!r}")
        return cls(time_cost=int(match.group(1)), memory_kib=int(match.group(2)))


def password_wrapping_key(password: str, salt: bytes, cost: PasswordCost) -> bytes:
    """argon2id(password, salt): the key a custodian's private key is stored under.

    Its salt is not the password hash's, so the stored hash says nothing about it.
    """
    return hash_secret_raw(
        password.encode(),
        salt,
        time_cost=cost.time_cost,
        memory_cost=cost.memory_kib,
        parallelism=1,
        hash_len=KEY_BYTES,
        type=Argon2Type.ID,
    )


def custodian_aad(user_id: int) -> bytes:
    """Bind a custodian's stored private key to their account."""
    return _length_prefixed(b"chorus-custodian-key", str(user_id).encode())


@dataclass(frozen=True)
class CustodianKey:
    """A custodian's key pair as stored: the public key, and the private key
    encrypted under `password_wrapping_key(password, salt, cost)`."""

    public_key: bytes
    sealed_private_key: bytes
    salt: bytes
    cost: PasswordCost


def new_custodian_key(user_id: int, password: str, cost: PasswordCost) -> CustodianKey:
    """A fresh X25519 key pair for a custodian, its private half under their password."""
    private_key, _ = generate_survey_keypair()
    return store_custodian_key(user_id, private_key, password, cost)


def store_custodian_key(
    user_id: int, private_key: bytes, password: str, cost: PasswordCost
) -> CustodianKey:
    """`private_key` encrypted under a (new) password, with a fresh salt."""
    salt = secrets.token_bytes(16)
    wrapping_key = password_wrapping_key(password, salt, cost)
    sealed = encrypt(wrapping_key, private_key, custodian_aad(user_id))
    return CustodianKey(public_key_for(private_key), sealed, salt, cost)


def open_custodian_key(
    user_id: int, sealed_private_key: bytes, salt: bytes, password: str, cost: PasswordCost
) -> bytes:
    """A custodian's private key from their password; CryptoError if it is wrong."""
    wrapping_key = password_wrapping_key(password, salt, cost)
    return decrypt(wrapping_key, sealed_private_key, custodian_aad(user_id))


def analysis_aad(survey_id: int, name: str, format_name: str) -> bytes:
    """Bind a sealed piece of analysts' work (codes, quotes) to its survey, its name
    and its format, so that one can't be passed off as another."""
    return _length_prefixed(
        b"chorus-analysis", str(survey_id).encode(), name.encode(), format_name.encode()
    )


def wrap_aad(survey_id: int, holder: str) -> bytes:
    """Bind a wrapped survey key to its survey and to who holds it."""
    return _length_prefixed(b"chorus-survey-key", str(survey_id).encode(), holder.encode())


@dataclass(frozen=True)
class ScryptCost:
    """scrypt work factor for keys derived from codes people type.

    Production uses n=2**15 (about 32 MiB and tens of milliseconds); tests pass a
    cheap cost through the app config instead of weakening the code.
    """

    log2_n: int = 15
    r: int = 8
    p: int = 1


def code_derived_key(code: str, salt: bytes, cost: ScryptCost) -> bytes:
    """Derive a draft key from a resume code (slow on purpose)."""
    kdf = Scrypt(salt=salt, length=KEY_BYTES, n=2**cost.log2_n, r=cost.r, p=cost.p)
    return kdf.derive(normalise_code(code).encode())


# --- codes for people ---------------------------------------------------------------

# Crockford's base32: no I, L, O or U, so codes are easy to read aloud and type.
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CONFUSABLE = str.maketrans({"I": "1", "L": "1", "O": "0"})
# Hyphens, dashes and minus signs, as word processors and printed sheets give them.
_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212"

PERSON_CODE_CHARS = 16  # 80 bits: resume, receipt and invite codes
RECOVERY_CODE_CHARS = 28  # 140 bits: a survey's recovery code, 7 groups of 4


def generate_code(chars: int = PERSON_CODE_CHARS, group: int = 4) -> str:
    """A random code from a CSPRNG, in hyphenated groups: ABCD-EFGH-JKMN-PQRS."""
    raw = "".join(secrets.choice(CROCKFORD) for _ in range(chars))
    return "-".join(raw[i : i + group] for i in range(0, chars, group))


def normalise_code(typed: str) -> str:
    """What a person typed, reduced to the code's characters.

    Case, spaces and hyphens don't matter and I/L/O read as 1/1/0, as Crockford
    intends. Other characters are kept so that `is_well_formed_code` can refuse them.
    """
    cleaned = "".join(ch for ch in typed.upper() if not (ch.isspace() or ch in _DASHES))
    return cleaned.translate(_CONFUSABLE)


def is_well_formed_code(typed: str, chars: int = PERSON_CODE_CHARS) -> bool:
    """True when `typed` could be a code of this length (says nothing of validity)."""
    code = normalise_code(typed)
    return len(code) == chars and all(ch in CROCKFORD for ch in code)


def code_lookup(secret: bytes, purpose: str, typed: str) -> str:
    """The value stored in place of a code: HMAC(server secret, purpose ‖ code).

    Codes are never stored raw; the purpose keeps a resume code from ever
    matching a receipt or an invite.
    """
    message = _length_prefixed(purpose.encode(), normalise_code(typed).encode())
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def derive_secret(master: bytes, purpose: str) -> bytes:
    """A sub-key of the app's secret for one purpose (code lookups, ...)."""
    return HKDF(
        algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=purpose.encode()
    ).derive(master)


# --- helpers --------------------------------------------------------------------------


def canonical_json(value: object) -> bytes:
    """One byte string per value: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text.encode())


def _length_prefixed(*parts: bytes) -> bytes:
    return b"".join(struct.pack(">I", len(p)) + p for p in parts)


def _raw_private(key: X25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )


def _raw_public(key: X25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
