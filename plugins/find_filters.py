"""The filters of the /find page in plain words, each with the number of programs it would leave.

The groups are a declarative table: the values always offered (in this order, even at 0, so a
person sees that no program near them offers it), their labels, and whether the other values
the results have are offered too. The numbers come from the canned query `nearby_counts`
(metadata.yml): for each value, the programs of the search that have it under the other filters.
The checkboxes are written here in one call per group (as plugins/table_rows.py writes table
rows): a page has a hundred of them, and Datasette's async Jinja loop took half the page's time;
every value is escaped by markupsafe as Jinja's autoescape would. No hooks here: a helper module
of plugins/find.py.
"""
# No `from __future__ import annotations`: Datasette runs plugins/*.py without registering them in
# sys.modules, and dataclasses with string annotations look their module up there.
from dataclasses import dataclass, field

from markupsafe import Markup, escape


@dataclass(frozen=True)
class Group:
    param: str
    legend: str
    shown: tuple[str, ...]  # offered always, in this order
    labels: dict[str, str] = field(default_factory=dict)
    more: str | None = None  # legend of the other values present in the results; None: not offered
    chip: str = "{label}"  # how a value reads in "what we understood"
    chips: dict[str, str] = field(default_factory=dict)  # values that read otherwise ("Free care", not "Takes Free")


GROUPS = (
    Group("focus", "Treatment for", ("SU", "MH"),
          {"SU": "Substance use (addiction)", "MH": "Mental health"}, chip="{label} treatment"),
    Group("medications", "Medications for opioid use (MOUD)", ("*", "Buprenorphine", "Methadone", "Naltrexone"),
          {"*": "Any of these medications", "Buprenorphine": "Buprenorphine (Suboxone)",
           "Naltrexone": "Naltrexone (Vivitrol)"}, chip="Medication: {label}"),
    Group("payment", "Payment", ("Medicaid", "Medicare", "Private health insurance", "Sliding fee scale",
                                 "Cash or self-payment", "No payment accepted"),
          {"No payment accepted": "Free (no payment accepted)", "Cash or self-payment": "Cash or self-pay"},
          more="More ways to pay", chip="Takes {label}", chips={"No payment accepted": "Free care (no payment accepted)"}),
    Group("ages", "Ages", ("Children and adolescents", "Young adults", "Adults", "Seniors"),
          {"Children and adolescents": "Teens and children"}, chip="Ages: {label}"),
    Group("languages", "Language", ("Spanish", "Sign language"),
          {"Spanish": "Spanish (español)", "Sign language": "Sign language (ASL)"},
          more="More languages", chip="Treatment in {label}"),
    Group("populations", "Programs for", ("Veterans", "Pregnant or postpartum women"),
          {}, more="More groups", chip="Special programs: {label}"),
    Group("telehealth", "Telehealth", ("1",), {"1": "Offers telehealth (video or phone)"}, chip="{label}"),
)
BY_PARAM = {g.param: g for g in GROUPS}


def label_of(param: str, value: str, levels: dict) -> str:
    """A filter value in plain words."""
    if param == "level":
        return levels[value]["label"] if value in levels else value
    group = BY_PARAM.get(param)
    return group.labels.get(value, value) if group else value


def chip_of(param: str, value: str, levels: dict, tr) -> str:
    """How a value read from the person's words is said back: "Takes Medicaid", in the page's
    language (`tr`, plugins/i18n.py)."""
    label = tr.plain(label_of(param, value, levels))
    if param == "level":
        return tr.plain("Level of care: {label}", label=label)
    group = BY_PARAM[param]
    return tr.plain(group.chips[value]) if value in group.chips else tr.plain(group.chip, label=label)


def _option(group: Group, value: str, number: int, filters: dict, from_words: frozenset) -> dict:
    return {"value": value, "label": group.labels.get(value, value), "count": number,
            "checked": value in filters.get(group.param, ()),
            "from_words": (group.param, value) in from_words}


OPTION = ('<label class="filter-option"><input type="checkbox" form="find-form" name="{param}" value="{value}"{checked}>'
          ' <span>{label} <span class="count">({count})</span>{from_words}</span></label>\n')


def options_html(param: str, options: list[dict], tr) -> Markup:
    """The checkboxes of one group, each in its label with its number, in the page's language."""
    from_words = ' <span class="from-words">{}</span>'.format(escape(tr.plain("from your words")))
    return Markup("".join(OPTION.format(
        param=escape(param), value=escape(o["value"]), checked=" checked" if o["checked"] else "",
        label=escape(tr.plain(o["label"])), count=int(o["count"]),
        from_words=from_words if o["from_words"] else "") for o in options))


def filter_groups(filters: dict, from_words: frozenset, counts: dict, tr) -> list[dict]:
    """Each group with its options: the values always offered, then (under `more`) the others
    the results have, most programs first; a chosen value is always there."""
    groups = []
    for group in GROUPS:
        present = {value: n for (param, value), n in counts.items() if param == group.param}
        chosen = [v for v in filters.get(group.param, ()) if v not in group.shown]
        others = sorted((v for v in present if v not in group.shown and v not in chosen),
                        key=lambda v: (-present[v], v)) if group.more else []
        options = [_option(group, v, present.get(v, 0), filters, from_words) for v in group.shown]
        more = [_option(group, v, present.get(v, 0), filters, from_words) for v in chosen + others]
        groups.append({"param": group.param, "legend": tr.plain(group.legend), "options": options, "more": more,
                       "options_html": options_html(group.param, options, tr),
                       "more_html": options_html(group.param, more, tr),
                       "more_legend": tr.plain(group.more or "More"), "more_open": any(o["checked"] for o in more),
                       "chosen": sum(o["checked"] for o in options + more)})
    return groups


def level_options(levels: dict, filters: dict, counts: dict, tr) -> list[dict]:
    """The care levels with the programs each would leave, in the page's language; several levels
    (from the words) as one more option, chosen."""
    chosen = filters.get("level", ())
    options = [{"value": "", "label": tr.plain("Any level of care"), "count": counts.get(("level", ""), 0),
                "selected": not chosen}]
    options += [{"value": slug, "label": tr.plain(level["label"]), "count": counts.get(("level", slug), 0),
                 "selected": chosen == (slug,)} for slug, level in levels.items()]
    if len(chosen) > 1:
        options.append({"value": "|".join(chosen), "count": None, "selected": True,
                        "label": tr.plain(" or ").join(tr.plain(label_of("level", v, levels)) for v in chosen)})
    return options
