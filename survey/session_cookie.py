"""The session cookie, encrypted: nobody holding it can read what it carries.

Flask's own cookie is signed, not encrypted: its content (a respondent's draft
key and receipt code, a staff member's unlock handles) is base64 JSON that
anyone with the cookie can decode. This interface keeps Flask's behaviour
(cookie name, flags, expiry, "empty session deletes the cookie") and only
changes the value: AES-256-GCM under a sub-key of the app's secret, with the
time it was written inside, so an old cookie lapses as Flask's signed one did.

A cookie that doesn't decrypt (tampered, cut short, written by another key or
in the old signed format, too old) is simply an empty session.
"""

from __future__ import annotations

import base64
import binascii
import os
import struct
import time
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import Flask, Request
from flask.json.tag import TaggedJSONSerializer
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import BadSignature

from survey.config import app_subkey
from survey.health import HEALTH_PATH

FORMAT = b"chorus-session/1"
NONCE_BYTES = 12
TIME_BYTES = 8


class SessionCipher:
    """Turns a session dict into a cookie value and back (the two methods Flask's
    signed-cookie interface calls on its serializer)."""

    def __init__(self, key: bytes):
        self._aead = AESGCM(key)
        self._json = TaggedJSONSerializer()

    def dumps(self, data: dict[str, Any]) -> str:
        written = struct.pack(">Q", int(time.time()))
        plaintext = written + self._json.dumps(data).encode()
        nonce = os.urandom(NONCE_BYTES)
        sealed = nonce + self._aead.encrypt(nonce, plaintext, FORMAT)
        return base64.urlsafe_b64encode(sealed).rstrip(b"=").decode("ascii")

    def loads(self, value: str, max_age: int | None = None) -> dict[str, Any]:
        try:
            padded = value + "=" * (-len(value) % 4)
            sealed = base64.b64decode(padded, altchars=b"-_", validate=True)
            nonce, box = sealed[:NONCE_BYTES], sealed[NONCE_BYTES:]
            plaintext = self._aead.decrypt(nonce, box, FORMAT)
        except (binascii.Error, ValueError, InvalidTag):
            raise BadSignature("the session cookie doesn't decrypt") from None
        (written,) = struct.unpack(">Q", plaintext[:TIME_BYTES])
        if max_age is not None and time.time() - written > max_age:
            raise BadSignature("the session cookie is too old")
        try:
            data = self._json.loads(plaintext[TIME_BYTES:].decode())
        except ValueError:
            raise BadSignature("the session cookie holds no session") from None
        if not isinstance(data, dict):
            raise BadSignature("the session cookie holds no session")
        return data


class EncryptedCookieSessionInterface(SecureCookieSessionInterface):
    """Flask's cookie session with an encrypted value instead of a signed one.

    The health check gets no session at all: its cookie, if a client sends one,
    is neither decrypted nor written back.
    """

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.path == HEALTH_PATH:
            return self.make_null_session(app)
        return super().open_session(app, request)

    def get_signing_serializer(self, app: Flask) -> SessionCipher:  # type: ignore[override]
        cipher = app.extensions.get("chorus_session_cipher")
        if cipher is None:
            with app.app_context():
                cipher = SessionCipher(app_subkey("session-cookie"))
            app.extensions["chorus_session_cipher"] = cipher
        return cipher
