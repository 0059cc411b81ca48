"""Text for character-level models: ``CharTokenizer`` (characters <-> token ids, plus a BOS token)
and ``load_names()``, a names data set shipped in the package, so examples run offline.

The conventions are microgpt's: the vocabulary is the sorted set of characters in the
documents, ids 0..n−1, and BOS (beginning/end of a sequence) is the last id, n.  A document
becomes ``[BOS, c₁, ..., cₖ, BOS]``: one token both starts a sequence and ends it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from importlib import resources
from typing import Any

from . import checks

__all__ = ["CharTokenizer", "load_names", "NAMES_FILE"]

#: the data file of ``load_names``, inside the ``nn`` package (its header names the source and licence)
NAMES_FILE = "names.txt"


def _as_text(where: str, name: str, x: Any) -> str:
    if not isinstance(x, str):
        raise checks.InputTypeError(f"{where}: {name} must be a str, got {type(x).__name__} {checks.short_repr(x)}")
    return x


class CharTokenizer:
    """Characters <-> token ids; ``bos`` (the last id) marks where a document starts and ends.

    ``CharTokenizer(documents)`` takes its vocabulary from the characters the documents use;
    ``CharTokenizer.from_chars("abc")`` from a string of distinct characters."""

    def __init__(self, documents: Iterable[str]) -> None:
        if isinstance(documents, str):
            raise checks.InputTypeError(
                "CharTokenizer: documents must be a list of strings, got one str; wrap it as [text]"
            )
        try:
            docs = list(documents)
        except TypeError:
            raise checks.InputTypeError(
                f"CharTokenizer: documents must be a list of strings, got {type(documents).__name__}"
            ) from None
        for i, d in enumerate(docs):
            _as_text("CharTokenizer", f"documents[{i}]", d)
        chars = sorted(set("".join(docs)))
        if not chars:
            raise ValueError("CharTokenizer: the documents hold no characters; pass at least one non-empty document")
        self.chars = "".join(chars)
        self._ids = {c: i for i, c in enumerate(self.chars)}

    @classmethod
    def from_chars(cls, chars: str) -> CharTokenizer:
        """The tokenizer whose ids 0..n−1 are ``chars`` in the given order (each character once)."""
        chars = _as_text("CharTokenizer.from_chars", "chars", chars)
        repeated = sorted({c for c in chars if chars.count(c) > 1})
        if repeated:
            raise ValueError(f"CharTokenizer.from_chars: {repeated[0]!r} appears more than once; list each once")
        if not chars:
            raise ValueError("CharTokenizer.from_chars: chars is empty; pass the vocabulary, e.g. 'abc'")
        tok = cls([chars])
        tok.chars = chars
        tok._ids = {c: i for i, c in enumerate(chars)}
        return tok

    @property
    def bos(self) -> int:
        """The BOS token's id (the last one): it starts and ends every document."""
        return len(self.chars)

    @property
    def vocab_size(self) -> int:
        """How many token ids there are: one per character, plus BOS."""
        return len(self.chars) + 1

    def encode(self, text: str) -> list[int]:
        """The ids of ``text``'s characters (no BOS); an unknown character is a ValueError naming it."""
        text = _as_text("CharTokenizer.encode", "text", text)
        ids = self._ids
        try:
            return [ids[c] for c in text]
        except KeyError:
            i = next(i for i, c in enumerate(text) if c not in ids)
            raise ValueError(
                f"CharTokenizer.encode: character {text[i]!r} at position {i} of {checks.short_repr(text)} "
                f"is not in the vocabulary {self.chars!r}; build the tokenizer from documents that use it"
            ) from None

    def document(self, text: str) -> list[int]:
        """``[BOS, ids of text..., BOS]``: what a model trains on (``GPT.loss``)."""
        return [self.bos, *self.encode(text), self.bos]

    def decode(self, ids: Sequence[int]) -> str:
        """The text of ``ids``; BOS tokens are dropped, so ``decode(document(t)) == t``."""
        if isinstance(ids, (str, bytes)) or not isinstance(ids, Sequence):
            raise checks.InputTypeError(
                f"CharTokenizer.decode: ids must be a list of token ids, got {type(ids).__name__}"
            )
        out = []
        for k, i in enumerate(ids):
            i = checks.integer("CharTokenizer.decode", f"ids[{k}]", i, low=0, high=self.bos)
            if i != self.bos:
                out.append(self.chars[i])
        return "".join(out)

    def __len__(self) -> int:
        return self.vocab_size

    def __repr__(self) -> str:
        return f"CharTokenizer(chars={self.chars!r}, bos={self.bos})"


def load_names() -> list[str]:
    """About 5,000 lowercase first names (US Census 1990, public domain), read from the package:
    no download.  The order is alphabetical; shuffle before training."""
    text = resources.files("nn").joinpath(NAMES_FILE).read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line and not line.startswith("#")]
