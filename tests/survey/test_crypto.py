"""survey.crypto: sealing answers, symmetric boxes, keys from codes, codes for people.

No app, no database: the module is pure functions over bytes.
"""

from __future__ import annotations

import math
import re
import struct

import pytest

from survey import crypto
from survey.crypto import (
    CROCKFORD,
    NONCE_BYTES,
    PAD_BUCKETS,
    PERSON_CODE_CHARS,
    RECOVERY_CODE_CHARS,
    CryptoError,
    ScryptCost,
    code_derived_key,
    code_lookup,
    decrypt,
    encrypt,
    generate_code,
    generate_survey_keypair,
    is_well_formed_code,
    normalise_code,
    open_sealed,
    pad,
    public_key_for,
    recovery_wrapping_key,
    response_aad,
    seal,
    unpad,
)

CHEAP = ScryptCost(log2_n=4)  # tests only: the code is the same, the work factor is tiny
SEAL_OVERHEAD = 1 + 32 + NONCE_BYTES + 16  # version, ephemeral key, nonce, GCM tag
BOX_OVERHEAD = 1 + NONCE_BYTES + 16  # version, nonce, GCM tag

# A code with every confusable position used: 1s and 0s that people may type as I, L or O.
CODE = "10AB-CDEF-GH1J-K0MN"
CODE_TYPINGS = [
    CODE,
    CODE.lower(),
    CODE.replace("-", ""),
    CODE.replace("-", " "),
    " 10ab cdef gh1j k0mn ",
    "IOAB-CDEF-GHLJ-KOMN",  # I and L for 1, O for 0
    "loab-cdef-ghij-komn",  # lower-case l, o and i
    "10AB\tCDEF\nGH1J-K0MN",
    "1-0-A-B-C-D-E-F-G-H-1-J-K-0-M-N",
]


@pytest.fixture(scope="module")
def keypair() -> tuple[bytes, bytes]:
    return generate_survey_keypair()


def aad(survey_id: int = 7, response_id: str = "r-abc", version: int = 1) -> bytes:
    return response_aad(survey_id, response_id, version)


# --- key pairs -------------------------------------------------------------------------


def test_keypair_is_raw_x25519_and_public_key_matches(keypair):
    private, public = keypair
    assert len(private) == 32
    assert len(public) == 32
    assert public_key_for(private) == public
    other_private, other_public = generate_survey_keypair()
    assert other_private != private
    assert other_public != public


# --- sealing ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "plaintext",
    [
        b"",
        b"{}",
        b'{"q1":{"value":"often"}}',
        bytes(range(256)) * 20,  # 5 KB, every byte value
        "Niños — ¿qué cambiarías? 子ども 🙂".encode(),
        b"\x00" * 3000,  # zeros look like padding; they must survive
    ],
    ids=["empty", "tiny", "small-json", "multi-kb", "non-ascii", "zeros"],
)
def test_seal_open_round_trip(keypair, plaintext):
    private, public = keypair
    box = seal(public, plaintext, aad())
    assert open_sealed(private, box, aad()) == plaintext


def test_sealed_box_does_not_contain_the_plaintext(keypair):
    _, public = keypair
    secret = b"my very identifiable story about what happened"
    box = seal(public, secret, aad())
    assert secret not in box
    assert b"identifiable" not in box


def test_two_seals_of_the_same_plaintext_differ(keypair):
    private, public = keypair
    first = seal(public, b"same answers", aad())
    second = seal(public, b"same answers", aad())
    assert first != second
    assert first[1:33] != second[1:33], "a fresh ephemeral key per seal"
    assert first[33:45] != second[33:45], "a fresh nonce per seal"
    assert open_sealed(private, first, aad()) == open_sealed(private, second, aad())


def test_sealed_layout_starts_with_the_version_byte(keypair):
    _, public = keypair
    box = seal(public, b"x", aad())
    assert box[0] == crypto.SEAL_VERSION


# Regions of a sealed box: version ‖ ephemeral public key ‖ nonce ‖ body ‖ tag.
SEAL_REGIONS = {
    "version": 0,
    "ephemeral-key-first": 1,
    "ephemeral-key-last": 32,
    "nonce-first": 33,
    "nonce-last": 33 + NONCE_BYTES - 1,
    "body-first": 33 + NONCE_BYTES,
    "body-middle": 33 + NONCE_BYTES + 500,
    "tag-first": -16,
    "tag-last": -1,
}


