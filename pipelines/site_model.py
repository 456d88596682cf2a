"""A second reader of a provider's page: a statistical model of which levels of care a page's own
text states, learned from the labelled pages in tests/fixtures/sites (bench.train_site_model) and
kept as data (data/site_level_model.json), used beside the rules of pipelines.site_judging.

The rules read what a sentence says and who says it; they miss the many ways a page describes a
level without the words they know ("the men living here", "nurses through the night"). The model
reads the whole page as words and word pairs (TF-IDF, one logistic regression per level), so it
knows the common ways, not the reasons. The two are combined so that each covers the other:

    a level is stated  when the rules find it and the model does not rule it out (p > VETO),
                       or the model alone is confident of it (p > CONFIDENT);
                       on a page of fewer than MIN_WORDS words the rules alone.

A level the model adds is quoted by the page's sentence the model scores highest for it. The
veto reaches only what the rules quote word for word from the page's text (a sentence, a heading,
a list item): a quote they put together - a card's title with its text, a table row, a schema.org
service - is theirs alone (about half the rules' findings on batches 25-34), and the model reads
no schema.org data at all.

TREATMENT_SITE_MODEL=other.json points a build at another model file (to try one), and
TREATMENT_SITE_MODEL=none judges by the rules alone.

Scoring is plain Python (the same tokens, TF-IDF and logistic function as scikit-learn, which
only the training needs), so judging a page needs no numeric library.
"""
from __future__ import annotations

import json
import math
import os
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pipelines.site_page import Finding, Page, norm, quote, split_sentences

MODEL_PATH = Path(__file__).resolve().parent.parent / "data" / "site_level_model.json"
MODEL_ENV = "TREATMENT_SITE_MODEL"  # another model file for a build to try, or "none": the rules alone
TOKEN = re.compile(r"(?u)\b\w\w+\b")  # scikit-learn's default token_pattern


def page_text(title: str | None, texts: Iterable[str]) -> str:
    """What the model reads of a page: its <title> and its own text blocks (furniture left out),
    a line each. Training and judging both build it here."""
    return " \n ".join([title or "", *texts])


def ngrams(text: str, n_max: int) -> list[str]:
    """Lower-cased words of two letters or more, and their runs up to n_max, joined by a space
    (scikit-learn's word analyzer)."""
    tokens = TOKEN.findall(text.lower())
    grams = list(tokens)
    for n in range(2, n_max + 1):
        grams += [" ".join(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]
    return grams


@dataclass(frozen=True)
class LevelModel:
    """The stored model: the vocabulary's IDF weights, per level a weight for each term and an
    intercept, and the two thresholds of the combination."""

    n_max: int
    index: dict[str, int]
    idf: list[float]
    weights: dict[str, list[float]]
    intercepts: dict[str, float]
    veto: float
    confident: float
    min_words: int

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> LevelModel:
        data = json.loads(path.read_text(encoding="utf-8"))
        terms = data["vocabulary"]
        return cls(n_max=data["ngram_max"], index={t: i for i, t in enumerate(terms)}, idf=data["idf"],
                   weights=data["weights"], intercepts=data["intercepts"],
                   veto=data["thresholds"]["veto"], confident=data["thresholds"]["confident"],
                   min_words=data["thresholds"]["min_words"])

    def _vector(self, text: str) -> dict[int, float]:
        """The text's L2-normalised TF-IDF vector, sublinear term frequency, as a sparse dict."""
        counts = Counter(self.index[g] for g in ngrams(text, self.n_max) if g in self.index)
        vector = {i: (1 + math.log(c)) * self.idf[i] for i, c in counts.items()}
        length = math.sqrt(sum(v * v for v in vector.values()))
        return {i: v / length for i, v in vector.items()} if length else {}

    def probabilities(self, text: str) -> dict[str, float]:
        """Per level, the probability that a page with this text states it."""
        vector = self._vector(text)
        result = {}
        for level, weights in self.weights.items():
            z = self.intercepts[level] + sum(weights[i] * v for i, v in vector.items())
            result[level] = 1 / (1 + math.exp(-z))
        return result


def model_path() -> Path | None:
    """$TREATMENT_SITE_MODEL (another model file, or "none" for the rules alone), else the
    project's data/site_level_model.json."""
    value = os.environ.get(MODEL_ENV, "").strip()
    if value.lower() == "none":
        return None
    return Path(value) if value else MODEL_PATH


@lru_cache(maxsize=4)
def _load(path: Path) -> LevelModel:
    return LevelModel.load(path)


def load_model() -> LevelModel | None:
    """The model the build judges with (model_path), or None where the rules judge alone."""
    path = model_path()
    return _load(path) if path else None


def _best_sentence(model: LevelModel, page: Page, level: str) -> str:
    """The page's sentence the model scores highest for the level: the quote of what it added."""
    sentences = [s for block in page.blocks for s in split_sentences(norm(block.text))]
    return max(sentences, key=lambda s: model.probabilities(s)[level], default="")


def combine(page: Page, title: str | None, findings: list[Finding], levels: Iterable[str],
            model: LevelModel | None = None) -> list[Finding]:
    """The rules' findings with the model's word on them: a finding quoted word for word from the
    page's text goes when the model gives it VETO or less; a level the rules did not find comes when the model
    gives it more than CONFIDENT, quoted by its best sentence. In the order of `levels`."""
    model = model or load_model()
    if model is None:
        return findings
    text = page_text(title, (b.text for b in page.blocks))
    if len(TOKEN.findall(text)) < model.min_words:
        return findings  # a sentence or two: too little for a model of whole pages
    p = model.probabilities(text)
    plain = norm(text)
    found = {f.level: f for f in findings}
    result = []
    for level in levels:
        finding = found.get(level)
        if finding is not None:
            in_text = finding.quote.strip("…") in plain
            if p.get(level, 1.0) > model.veto or not in_text:
                result.append(finding)
        elif p.get(level, 0.0) > model.confident:
            sentence = _best_sentence(model, page, level)
            if sentence:
                result.append(Finding(level, quote(sentence), page.url))
    return result
