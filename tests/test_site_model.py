"""The page model beside the rules (pipelines.site_model): how it combines with them, that its
plain-Python scoring is scikit-learn's, that the stored model is what training gives, and that it
never learned from a page held out."""
from __future__ import annotations

import hashlib
import json

import pytest

from bench import site_levels as bench
from bench import train_site_model as training
from bench.site_levels import classify_page
from pipelines.site_model import MODEL_PATH, LevelModel, combine, load_model, ngrams, page_text
from pipelines.site_page import Block, Finding, Page

URL = "https://www.cedarhollow.example/first-days/"
LEVELS = ["iop", "php", "outpatient", "residential", "inpatient", "detox"]
FIRST_DAYS = ("<html><head><title>Your First Days | Cedar Hollow</title></head><body><main><h1>Your first days</h1>"
              "<p>The first few days are the hardest, and you will not be alone for them. You will have a quiet room "
              "near the nurses' station, and nurses check on you through the night while alcohol leaves your "
              "system.</p><p>Our physician sees you each morning and adjusts your comfort medication. Once you are "
              "steady, usually after three to five days, you move into the main house with the other guests.</p>"
              "<p>Call us any time to talk through what to bring.</p></main></body></html>")


def toy_model(**thresholds) -> LevelModel:
    """Two words: 'nurses' says detox, 'closed' says it is not; every other level stays near 0."""
    terms = ["closed", "nurses"]
    weights = {level: [0.0, 0.0] for level in LEVELS}
    weights["detox"] = [-30.0, 7.0]  # nurses alone: p = 0.88
    return LevelModel(n_max=1, index={t: i for i, t in enumerate(terms)}, idf=[1.0, 1.0], weights=weights,
                      intercepts={level: -5.0 for level in LEVELS},
                      **{"veto": 0.05, "confident": 0.75, "min_words": 10, **thresholds})


def page(*texts: str) -> Page:
    return Page("https://a.example/", [Block(t, "para") for t in texts])


LONG = "Our staff welcome you at any hour of the day and help you settle in."  # 14 words, no level


def test_a_level_described_without_its_name_is_found_by_the_model_and_quoted_by_its_sentence():
    """The rules know no words of this page (no 'detox', no 'withdrawal'); the model reads nurses
    through the night while alcohol leaves the system, and quotes that sentence."""
    assert [f.level for f in classify_page(FIRST_DAYS, URL, model=False)] == []
    assert [(f.level, f.quote) for f in classify_page(FIRST_DAYS, URL)] == [
        ("detox", "You will have a quiet room near the nurses' station, and nurses check on you through the night "
                  "while alcohol leaves your system.")]


def test_the_model_adds_a_level_it_is_confident_of_and_quotes_the_best_sentence():
    p = page(LONG, "Nurses are with you day and night.", "Parking is free.")
    assert combine(p, "Welcome", [], LEVELS, toy_model()) == [
        Finding("detox", "Nurses are with you day and night.", "https://a.example/")]
    assert combine(p, "Welcome", [], LEVELS, toy_model(confident=0.9)) == []  # not confident enough


def test_the_model_vetoes_a_rule_finding_from_the_text_it_rules_out_but_not_one_from_structured_data():
    p = page(LONG, "Our detox unit closed in 2022.")
    from_text = Finding("detox", "Our detox unit closed in 2022.", "https://a.example/")
    assert combine(p, None, [from_text], LEVELS, toy_model()) == []
    from_json_ld = Finding("detox", "Medical Detox", "https://a.example/")  # a schema.org service's name
    assert combine(p, None, [from_json_ld], LEVELS, toy_model()) == [from_json_ld]
    card = Finding("detox", "Detox unit — Our detox unit closed in 2022.", "https://a.example/")  # title with its text
    assert combine(p, None, [card], LEVELS, toy_model()) == [card]
    # A level the model has no word for stays as the rules found it only above the veto.
    iop = Finding("iop", "Our detox unit closed in 2022.", "https://a.example/")
    assert combine(p, None, [iop], LEVELS, toy_model(veto=0.0)) == [iop]
    assert combine(p, None, [iop], LEVELS, toy_model()) == []


