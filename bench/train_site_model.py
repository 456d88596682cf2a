"""Train the page model of pipelines.site_model on the labelled pages and write it as data:

    python -m bench.train_site_model            # writes data/site_level_model.json
    python -m bench.train_site_model --check    # trains again and fails if the stored model differs

(`make model` runs the first.) The pages are read here, in the project's environment; the fitting
is scikit-learn's, run by bench/fit_site_model.py in the model's own environment (.venv-model,
`make model-env`), so numpy never reaches the served site's workers.

It learns from every labelled page of bench.site_levels.SETS whose note does not mark it held
out: a held-out batch is scored once on rules and model that never saw it, so its pages stay out
of the training until it has been scored. The stored model lists the folders and the number of
pages it learned from, with a hash of each labels.csv, so a test can tell what it saw.

The text of a page is read as the spider reads it and the judge sees it (bench.site_levels.feed_item,
pipelines.site_levels.page_of, pipelines.site_model.page_text). Words and word pairs seen on at
least five pages, TF-IDF with sublinear term frequency, one logistic regression per level (C=16).
The settings and the two thresholds were chosen by training on the batches before each of batches
39-44 and scoring that batch together with the rules of the commit before they were tuned on it
(ffc054c): rules alone 95.4% precision, 69.8% recall; rules and model 95.3%, 85.1%.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from common import vocab
from pipelines.site_levels import page_of
from pipelines.site_model import MODEL_PATH, LevelModel, page_text

from bench.site_levels import SETS, feed_item, load_labels

ROOT = Path(__file__).resolve().parent.parent
FIT_SCRIPT = Path(__file__).resolve().parent / "fit_site_model.py"
PYTHON_ENV = "SITE_MODEL_PYTHON"  # the model environment's Python, if not .venv-model's
DEFAULT_PYTHON = ROOT / ".venv-model" / "bin" / "python"
MIN_PAGES = 5  # a term must be on this many training pages
NGRAM_MAX = 2
C = 16.0
THRESHOLDS = {"veto": 0.05, "confident": 0.75, "min_words": 40}
DIGITS = 6  # stored weights are rounded so: probabilities move by less than 1e-4


def training_pages() -> tuple[list[str], dict[str, list[str]], list[dict]]:
    """(texts, {level: [0/1 per text]}, provenance) of every labelled page not held out."""
    texts: list[str] = []
    labels: list[set[str]] = []
    provenance = []
    for _name, folder, _apart in SETS:
        pages = [p for p in load_labels(folder) if not p.held_out]
        for labelled in pages:
            item = feed_item((folder / labelled.page).read_bytes(), labelled.url)
            page = page_of(item)
            texts.append(page_text(item.get("title"), (b.text for b in page.blocks)))
            labels.append(labelled.levels)
        if pages:
            digest = hashlib.sha256((folder / "labels.csv").read_bytes()).hexdigest()
            provenance.append({"folder": folder.name, "pages": len(pages), "labels_sha256": digest})
    levels = {level: [int(level in page_levels) for page_levels in labels] for level in vocab.care_levels()}
    return texts, levels, provenance


def model_python(path: Path | str | None = None) -> Path:
    """The Python of the model's own environment (.venv-model, `make model-env`): scikit-learn
    and numpy live there, never in the project's environment that serves the site."""
    python = Path(path or os.environ.get(PYTHON_ENV) or DEFAULT_PYTHON)
    if not python.exists():
        raise SystemExit(f"{python}: no such Python; `make model-env` makes the model's own environment "
                         f"(scikit-learn, requirements-model.lock)")
    return python


def run_fit(request: dict, python: Path | str | None = None) -> dict:
    """Ask bench/fit_site_model.py, in the model's environment, to fit or to score."""
    done = subprocess.run([str(model_python(python)), str(FIT_SCRIPT)], input=json.dumps(request),
                          capture_output=True, text=True, timeout=1800)
    if done.returncode:
        raise SystemExit(f"{FIT_SCRIPT} failed: {done.stderr.strip()}")
    return json.loads(done.stdout)


def train(python: Path | str | None = None) -> dict:
    texts, levels, provenance = training_pages()
    fitted = run_fit({"fit": {"texts": texts, "labels": levels, "ngram_max": NGRAM_MAX, "min_pages": MIN_PAGES,
                              "C": C, "digits": DIGITS}}, python)
    return {
        "about": "Page model of pipelines.site_model, written by `python -m bench.train_site_model`; do not edit.",
        "trained_on": provenance,
        "pages": len(texts),
        "ngram_max": NGRAM_MAX, "min_pages": MIN_PAGES, "C": C,
        "thresholds": THRESHOLDS,
        **fitted,
    }


def differences(stored: dict, trained: dict, tolerance: float = 1e-3) -> list[str]:
    """What differs between the stored model and a freshly trained one, beyond rounding."""
    problems = [f"{key} differs" for key in ("trained_on", "pages", "ngram_max", "min_pages", "C", "thresholds",
                                             "vocabulary") if stored.get(key) != trained.get(key)]
    if problems:
        return problems
    for level, weights in trained["weights"].items():
        worst = max((abs(a - b) for a, b in zip(weights, stored["weights"].get(level, []))), default=1.0)
        if len(weights) != len(stored["weights"].get(level, [])) or worst > tolerance:
            problems.append(f"weights of {level} differ by up to {worst:.4g}")
        if abs(trained["intercepts"][level] - stored["intercepts"].get(level, 1e9)) > tolerance:
            problems.append(f"intercept of {level} differs")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.train_site_model", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="train again and compare with the stored model")
    parser.add_argument("--out", type=Path, default=MODEL_PATH, help=f"where to write it (default {MODEL_PATH})")
    parser.add_argument("--python", type=Path, help=f"the Python with scikit-learn (default ${PYTHON_ENV}, "
                                                    f"else .venv-model/bin/python: `make model-env`)")
    args = parser.parse_args(argv)
    model = train(args.python)
    if args.check:
        stored = json.loads(args.out.read_text(encoding="utf-8"))
        problems = differences(stored, model)
        for problem in problems:
            print(f"{args.out}: {problem}: run `python -m bench.train_site_model` and commit it", file=sys.stderr)
        print(f"{args.out}: {'differs from' if problems else 'matches'} a model trained on "
              f"{model['pages']} pages of {len(model['trained_on'])} folders")
        return 1 if problems else 0
    args.out.write_text(json.dumps(model, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    LevelModel.load(args.out)  # it reads back
    print(f"{args.out}: {len(model['vocabulary'])} terms, trained on {model['pages']} pages "
          f"of {len(model['trained_on'])} folders")
    return 0


if __name__ == "__main__":
    sys.exit(main())