@pytest.mark.parametrize("index", SEAL_REGIONS.values(), ids=SEAL_REGIONS.keys())
def test_tampered_sealed_byte_is_rejected(keypair, index):
    private, public = keypair
    box = bytearray(seal(public, b'{"q1":{"value":"often"}}', aad()))
    box[index] ^= 0x01
    with pytest.raises(CryptoError):
        open_sealed(private, bytes(box), aad())


def test_low_order_ephemeral_key_is_rejected_as_crypto_error(keypair):
    """An all-zero point makes X25519 fail inside the library; that must still be CryptoError."""
    private, public = keypair
    box = bytearray(seal(public, b"x", aad()))
    box[1:33] = bytes(32)
    with pytest.raises(CryptoError):
        open_sealed(private, bytes(box), aad())


@pytest.mark.parametrize(
    "mangle",
    [
        lambda box: b"",
        lambda box: box[:1],
        lambda box: box[: 1 + 32 + NONCE_BYTES + 15],  # shorter than the smallest box
        lambda box: box[:-1],
        lambda box: box + b"\x00",
        lambda box: box[:100],
    ],
    ids=["empty", "version-only", "header-only", "one-byte-short", "one-byte-long", "truncated"],
)
def test_truncated_or_extended_sealed_box_is_rejected(keypair, mangle):
    private, public = keypair
    box = seal(public, b"answers", aad())
    with pytest.raises(CryptoError):
        open_sealed(private, mangle(box), aad())


def test_wrong_private_key_is_rejected(keypair):
    _, public = keypair
    other_private, _ = generate_survey_keypair()
    box = seal(public, b"answers", aad())
    with pytest.raises(CryptoError):
        open_sealed(other_private, box, aad())


@pytest.mark.parametrize(
    "other",
    [
        aad(survey_id=8),
        aad(response_id="r-abd"),
        aad(version=2),
        b"",
        aad() + b"\x00",
    ],
    ids=["other-survey", "other-response", "other-format-version", "no-aad", "extended-aad"],
)
def test_box_opened_under_another_context_is_rejected(keypair, other):
    private, public = keypair
    box = seal(public, b"answers", aad())
    assert open_sealed(private, box, aad()) == b"answers"
    with pytest.raises(CryptoError):
        open_sealed(private, box, other)


def test_response_aad_is_unambiguous():
    """Length prefixes: shifting characters between fields never gives the same bytes."""
    assert response_aad(12, "3", 1) != response_aad(1, "23", 1)
    assert response_aad(1, "2", 34) != response_aad(1, "23", 4)
    assert response_aad(1, "x", 1) == response_aad(1, "x", 1)


def test_wrap_aad_depends_on_survey_and_holder():
    assert crypto.wrap_aad(1, "recovery") != crypto.wrap_aad(2, "recovery")
    assert crypto.wrap_aad(1, "recovery") != crypto.wrap_aad(1, "custodian:1")
    assert crypto.wrap_aad(1, "recovery") == crypto.wrap_aad(1, "recovery")


# --- padding ---------------------------------------------------------------------------


def test_sealed_sizes_fall_into_padding_buckets(keypair):
    _, public = keypair
    small = len(seal(public, b"x" * 10, aad()))
    larger = len(seal(public, b"x" * 900, aad()))
    assert small == larger == PAD_BUCKETS[0] + SEAL_OVERHEAD
    assert len(seal(public, b"", aad())) == small


@pytest.mark.parametrize(
    ("length", "padded"),
    [
        (0, 1024),
        (10, 1024),
        (900, 1024),
        (1020, 1024),  # 4-byte length prefix + 1020 fills the first bucket exactly
        (1021, 2048),
        (2044, 2048),
        (2045, 4096),
        (65532, 65536),
        (65533, 131072),  # beyond the last bucket: steps of the last bucket
        (131068, 131072),
        (131069, 196608),
    ],
)
def test_pad_sizes(length, padded):
    assert len(pad(b"a" * length)) == padded


def test_seal_size_at_a_bucket_boundary(keypair):
    _, public = keypair
    assert len(seal(public, b"a" * 1020, aad())) == 1024 + SEAL_OVERHEAD
    assert len(seal(public, b"a" * 1021, aad())) == 2048 + SEAL_OVERHEAD


@pytest.mark.parametrize("length", [0, 1, 4, 1019, 1020, 1021, 5000, 70000])
def test_pad_unpad_round_trip(length):
    data = bytes((i * 7) % 256 for i in range(length))
    assert unpad(pad(data)) == data


def test_pad_is_a_length_prefix_then_zeros():
    padded = pad(b"abc")
    assert padded[:4] == struct.pack(">I", 3)
    assert padded[4:7] == b"abc"
    assert set(padded[7:]) == {0}


