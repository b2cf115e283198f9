"""Words of a KR or objective, as the rules compare them: English by word stems, Chinese by segmentation.

Chinese text is segmented with a dictionary made of the lexicon itself (its ``words`` and every term of every
list), so a term is found only as a whole word ("目标" in "每月目标2000" but not in "目标网页"), and text
outside the dictionary falls back to the segmenter's statistical model. Building that dictionary takes
milliseconds, where the segmenter's general dictionary would take a second or more to load, and nothing is
written to disk.

A term is one word or several in a row; ``a+b`` means both anywhere in the text.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import jieba
import snowballstemmer

from transforms.review.lexicon import LanguageLexicon

jieba.setLogLevel(logging.WARNING)

_EN_WORD = re.compile(r"\d+(?:[.,]\d+)*%?|[^\W\d_]+", re.UNICODE)
_DIGIT = re.compile(r"\d")
_ZH_NUMERAL = re.compile(r"^[零一二两三四五六七八九十百千万亿半]+[个次款场条家名位倍成项件]?$")
_MONTHS = ("january|february|march|april|may|june|july|august|september|october|november|december|"
           "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec")
# dates and quarters: they say when, not how much
_DATES = (
    re.compile(r"\bfy\s?(?:19|20)?\d{2}(?:\s?[-/–]\s?\d{2,4})?\b", re.IGNORECASE),
    re.compile(r"\b(?:19|20)\d{2}\s?[-/–]\s?\d{2,4}\b"),
    re.compile(r"\b(?:in|by|for|of|since|until|till|before|after|during|from|to|end|start)\s+(?:19|20)\d{2}\b",
               re.IGNORECASE),
    re.compile(r"\bq[1-4]\b", re.IGNORECASE),
    re.compile(rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:{_MONTHS})(?:\s+(?:19|20)\d{{2}})?\b|"
               rf"\b(?:{_MONTHS})\s+\d{{1,2}}(?:st|nd|rd|th)?\b", re.IGNORECASE),
    re.compile(r"(?:19|20)\d{2}(?:\s?[-–]\s?\d{2,4})?\s*(?:财年|年度|年)"),
    re.compile(r"第[一二三四1-4]季度"),
    re.compile(r"\d{1,2}月\d{1,2}日|\d{1,2}月(?:底|末|初)?"),
)
_ZH_FREQ = 100_000
"""Frequency given to every lexicon word, so the segmenter keeps it whole."""


@dataclass(frozen=True)
class Words:
    """A text as the rules see it: comparable tokens (stems, lower case) beside the words as written."""

    raw: str
    tokens: tuple[str, ...]
    surface: tuple[str, ...]
    spans: tuple[tuple[int, int], ...]
    """Where each word stands in ``raw`` (start, end)."""
    has_number: bool


@dataclass(frozen=True)
class Term:
    """A lexicon term compiled to tokens: one or more parts, each a run of tokens that must occur."""

    text: str
    parts: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Match:
    """Where a term was found: the term and the words of its first part as the text writes them."""

    term: Term
    start: int
    end: int
    written: str


class Analyzer:
    """Tokenises texts of one language and finds lexicon terms in them."""

    def __init__(self, lex: LanguageLexicon, chinese: bool) -> None:
        self.lex = lex
        self.chinese = chinese
        self._seen: dict[str, Words] = {}
        self._tokenize = _segmenter(tuple(sorted(_all_terms(lex)))).tokenize if chinese else None
        self.numbers = frozenset(self._norm(w) for w in lex.numbers)

    def words(self, text: str) -> Words:
        """The tokens of ``text`` and whether it holds a number (dates and quarters do not count)."""
        if text not in self._seen:
            self._seen[text] = self._words(text)
        return self._seen[text]

    def _words(self, text: str) -> Words:
        pieces = self._pieces(text)
        surface = tuple(w for w, _ in pieces)
        tokens = tuple(self._norm(w) for w in surface)
        undated = text
        for pattern in _DATES:
            undated = pattern.sub(" ", undated)
        numbered = any(_DIGIT.search(w) or self._numeral(w) for w, _ in self._pieces(undated))
        return Words(text, tokens, surface, tuple(span for _, span in pieces), numbered)

    def terms(self, entries: Iterable[str]) -> list[Term]:
        """Lexicon entries compiled with the same tokeniser as the texts they are looked for in."""
        out = []
        for entry in entries:
            parts = tuple(tuple(self._norm(w) for w, _ in self._pieces(p)) for p in entry.split("+"))
            if all(parts):
                out.append(Term(entry, parts))
        return out

    def find(self, words: Words, terms: Iterable[Term]) -> Match | None:
        """The first term (in lexicon order) that occurs in ``words``."""
        return next(iter(self.find_all(words, terms)), None)

    def find_all(self, words: Words, terms: Iterable[Term]) -> list[Match]:
        """Every term that occurs in ``words``, in lexicon order."""
        out = []
        for term in terms:
            spans = [_span(words.tokens, part) for part in term.parts]
            if all(s is not None for s in spans):
                start, end = spans[0]
                written = words.raw[words.spans[start][0]:words.spans[end - 1][1]]
                out.append(Match(term, start, end, written))
        return out

    def _pieces(self, text: str) -> list[tuple[str, tuple[int, int]]]:
        """Words with their place in ``text``; punctuation and spaces are not words."""
        if self._tokenize is None:
            return [(m.group(), m.span()) for m in _EN_WORD.finditer(text)]
        return [(w, (a, b)) for w, a, b in self._tokenize(text) if w.strip() and not _is_punct(w.strip())]

    def _norm(self, word: str) -> str:
        word = word.lower()
        if self.chinese or _DIGIT.search(word):
            return word
        return _stem(word)

    def _numeral(self, word: str) -> bool:
        if self._norm(word) in self.numbers:
            return True
        return self.chinese and bool(_ZH_NUMERAL.match(word))


_STEMMER = snowballstemmer.stemmer("english")


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    """An English word's stem (the stemmer is pure Python and slow; words repeat across a plan and a run)."""
    return _STEMMER.stemWord(word)


def _span(tokens: tuple[str, ...], part: tuple[str, ...]) -> tuple[int, int] | None:
    n = len(part)
    for i in range(len(tokens) - n + 1):
        if tokens[i:i + n] == part:
            return i, i + n
    return None


def _is_punct(word: str) -> bool:
    return all(not ch.isalnum() and ch != "%" for ch in word)


def _all_terms(lex: LanguageLexicon) -> set[str]:
    """Every word of the lexicon, for the Chinese dictionary."""
    out: set[str] = set(lex.words)
    for name, value in lex:
        items = value.keys() if isinstance(value, dict) else value
        if name in ("functions", "concepts"):
            items = [t for terms in value.values() for t in terms]
        if name in ("function_names", "outcome_clause"):
            continue
        for item in items:
            out.update(p.strip() for p in str(item).split("+") if p.strip())
    return {w for w in out if " " not in w}


@lru_cache(maxsize=8)
def _segmenter(words: tuple[str, ...]) -> jieba.Tokenizer:
    """A segmenter whose dictionary is exactly ``words`` (built in memory; the segmenter's own dictionary and
    its cache file are never read or written)."""
    tokenizer = jieba.Tokenizer()
    lines = "".join(f"{w} {_ZH_FREQ}\n" for w in words).encode("utf-8")
    tokenizer.FREQ, tokenizer.total = jieba.Tokenizer.gen_pfdict(io.BytesIO(lines))
    tokenizer.initialized = True
    return tokenizer
