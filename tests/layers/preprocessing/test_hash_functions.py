"""FarmHash Fingerprint64, SipHash-2-4 and the cross hash against TensorFlow's values (recorded by the fixture)."""

import json
import os

import pytest

from lamina.layers.preprocessing import hash_functions as hf
from tests.fixtures import make_text_preprocessing as fx

with open(os.path.join(fx.HERE, "hashes.json"), encoding="utf-8") as _f:
    _HASHES = json.load(_f)
_BLOBS = [bytes.fromhex(b) for b in _HASHES["blobs"]]


def test_fingerprint64_equals_tensorflow_for_every_length_branch():
    # lengths 0..129 cover every branch (0-16, 17-32, 33-64, the 64-byte loop), then 200..1000 and UTF-8 text
    assert len(_BLOBS) == len(_HASHES["fast"]) == 141
    modulus = _HASHES["modulus"]
    wrong = [len(b) for b, want in zip(_BLOBS, _HASHES["fast"], strict=True) if hf.fingerprint64(b) % modulus != want]
    assert wrong == []


@pytest.mark.parametrize("key", sorted(_HASHES["strong"]))
def test_siphash_equals_tensorflow(key):
    k0, k1 = json.loads(key)
    modulus = _HASHES["modulus"]
    values = _HASHES["strong"][key]
    wrong = [len(b) for b, want in zip(_BLOBS, values, strict=True) if hf.siphash24(k0, k1, b) % modulus != want]
    assert wrong == []


def test_known_values():
    # FarmHash's published constant for the empty string; SipHash-2-4's reference vector (key 00..0f, empty input)
    assert hf.fingerprint64(b"") == 0x9AE16A3B2F90404F
    key0 = int.from_bytes(bytes(range(8)), "little")
    key1 = int.from_bytes(bytes(range(8, 16)), "little")
    assert hf.siphash24(key0, key1, b"") == 0x726FDB47DD0E0E31


def test_hash_buckets_and_cross():
    assert hf.hash_buckets(["a", b"a"], 1000).tolist()[0] == hf.hash_buckets(["a"], 1000).tolist()[0]
    assert hf.int_to_hash_key(-12) == b"-12"
    # Keras's HashedCrossing docstring: ("A", 101) ... -> [1, 4, 1, 1, 3] with 5 bins
    rows = [("A", 101), ("B", 101), ("A", 101), ("B", 102), ("A", 102)]
    got = []
    for s, i in rows:
        h = hf.fingerprint_cat64(hf.CROSS_HASH_KEY, hf.fingerprint64(s.encode()))
        got.append(hf.fingerprint_cat64(h, i) % 5)
    assert got == [1, 4, 1, 1, 3]