@pytest.mark.parametrize(
    "damaged",
    [
        b"",
        b"\x00\x00\x00",
        struct.pack(">I", 5) + b"abcd",  # claims one byte more than there is
        struct.pack(">I", 2**32 - 1) + bytes(1020),
        struct.pack(">I", 1021) + bytes(1020),
    ],
    ids=["empty", "short-prefix", "one-over", "huge-length", "bucket-plus-one"],
)
def test_damaged_padding_is_rejected(damaged):
    with pytest.raises(CryptoError):
        unpad(damaged)


# --- symmetric boxes -------------------------------------------------------------------


@pytest.mark.parametrize("plaintext", [b"", b"k" * 32, "clé 🔑".encode(), bytes(5000)])
def test_encrypt_decrypt_round_trip(plaintext):
    key = crypto.new_key()
    box = encrypt(key, plaintext, b"context")
    assert len(box) == len(plaintext) + BOX_OVERHEAD
    assert decrypt(key, box, b"context") == plaintext


def test_encrypt_twice_differs():
    key = crypto.new_key()
    assert encrypt(key, b"same", b"aad") != encrypt(key, b"same", b"aad")


def test_new_key_is_random_and_256_bits():
    assert len(crypto.new_key()) == 32
    assert crypto.new_key() != crypto.new_key()


def test_decrypt_with_wrong_key_is_rejected():
    box = encrypt(crypto.new_key(), b"secret", b"aad")
    with pytest.raises(CryptoError):
        decrypt(crypto.new_key(), box, b"aad")


@pytest.mark.parametrize("other", [b"", b"aad2", b"aa", crypto.wrap_aad(2, "recovery")])
def test_decrypt_with_wrong_aad_is_rejected(other):
    key = crypto.new_key()
    box = encrypt(key, b"secret", crypto.wrap_aad(1, "recovery"))
    assert decrypt(key, box, crypto.wrap_aad(1, "recovery")) == b"secret"
    with pytest.raises(CryptoError):
        decrypt(key, box, other)


@pytest.mark.parametrize("index", [0, 1, NONCE_BYTES, 1 + NONCE_BYTES, -16, -1], ids=str)
def test_tampered_symmetric_byte_is_rejected(index):
    key = crypto.new_key()
    box = bytearray(encrypt(key, b"wrapped survey key material", b"aad"))
    box[index] ^= 0x80
    with pytest.raises(CryptoError):
        decrypt(key, bytes(box), b"aad")


@pytest.mark.parametrize("length", [0, 1, BOX_OVERHEAD - 1])
def test_short_symmetric_box_is_rejected(length):
    key = crypto.new_key()
    box = encrypt(key, b"", b"aad")
    with pytest.raises(CryptoError):
        decrypt(key, box[:length], b"aad")


def test_decrypt_with_a_key_of_the_wrong_size_is_a_crypto_error():
    box = encrypt(crypto.new_key(), b"x", b"aad")
    with pytest.raises(CryptoError):
        decrypt(b"short", box, b"aad")


# --- keys from codes -------------------------------------------------------------------


def test_recovery_wrapping_key_is_deterministic_and_salted():
    salt = b"s" * 16
    key = recovery_wrapping_key(CODE, salt)
    assert len(key) == 32
    assert recovery_wrapping_key(CODE, salt) == key
    assert recovery_wrapping_key(CODE, b"t" * 16) != key
    assert recovery_wrapping_key("10AB-CDEF-GH1J-K0MP", salt) != key


@pytest.mark.parametrize("typed", CODE_TYPINGS)
def test_recovery_wrapping_key_ignores_how_the_code_was_typed(typed):
    salt = b"salt-for-recovery"
    assert recovery_wrapping_key(typed, salt) == recovery_wrapping_key(CODE, salt)


def test_code_derived_key_is_deterministic_and_salted():
    salt = b"d" * 16
    key = code_derived_key(CODE, salt, CHEAP)
    assert len(key) == 32
    assert code_derived_key(CODE, salt, CHEAP) == key
    assert code_derived_key(CODE, b"e" * 16, CHEAP) != key
    assert code_derived_key("10AB-CDEF-GH1J-K0MP", salt, CHEAP) != key


@pytest.mark.parametrize("typed", CODE_TYPINGS)
def test_code_derived_key_ignores_how_the_code_was_typed(typed):
    salt = b"salt-for-drafts"
    assert code_derived_key(typed, salt, CHEAP) == code_derived_key(CODE, salt, CHEAP)


