"""The seed's lessons as rules over a KR's or an objective's words (and, in a workspace, its metric).

Each rule returns findings for one KR or one objective; ``Context`` holds what they share: the analyser and
compiled terms of each language, the owner's function, the metric definitions when there are any.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property

from transforms import config as cfg
from transforms.review.draft import DraftKR, DraftObjective
from transforms.review.findings import Code, Finding, Severity
from transforms.review.lexicon import LanguageLexicon, Lexicon
from transforms.review.messages import words
from transforms.review.text import Analyzer, Match, Term, Words

_CJK = re.compile(r"[\u3400-\u9fff]")
OUTCOME_COLUMNS = ("outcome", "result")
"""Columns that say whether an attempt worked; counting a table that has one without filtering on it counts
attempts."""


@dataclass(frozen=True)
class Terms:
    """One language's lexicon compiled for its analyser."""

    analyzer: Analyzer
    lex: LanguageLexicon

    def __getattr__(self, name: str) -> list[Term]:
        value = getattr(self.lex, name)
        terms = self.analyzer.terms(value.keys() if isinstance(value, dict) else value)
        object.__setattr__(self, name, terms)
        return terms

    @cached_property
    def groups(self) -> dict[str, dict[str, list[Term]]]:
        return {"functions": {k: self.analyzer.terms(v) for k, v in self.lex.functions.items()},
                "concepts": {k: self.analyzer.terms(v) for k, v in self.lex.concepts.items()}}

    @cached_property
    def ignored(self) -> frozenset[str]:
        return frozenset(t for w in [*self.lex.stopwords, *self.lex.generic] for t in self.analyzer.words(w).tokens)


@dataclass
class Context:
    """What every rule of one review shares."""

    lexicon: Lexicon
    locale: str
    function: str
    team_functions: Mapping[str, str] = field(default_factory=dict)
    person_teams: Mapping[str, str] = field(default_factory=dict)
    metrics: Mapping[str, cfg.MetricDef] | None = None
    table_columns: Mapping[str, frozenset[str]] = field(default_factory=dict)
    _terms: dict[bool, Terms] = field(default_factory=dict)

    def terms(self, text: str) -> Terms:
        """The compiled terms of the language ``text`` is written in."""
        chinese = bool(_CJK.search(text))
        if chinese not in self._terms:
            lex = self.lexicon.zh if chinese else self.lexicon.en
            self._terms[chinese] = Terms(Analyzer(lex, chinese), lex)
        return self._terms[chinese]

    def function_of(self, kr: DraftKR) -> str | None:
        """The function of the KR's owner; None for the company, which owns every function's work."""
        if kr.tier == "company":
            return None
        owner = kr.owner_id or ""
        if kr.tier == "person":
            owner = self.person_teams.get(owner, owner)
        return self.team_functions.get(owner, self.function)

    def function_name(self, function: str) -> str:
        names = self.lexicon.of(self.locale).function_names
        return names.get(function, function)

    def finding(self, where: tuple[str | None, str | None, int | None], rule: str, severity: Severity,
                **fields: object) -> Finding:
        message, suggestion = words(rule, self.locale, **fields)
        return Finding(where[0], where[1], Code(rule.split(".")[0]), severity, message, suggestion, rule, where[2])


KRRule = Callable[[Context, DraftObjective, DraftKR, Words, Terms], list[Finding]]


def _where(o: DraftObjective, kr: DraftKR) -> tuple[str, str, int | None]:
    return o.objective_id, kr.kr_id, kr.row


def task(ctx: Context, o: DraftObjective, kr: DraftKR, w: Words, t: Terms) -> list[Finding]:
    """A deliverable or activity: a milestone metric, or a task verb."""
    if ctx.metrics is not None and kr.metric in ctx.metrics and ctx.metrics[kr.metric].definition.kind == "milestone":
        return [ctx.finding(_where(o, kr), "task.milestone", Severity.WARNING)]
    m = t.analyzer.find(w, t.tasks)
    return [ctx.finding(_where(o, kr), "task.verb", Severity.WARNING, word=m.written)] if m else []


def vague(ctx: Context, o: DraftObjective, kr: DraftKR, w: Words, t: Terms) -> list[Finding]:
    """Vague words where a number belongs (only when the KR gives none)."""
    if w.has_number:
        return []
    m = t.analyzer.find(w, t.vague)
    if m:
        return [ctx.finding(_where(o, kr), "vague.word", Severity.WARNING, word=m.written,
                            hint=t.lex.vague[m.term.text])]
    m = t.analyzer.find(w, t.unmeasured)
    return [ctx.finding(_where(o, kr), "vague.state", Severity.WARNING, word=m.written)] if m else []


