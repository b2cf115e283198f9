"""How long ``okr-report review`` takes on the demo plan (47 KRs, 15 objectives), in each language, against
the reference of loading the segmenter's own general dictionary (what segmenting Chinese would cost without
the lexicon-built dictionary). Prints milliseconds; run: python benchmarks/review.py [--rounds N]."""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import jieba

from flows.extract import read_source
from flows.review import builtin_lexicon
from transforms.config import Source
from transforms.review import review_plan
from transforms.review.headers import plan_frame
from transforms.review.text import _segmenter

ROOT = Path(__file__).resolve().parent.parent
PLAN = ROOT / "data" / "demo" / "exports" / "okr_plan.xlsx"


def _ms(fn, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    plan = plan_frame(read_source(Source(path=PLAN.name), PLAN.parent), PLAN.name)
    lexicon = builtin_lexicon()

    def cold(locale: str):
        _segmenter.cache_clear()
        return lambda: review_plan(plan, lexicon, locale)

    def general_dictionary():
        jieba.Tokenizer().initialize()

    figures = {
        "review zh-CN, dictionary built each time": _ms(lambda: cold("zh-CN")(), rounds),
        "review en": _ms(lambda: review_plan(plan, lexicon, "en"), rounds),
        "reference: load the general Chinese dictionary": _ms(general_dictionary, rounds),
    }
    for name, ms in figures.items():
        print(f"{name:<50} {ms:8.1f} ms")
    reference = figures["reference: load the general Chinese dictionary"]
    ratio = reference / figures["review zh-CN, dictionary built each time"]
    print(f"{'whole zh review vs the dictionary load alone':<50} {ratio:8.1f}x faster")


if __name__ == "__main__":
    main()
