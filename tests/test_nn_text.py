"""The character tokenizer (ids, BOS, round trips, errors) and the names data set shipped in the package."""

from __future__ import annotations

import string
from importlib import resources

import pytest

import nn
from nn.text import NAMES_FILE, CharTokenizer, load_names


def test_vocabulary_is_the_sorted_characters_then_bos():
    tok = CharTokenizer(["emma", "bob", ""])
    assert tok.chars == "abemo" and tok.bos == 5 and tok.vocab_size == len(tok) == 6
    assert tok.encode("mob") == [3, 4, 1]
    assert tok.document("bea") == [5, 1, 2, 0, 5]
    assert "bos=5" in repr(tok)


@pytest.mark.parametrize("text", ["", "a", "emma", "mommabob"])
def test_round_trips(text):
    tok = CharTokenizer(["emma", "bob"])
    assert tok.decode(tok.encode(text)) == text
    assert tok.decode(tok.document(text)) == text


def test_from_chars_keeps_the_given_order():
    tok = CharTokenizer.from_chars("zyx")
    assert tok.encode("xyz") == [2, 1, 0] and tok.bos == 3 and tok.decode([0, 3, 2]) == "zx"
    with pytest.raises(ValueError, match="'y' appears more than once"):
        CharTokenizer.from_chars("xyy")
    with pytest.raises(ValueError, match="chars is empty"):
        CharTokenizer.from_chars("")


def test_unknown_characters_and_bad_ids_are_named():
    tok = CharTokenizer(["abc"])
    with pytest.raises(ValueError, match=r"character 'z' at position 2 of 'abz' is not in the vocabulary 'abc'"):
        tok.encode("abz")
    with pytest.raises(ValueError, match="must be a str, got int"):
        tok.encode(5)
    with pytest.raises(ValueError, match=r"ids\[1\] must be an int in \[0, 3\], got 4"):
        tok.decode([0, 4])
    with pytest.raises(ValueError, match=r"ids\[0\] must be an int"):
        tok.decode([1.0])
    with pytest.raises(TypeError, match="ids must be a list of token ids"):
        tok.decode("ab")


@pytest.mark.parametrize(
    "docs, match",
    [
        ("abc", "got one str"),
        (5, "must be a list of strings"),
        (["a", 3], r"documents\[1\] must be a str"),
        ([""], "no characters"),
    ],
)
def test_bad_documents(docs, match):
    with pytest.raises(ValueError, match=match):
        CharTokenizer(docs)


def test_names_load_offline_from_the_package():
    names = load_names()
    assert 5000 < len(names) < 6000 and len(set(names)) == len(names) and names == sorted(names)
    assert {"emma", "olivia", "james", "mary"} <= set(names)
    assert set("".join(names)) == set(string.ascii_lowercase)
    assert max(map(len, names)) + 2 <= 16  # every name fits the default block_size with its two BOS
    header = resources.files("nn").joinpath(NAMES_FILE).read_text(encoding="utf-8").splitlines()[:5]
    assert all(line.startswith("#") for line in header) and "Census" in header[0] and "public domain" in header[0]
    assert CharTokenizer(names).vocab_size == 27


def test_exported_from_nn():
    assert nn.CharTokenizer is CharTokenizer and nn.load_names is load_names
    assert nn.GPT.__module__ == "nn.gpt" and {"GPT", "Embedding", "RMSNorm", "load_names"} <= set(nn.__all__)