def no_number(ctx: Context, o: DraftObjective, kr: DraftKR, w: Words, t: Terms) -> list[Finding]:
    """Nothing to measure; a target only in the plan's column is named but not said."""
    if w.has_number or not kr.title:
        return []
    if kr.target is not None:
        return [ctx.finding(_where(o, kr), "no_number.only_target", Severity.WARNING,
                            target=f"{kr.target:g}")]
    return [ctx.finding(_where(o, kr), "no_number.title", Severity.ERROR)]


def _replace(raw: str, written: str, firm: str, chinese: bool) -> str:
    """``raw`` with its first ``written`` replaced by ``firm`` (an empty ``firm`` drops it)."""
    at = raw.lower().find(written.lower())
    if at < 0:
        return raw
    head, tail = raw[:at], raw[at + len(written):]
    if not firm:
        tail = tail.lstrip()
    out = head + firm + tail
    if not chinese and at == 0 and out:
        out = out[0].upper() + out[1:]
    return re.sub(r"\s{2,}", " ", out).strip()


def _before_number(w: Words, t: Terms) -> Match | None:
    """A softening word right before a number, unless a comparison before it makes it what is compared with."""
    compared = [m.start for m in t.analyzer.find_all(w, t.comparisons)]
    for m in t.analyzer.find_all(w, t.dilution_before_number):
        if any(c < m.start for c in compared):
            continue
        nxt = w.surface[m.end] if m.end < len(w.surface) else ""
        if nxt and (nxt[0].isdigit() or t.analyzer.words(nxt).has_number):
            return m
    return None


def dilution(ctx: Context, o: DraftObjective, kr: DraftKR, w: Words, t: Terms) -> list[Finding]:
    """Softening words ("target 2,000", "aim to", "力争"), with the KR rewritten in firm words."""
    m = t.analyzer.find(w, t.dilution) or _before_number(w, t)
    if not m:
        return []
    rewrite = _replace(w.raw, m.written, t.lex.firm.get(m.term.text, ""), t.analyzer.chinese)
    shown = f"改为\u201c{rewrite}\u201d" if ctx.locale == "zh-CN" else f"Write it as \u201c{rewrite}\u201d"
    return [ctx.finding(_where(o, kr), "dilution.word", Severity.WARNING, word=m.written, rewrite=shown)]


def _unfiltered_attempts(ctx: Context, kr: DraftKR, t: Terms) -> tuple[str, str] | None:
    """The (table, column) of a count the KR's metric makes over attempts without filtering on whether they
    worked: a table with an outcome column, counted with no filter on it, for attempt-like rows (or all rows)."""
    if ctx.metrics is None or kr.metric not in ctx.metrics:
        return None
    for d in _base_definitions(ctx.metrics, kr.metric):
        table = getattr(d, "table", None)
        where = getattr(d, "where", None) or {}
        column = next((c for c in OUTCOME_COLUMNS if c in ctx.table_columns.get(table or "", ())), None)
        if d.kind != "count" or column is None or column in where:
            continue
        values = " ".join(str(v) for v in where.values())
        if not where or t.analyzer.find(t.analyzer.words(values), t.attempts):
            return str(table), column
    return None


def _base_definitions(metrics: Mapping[str, cfg.MetricDef], name: str, depth: int = 0) -> list:
    d = metrics[name].definition
    if depth > 8:
        return []
    parts = [getattr(d, k, None) for k in ("numerator", "denominator", "of")]
    named = [p for p in parts if isinstance(p, str) and p in metrics]
    if named:
        return [b for p in named for b in _base_definitions(metrics, p, depth + 1)]
    return [d]


def _counted_outcomes(w: Words, m: Match, t: Terms) -> str:
    """The KR counting only attempts that worked: the outcome word before a counted attempt ("40 positive
    outreaches", "40次积极的宣传"), or the lexicon's clause after an attempt used as a verb."""
    before = w.surface[m.start - 1] if m.start > 0 else ""
    counted = bool(before) and (before[0].isdigit() or t.analyzer.words(before).has_number
                                or (t.analyzer.chinese and before in ("次", "个", "条", "封", "通")))
    if counted and t.lex.outcomes and m.written in w.raw:
        good = t.lex.outcomes[0]
        return w.raw.replace(m.written, f"{good}的{m.written}" if t.analyzer.chinese else f"{good} {m.written}", 1)
    return w.raw.rstrip("。. ") + t.lex.outcome_clause