def test_code_derived_key_depends_on_the_cost():
    salt = b"d" * 16
    assert code_derived_key(CODE, salt, CHEAP) != code_derived_key(CODE, salt, ScryptCost(log2_n=5))


def test_production_scrypt_cost_is_not_weak():
    assert ScryptCost().log2_n >= 15
    assert ScryptCost().r >= 8


def test_recovery_and_draft_keys_differ_for_the_same_code():
    salt = b"same-salt"
    assert recovery_wrapping_key(CODE, salt) != code_derived_key(CODE, salt, CHEAP)


# --- codes for people ------------------------------------------------------------------

CODE_CHAR = "[0-9A-HJKMNP-TV-Z]"
PERSON_CODE_RE = re.compile(rf"^{CODE_CHAR}{{4}}(-{CODE_CHAR}{{4}}){{3}}$")
RECOVERY_CODE_RE = re.compile(rf"^{CODE_CHAR}{{4}}(-{CODE_CHAR}{{4}}){{6}}$")


def test_alphabet_is_crockford_base32():
    assert CROCKFORD == "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    assert len(set(CROCKFORD)) == 32
    assert not set("ILOU") & set(CROCKFORD)


def test_code_lengths_carry_enough_bits():
    bits_per_char = math.log2(len(CROCKFORD))
    assert bits_per_char == 5
    assert PERSON_CODE_CHARS == 16
    assert PERSON_CODE_CHARS * bits_per_char >= 80
    assert RECOVERY_CODE_CHARS == 28
    assert RECOVERY_CODE_CHARS * bits_per_char >= 128  # 140 bits: README.md "Key custody"


def test_generated_person_code_format():
    for _ in range(200):
        code = generate_code()
        assert PERSON_CODE_RE.match(code), code
        assert len(code) == 19
        assert is_well_formed_code(code)
        assert normalise_code(code) == code.replace("-", "")


def test_generated_recovery_code_format():
    for _ in range(50):
        code = generate_code(RECOVERY_CODE_CHARS)
        assert RECOVERY_CODE_RE.match(code), code
        assert len(normalise_code(code)) == RECOVERY_CODE_CHARS
        assert is_well_formed_code(code, RECOVERY_CODE_CHARS)
        assert not is_well_formed_code(code)  # not a person code


def test_generated_codes_are_unique_and_use_the_whole_alphabet():
    codes = [generate_code() for _ in range(2000)]
    assert len(set(codes)) == len(codes)
    used = set("".join(codes).replace("-", ""))
    # 32 000 characters: missing any of the 32 symbols by chance is ~ 32·(31/32)^32000 ≈ 0.
    assert used == set(CROCKFORD)


def test_generate_code_grouping_parameter():
    code = generate_code(chars=6, group=3)
    assert re.match(rf"^{CODE_CHAR}{{3}}-{CODE_CHAR}{{3}}$", code)


@pytest.mark.parametrize("typed", CODE_TYPINGS)
def test_well_formed_code_accepts_forgiving_typings(typed):
    assert is_well_formed_code(typed)


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "10AB-CDEF-GH1J-K0M",  # 15 characters
        "10AB-CDEF-GH1J-K0MNP",  # 17 characters
        "10AB-CDEF-GH1J-K0MU",  # U is not in the alphabet
        "10AB-CDEF-GH1J-K0M!",
        "10AB-CDEF-GH1J-K0M*",
        "10AB_CDEF_GH1J_K0MN",  # underscores are not separators
        "10AB.CDEF.GH1J.K0MN",
        "10AB-CDEF-GH1J-K0MÉ",
        "10AB-CDEF-GH1J-K0M=",
        "----",
    ],
)
def test_well_formed_code_rejects_wrong_lengths_and_symbols(typed):
    assert not is_well_formed_code(typed)


def test_normalise_code_maps_confusables_and_keeps_other_characters():
    assert normalise_code("ioLl-Oo") == "101100"
    assert normalise_code("ab!c") == "AB!C"  # kept, so is_well_formed_code can refuse it


SECRET = b"s" * 32


@pytest.mark.parametrize("typed", CODE_TYPINGS)
def test_code_lookup_is_the_same_for_equivalent_typings(typed):
    assert code_lookup(SECRET, "resume", typed) == code_lookup(SECRET, "resume", CODE)


def test_code_lookup_differs_per_purpose():
    lookups = {p: code_lookup(SECRET, p, CODE) for p in ("resume", "receipt", "invite")}
    assert len(set(lookups.values())) == 3