def test_a_page_of_a_sentence_or_two_is_left_to_the_rules():
    short = page("Nurses are with you day and night.")
    rules = [Finding("iop", "x", "https://a.example/")]
    assert combine(short, None, rules, LEVELS, toy_model()) == rules
    assert combine(short, None, [], LEVELS, toy_model(min_words=5)) != []


def test_a_build_may_judge_with_another_model_or_the_rules_alone(monkeypatch, tmp_path):
    """TREATMENT_SITE_MODEL, like TREATMENT_SITE_PHRASES: another model file, or "none"."""
    monkeypatch.setenv("TREATMENT_SITE_MODEL", "none")
    assert load_model() is None and [f.level for f in classify_page(FIRST_DAYS, URL)] == []
    data = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    data["thresholds"]["confident"] = 0.99  # a stricter copy: detox at 0.83 no longer counts
    copy = tmp_path / "model.json"
    copy.write_text(json.dumps(data), encoding="utf-8")
    monkeypatch.setenv("TREATMENT_SITE_MODEL", str(copy))
    assert load_model().confident == 0.99 and classify_page(FIRST_DAYS, URL) == []
    monkeypatch.delenv("TREATMENT_SITE_MODEL")
    assert load_model().confident == 0.75 and [f.level for f in classify_page(FIRST_DAYS, URL)] == ["detox"]


def test_plain_python_scoring_is_scikit_learns():
    """The stored vocabulary, IDF and weights in scikit-learn's TfidfVectorizer and a logistic
    function (bench/fit_site_model.py, in the model's own environment): the same probability as
    LevelModel.probabilities."""
    data = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    texts = [FIRST_DAYS, "Our intensive outpatient program meets three evenings a week, 6 to 9 p.m.",
             "Ofrecemos un programa intensivo ambulatorio para adultos.", ""]
    theirs = training.run_fit({"score": {"model": data, "texts": texts}})
    model = load_model()
    for k, text in enumerate(texts):
        mine = model.probabilities(text)
        for level in LEVELS:
            assert mine[level] == pytest.approx(theirs[level][k], abs=1e-9), (text, level)
    assert ngrams("Day-treatment, 9 a.m.", 2) == ["day", "treatment", "day treatment"]


def test_the_model_learned_from_every_labelled_page_not_held_out_and_from_no_held_out_one():
    data = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    expected = []
    for _name, folder, _apart in bench.SETS:
        pages = bench.load_labels(folder)
        learned = [p for p in pages if not p.held_out]
        if learned:
            expected.append({"folder": folder.name, "pages": len(learned),
                             "labels_sha256": hashlib.sha256((folder / "labels.csv").read_bytes()).hexdigest()})
    assert data["trained_on"] == expected
    assert data["pages"] == sum(row["pages"] for row in expected) == len(training.training_pages()[0])
    trained_folders = {row["folder"] for row in data["trained_on"]}
    for folder in ("labelled_40", "labelled_41", "labelled_42", "labelled_43", "labelled_44", "labelled_45"):
        # batches 45-50: held out
        assert folder not in trained_folders
    assert page_text("T", ["a", "b"]) == "T \n a \n b"


def test_the_stored_model_is_what_training_on_the_labelled_pages_gives(capsys):
    """`python -m bench.train_site_model --check` trains again (about 40 s) and compares."""
    assert training.main(["--check"]) == 0, capsys.readouterr().err
    assert "matches a model trained on" in capsys.readouterr().out


def test_the_environment_that_serves_the_site_has_no_numpy():
    """scikit-learn and numpy live in .venv-model only: Datasette's vendored pint imports numpy
    wherever it is installed, and every served worker would carry it against its memory ceiling."""
    import importlib.util

    assert importlib.util.find_spec("numpy") is None and importlib.util.find_spec("sklearn") is None
    assert training.DEFAULT_PYTHON.exists(), "make model-env (make test does it) makes the model's environment"