def attempts(ctx: Context, o: DraftObjective, kr: DraftKR, w: Words, t: Terms) -> list[Finding]:
    """Attempts counted without their outcome: in the words, or in what the metric counts."""
    m = t.analyzer.find(w, t.attempts)
    if m and not t.analyzer.find(w, t.outcomes):
        rewrite = _counted_outcomes(w, m, t)
        return [ctx.finding(_where(o, kr), "attempts.words", Severity.WARNING, word=m.written,
                            rewrite=f"\u201c{rewrite}\u201d")]
    found = _unfiltered_attempts(ctx, kr, t)
    if found:
        return [ctx.finding(_where(o, kr), "attempts.metric", Severity.WARNING, table=found[0], column=found[1])]
    return []


def other_team(ctx: Context, o: DraftObjective, kr: DraftKR, w: Words, t: Terms) -> list[Finding]:
    """Work another function must deliver, judged from the owner's function and the KR's words."""
    own = ctx.function_of(kr)
    if own is None:
        return []
    for function, terms in t.groups["functions"].items():
        m = t.analyzer.find(w, terms) if function != own else None
        if m:
            return [ctx.finding(_where(o, kr), "other_team.words", Severity.WARNING, word=m.written,
                                function=ctx.function_name(function), own=ctx.function_name(own))]
    return []


def inputs(ctx: Context, o: DraftObjective, kr: DraftKR, w: Words, t: Terms) -> list[Finding]:
    """A resource put in (headcount, budget) measured as if it were the objective's result."""
    m = t.analyzer.find(w, t.inputs)
    if not m:
        return []
    ot = ctx.terms(o.title)
    if ot.analyzer.find(ot.analyzer.words(o.title), ot.inputs):
        return []
    return [ctx.finding(_where(o, kr), "mismatch.input", Severity.WARNING, word=m.written)]


KR_RULES: tuple[KRRule, ...] = (task, vague, no_number, dilution, attempts, inputs, other_team)


def kr_findings(ctx: Context, o: DraftObjective, kr: DraftKR) -> list[Finding]:
    """Every KR rule on one KR; a task or a vague word already says what no_number would."""
    t = ctx.terms(kr.title)
    w = t.analyzer.words(kr.title)
    out: list[Finding] = []
    for rule in KR_RULES:
        if rule is no_number and any(f.code in (Code.TASK, Code.VAGUE) for f in out):
            continue
        out += rule(ctx, o, kr, w, t)
    return out


def effort(ctx: Context, o: DraftObjective) -> list[Finding]:
    """An objective that asks for more effort instead of a result."""
    t = ctx.terms(o.title)
    w = t.analyzer.words(o.title)
    noun = t.analyzer.find(w, t.effort_nouns)
    if not noun or not t.analyzer.find(w, t.effort_verbs) or t.analyzer.find(w, t.effort_returns):
        return []
    return [ctx.finding((o.objective_id, None, o.row), "effort.words", Severity.WARNING, word=noun.written)]


@dataclass(frozen=True)
class _Topics:
    """What a text is about: its topics (lexicon concepts), its content words, and how each is written."""

    written: dict[str, str]

    @property
    def keys(self) -> set[str]:
        return set(self.written)


def _topics(ctx: Context, text: str) -> _Topics:
    t = ctx.terms(text)
    w = t.analyzer.words(text)
    written = {f"concept:{name}": m.written
               for name, terms in t.groups["concepts"].items() for m in [t.analyzer.find(w, terms)] if m}
    for token, surface in zip(w.tokens, w.surface, strict=True):
        if token not in t.ignored and not token[0].isdigit() and len(surface) >= (2 if t.analyzer.chinese else 3):
            written.setdefault(f"word:{token}", surface)
    return _Topics(written)


def mismatch(ctx: Context, o: DraftObjective) -> list[Finding]:
    """KRs that measure a topic of their own, which the objective does not name, while none of them shares
    a topic or a content word with the objective."""
    titled = [kr for kr in o.krs if kr.title]
    if len(titled) < 2 or not o.title:
        return []
    goal = _topics(ctx, o.title)
    krs = [_topics(ctx, kr.title) for kr in titled]
    if any(goal.keys & k.keys for k in krs):
        return []
    counts: dict[str, int] = {}
    for k in krs:
        for key in k.keys:
            counts[key] = counts.get(key, 0) + 1
    shared = [key for key, n in counts.items() if n >= 2 and 3 * n >= 2 * len(krs)]
    if not shared:
        return []
    shared.sort(key=lambda key: (not key.startswith("concept:"), -counts[key]))
    topic = next(k.written[shared[0]] for k in krs if shared[0] in k.written)
    sep = "、" if ctx.locale == "zh-CN" else ", "
    named = sep.join(list(dict.fromkeys(v for key, v in goal.written.items() if key.startswith("word:")))[:3])
    return [ctx.finding((o.objective_id, None, o.row), "mismatch.topic", Severity.WARNING, topic=topic,
                        words=named or o.title)]