def test_code_lookup_differs_per_secret_and_per_code():
    assert code_lookup(SECRET, "resume", CODE) != code_lookup(b"t" * 32, "resume", CODE)
    assert code_lookup(SECRET, "resume", CODE) != code_lookup(
        SECRET, "resume", "10AB-CDEF-GH1J-K0MP"
    )


def test_code_lookup_purpose_and_code_are_not_concatenated_ambiguously():
    assert code_lookup(SECRET, "ab", "CDEF") != code_lookup(SECRET, "abC", "DEF")


def test_code_lookup_never_contains_the_code():
    code = "GHJK-MNPQ-RSTV-WXYZ"  # letters that can't occur in hex
    lookup = code_lookup(SECRET, "receipt", code)
    assert re.fullmatch(r"[0-9a-f]{64}", lookup)
    for form in (code, normalise_code(code), code.lower(), normalise_code(code).lower()):
        assert form not in lookup
    for _ in range(50):
        generated = generate_code()
        lookup = code_lookup(SECRET, "invite", generated)
        assert normalise_code(generated) not in lookup.upper()


def test_derive_secret_separates_purposes():
    master = b"m" * 48
    assert crypto.derive_secret(master, "codes") == crypto.derive_secret(master, "codes")
    assert crypto.derive_secret(master, "codes") != crypto.derive_secret(master, "sessions")
    assert crypto.derive_secret(master, "codes") != crypto.derive_secret(b"n" * 48, "codes")
    assert len(crypto.derive_secret(master, "codes")) == 32


# --- helpers ---------------------------------------------------------------------------


def test_canonical_json_is_one_byte_string_per_value():
    first = crypto.canonical_json({"b": 1, "a": ["é", {"d": None, "c": 2.5}]})
    second = crypto.canonical_json({"a": ["é", {"c": 2.5, "d": None}], "b": 1})
    assert first == second == '{"a":["é",{"c":2.5,"d":null}],"b":1}'.encode()


@pytest.mark.parametrize("data", [b"", b"\x00\xff" * 10, bytes(range(256))])
def test_b64_round_trip(data):
    text = crypto.b64(data)
    assert "+" not in text and "/" not in text
    assert crypto.unb64(text) == data


@pytest.mark.parametrize(
    "typed",
    [
        "ABCD\u2013EFGH\u2013JKMN\u2013PQRS",  # en dashes, as word processors turn hyphens
        "ABCD\u2014EFGH\u2014JKMN\u2014PQRS",  # em dashes
        "ABCD\u00a0EFGH\u00a0JKMN\u00a0PQRS",  # non-breaking spaces, pasted from a sheet
        "ABCD\u2212EFGH JKMN\u2011PQRS",  # minus sign, space, non-breaking hyphen
    ],
)
def test_codes_typed_with_other_dashes_and_spaces_still_match(typed):
    assert crypto.normalise_code(typed) == "ABCDEFGHJKMNPQRS"
    assert crypto.is_well_formed_code(typed)
    secret = b"s" * 32
    assert crypto.code_lookup(secret, "resume", typed) == crypto.code_lookup(
        secret, "resume", "ABCD-EFGH-JKMN-PQRS"
    )


def test_password_cost_round_trips_as_text_and_refuses_anything_else():
    cost = crypto.PasswordCost(time_cost=3, memory_kib=65536)
    assert crypto.PasswordCost.from_text(cost.to_text()) == cost
    for bad in ("", "argon2i:t=3,m=65536,p=1", "argon2id:t=3,m=65536,p=4", "argon2id:t=x"):
        with pytest.raises(crypto.CryptoError):
            crypto.PasswordCost.from_text(bad)


def test_a_custodian_key_opens_only_with_its_password_and_account():
    cost = crypto.PasswordCost(time_cost=1, memory_kib=1024)
    stored = crypto.new_custodian_key(7, "right password", cost)
    private_key = crypto.open_custodian_key(
        7, stored.sealed_private_key, stored.salt, "right password", cost
    )
    assert crypto.public_key_for(private_key) == stored.public_key
    for user_id, password in ((7, "wrong password"), (8, "right password")):
        with pytest.raises(crypto.CryptoError):
            crypto.open_custodian_key(
                user_id, stored.sealed_private_key, stored.salt, password, cost
            )
    # A survey key sealed to the custodian opens with their private key, in its context only.
    survey_key, _ = crypto.generate_survey_keypair()
    box = crypto.seal_key(stored.public_key, survey_key, b"context")
    assert len(box) == 1 + 32 + 12 + 32 + 16  # unpadded: keys have one size
    assert crypto.open_key(private_key, box, b"context") == survey_key
    with pytest.raises(crypto.CryptoError):
        crypto.open_key(private_key, box, b"other context")
