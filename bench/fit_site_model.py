"""The scikit-learn half of the page model's training (bench.train_site_model), run by the Python
of its own environment, .venv-model (`make model-env`, requirements-model.lock):

    .venv-model/bin/python bench/fit_site_model.py < request.json > answer.json

scikit-learn brings numpy, and Datasette's vendored pint imports numpy wherever it is installed:
in the project's environment every served worker would load it, against its memory ceiling. So
this file imports nothing of the project and the project's environment has no numpy.

request {"fit": {"texts": [...], "labels": {level: [0/1, ...]}, "ngram_max", "min_pages", "C", "digits"}}
answers {"vocabulary", "idf", "weights": {level: [...]}, "intercepts": {level: ...}}, rounded to digits;
request {"score": {"model": {the stored model}, "texts": [...]}} answers {level: [probability, ...]}
as scikit-learn computes them from the stored vocabulary, IDF and weights (a test compares them
with pipelines.site_model's plain Python).
"""
from __future__ import annotations

import json
import sys

import numpy
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression


def fit(texts: list[str], labels: dict[str, list[int]], ngram_max: int, min_pages: int, C: float,
        digits: int) -> dict:
    vectorizer = TfidfVectorizer(ngram_range=(1, ngram_max), min_df=min_pages, sublinear_tf=True)
    matrix = vectorizer.fit_transform(texts)
    weights, intercepts = {}, {}
    for level, y in labels.items():
        regression = LogisticRegression(C=C, max_iter=5000).fit(matrix, y)
        weights[level] = [round(float(w), digits) for w in regression.coef_[0]]
        intercepts[level] = round(float(regression.intercept_[0]), digits)
    return {"vocabulary": vectorizer.get_feature_names_out().tolist(),
            "idf": [round(float(v), digits) for v in vectorizer.idf_],
            "weights": weights, "intercepts": intercepts}


def score(model: dict, texts: list[str]) -> dict[str, list[float]]:
    vectorizer = TfidfVectorizer(ngram_range=(1, model["ngram_max"]), sublinear_tf=True,
                                 vocabulary=model["vocabulary"])
    vectorizer.fit(["x"])  # fixes the vocabulary; the stored IDF replaces the one learned here
    vectorizer.idf_ = numpy.array(model["idf"])
    matrix = vectorizer.transform(texts)
    result = {}
    for level, weights in model["weights"].items():
        z = matrix @ numpy.array(weights) + model["intercepts"][level]
        result[level] = (1 / (1 + numpy.exp(-z))).tolist()
    return result


def main() -> int:
    request = json.load(sys.stdin)
    if "fit" in request:
        answer = fit(**request["fit"])
    elif "score" in request:
        answer = score(**request["score"])
    else:
        print("fit_site_model: the request names neither 'fit' nor 'score'", file=sys.stderr)
        return 2
    json.dump(answer, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
