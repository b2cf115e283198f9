"""The review's word lists: one ``LanguageLexicon`` per language, read from the data files beside the rules
(``lexicons/en.yaml``, ``lexicons/zh.yaml``) by the caller and extended by a workspace's ``review.lexicon``.

Lists are extended (new terms appended), mappings updated (a workspace may give its own hint for a word).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class LanguageLexicon(BaseModel):
    """Every word list the rules use, for one language."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    words: list[str] = Field(default_factory=list, description="extra words for segmenting Chinese text")
    stopwords: list[str] = Field(default_factory=list)
    generic: list[str] = Field(default_factory=list)
    numbers: list[str] = Field(default_factory=list)
    vague: dict[str, str] = Field(default_factory=dict, description="vague word -> how to say it with a number")
    unmeasured: list[str] = Field(default_factory=list)
    growth: list[str] = Field(default_factory=list)
    dilution: list[str] = Field(default_factory=list)
    dilution_before_number: list[str] = Field(default_factory=list)
    comparisons: list[str] = Field(default_factory=list)
    firm: dict[str, str] = Field(default_factory=dict, description="softening word -> its firm replacement")
    attempts: list[str] = Field(default_factory=list)
    outcomes: list[str] = Field(default_factory=list)
    outcome_clause: str = ""
    tasks: list[str] = Field(default_factory=list)
    effort_nouns: list[str] = Field(default_factory=list)
    effort_verbs: list[str] = Field(default_factory=list)
    effort_returns: list[str] = Field(default_factory=list)
    inputs: list[str] = Field(default_factory=list)
    functions: dict[str, list[str]] = Field(default_factory=dict, description="function -> terms of its work")
    function_names: dict[str, str] = Field(default_factory=dict)
    concepts: dict[str, list[str]] = Field(default_factory=dict, description="topic -> its words")

    def extended(self, more: LanguageLexicon) -> LanguageLexicon:
        """This lexicon with ``more``'s terms added (lists appended without repeats, mappings updated)."""
        merged = {}
        for name, mine in self:
            theirs = getattr(more, name)
            if isinstance(mine, str):
                merged[name] = theirs or mine
            elif isinstance(mine, list):
                merged[name] = list(dict.fromkeys([*mine, *theirs]))
            elif name in ("functions", "concepts"):
                merged[name] = {k: list(dict.fromkeys([*mine.get(k, []), *theirs.get(k, [])]))
                                for k in dict.fromkeys([*mine, *theirs])}
            else:
                merged[name] = {**mine, **theirs}
        return LanguageLexicon(**merged)


class Lexicon(BaseModel):
    """The lexicons of both languages the review reads."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    en: LanguageLexicon = LanguageLexicon()
    zh: LanguageLexicon = LanguageLexicon()

    def extended(self, more: Lexicon) -> Lexicon:
        return Lexicon(en=self.en.extended(more.en), zh=self.zh.extended(more.zh))

    def of(self, locale: str) -> LanguageLexicon:
        return self.zh if locale == "zh-CN" else self.en
