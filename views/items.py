"""Item health: golden-set items whose key is probably wrong or that tell no one apart, and QA auditors who
fail moderators more or less often than their colleagues on the same work."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from metrics import auditors as aud
from metrics import items as it
from metrics import tables, words
from metrics.filters import Filters
from ui import charts, downloads, filters, presenter, show
from ui.cache import derived, measure

FDR_LEVELS = [0.01, 0.05, 0.10, 0.20]
PERCENT = st.column_config.NumberColumn(format="percent")
ITEM_CONFIG = dict.fromkeys(("Share right", "Shrunk", "Policy's other items", "Top 27% right", "Bottom 27% right",
                             "Its share"), PERCENT) | {
    "Discrimination (r)": st.column_config.NumberColumn(format="%.2f"),
    "q-value": st.column_config.NumberColumn(format="%.3f")}
AUDITOR_CONFIG = {"Fail rate": PERCENT, "Colleagues' rate on the same work": PERCENT,
                  "Severity (shrunk)": st.column_config.NumberColumn(format="%+.3f"),
                  "q-value": st.column_config.NumberColumn(format="%.3f")}
AGREEMENT_CONFIG = {"Same verdict": PERCENT, "Cohen's κ": st.column_config.NumberColumn(format="%.2f")}


def _fdr(column: object, key: str) -> float:
    return float(column.selectbox(  # type: ignore[attr-defined]
        "False-discovery rate", FDR_LEVELS, index=1, format_func=lambda x: f"{x:.0%}", key=key,
        help="Benjamini-Hochberg level: of the flagged ones, at most this share are expected to be false alarms."))


# ----------------------------------------------------------------------------------- golden-set items

def item_controls() -> it.ItemRules:
    left, right, _ = st.columns([1, 1, 2])
    min_attempts = int(left.number_input("Minimum attempts per item", min_value=5, max_value=10_000, value=30,
                                         step=5, key="item_min_attempts"))
    return it.ItemRules(min_attempts=min_attempts, fdr=_fdr(right, "item_fdr"))


def golden_items(f: Filters) -> None:
    st.header("Golden-set items")
    st.caption(
        "Each golden-set item's share of moderators answering with its key, against the policy's other items, and "
        "its discrimination: whether moderators who are strong on their other golden-set items get it right more "
        "often than weak ones (the corrected item-total correlation r). A hard item that strong moderators get "
        "right is hard; one they miss as often as weak moderators, or more, probably has a wrong key or an "
        "ambiguous case."
    )
    rules = item_controls()
    with st.spinner("Analysing every golden-set item"):
        found = measure(it.item_health, f, rules)
    kept = presenter.keep(found, "moderators")
    if kept.hidden:
        st.caption(f"Presenter mode: {kept.note('item')}")
    items = kept.frame
    if items.empty:
        st.info("No golden-set decisions with an item id match these filters. Widen the filters in the sidebar, or "
                "import golden-set checks with an `item_id` column on the Data page.")
        return
    judged = items[items["enough_data"]]
    item_figures(items, rules)
    if judged.empty:
        st.info(f"No item has {rules.min_attempts} attempts or more under these filters: nothing can be judged yet.")
    else:
        show.chart(charts.item_map, tables.item_dots(judged), it.POOR_DISCRIMINATION, key="item_map", name="item_map")
        st.caption("Each dot is an item with enough attempts: across, the share answering with the key; up, "
                   f"discrimination. Dashed: r = {it.POOR_DISCRIMINATION:.2f}, below which an item tells strong "
                   "moderators from weak ones poorly.")
        review_list(judged, rules)
    thin_items(items, rules)


def item_figures(items: pd.DataFrame, rules: it.ItemRules) -> None:
    cols = st.columns(4)
    cols[0].metric("Items judged", f"{int(items['enough_data'].sum()):,}",
                   help=f"Items with at least {rules.min_attempts} attempts under these filters.")
    cols[1].metric("Probably mislabelled or ambiguous", f"{int(items['mislabelled'].sum()):,}")
    cols[2].metric("Too easy to tell anyone apart", f"{int(items['too_easy'].sum()):,}")
    cols[3].metric("Too few attempts", f"{int((~items['enough_data']).sum()):,}",
                   help="Listed apart at the bottom, never ranked or tested.")


def _lines(items: pd.DataFrame, rules: it.ItemRules) -> list[str]:
    return [words.item_text(row, poor=it.POOR_DISCRIMINATION, min_attempts=rules.min_attempts)
            for row in items.to_dict("records")]


def review_list(judged: pd.DataFrame, rules: it.ItemRules) -> None:
    st.subheader("Review these items")
    flagged = judged[judged["flagged"]]
    st.caption(
        f"Flagged items first: probably mislabelled or ambiguous ones (share right below the policy's other items "
        f"by an exact binomial test that survives Benjamini-Hochberg at {rules.fdr:.0%}, and either r under "
        f"{it.POOR_DISCRIMINATION:.2f} or one other answer given more often than the key), by q-value; then items "
        f"too easy to tell anyone apart (we are 95% sure at "
        f"least {it.EASY_FLOOR:.0%} get them right). Then every other item with {rules.min_attempts}+ attempts, "
        "hardest first (shrunk share right)."
    )
    # Sentences and a table for every item: 150 ms a run on a large store, for the same figures each time.
    lines = derived(_lines, judged, rules)
    ranked = derived(tables.item_table, judged, ranked=True, lines=lines)
    tested = int(judged["enough_data"].sum())
    if flagged.empty and tested:
        st.success(f"{words.count(tested, 'item')} with {rules.min_attempts}+ attempts tested: none is flagged at a "
                   f"{rules.fdr:.0%} false-discovery rate under these filters.")
    elif flagged.empty:
        st.info(f"No item has {rules.min_attempts} attempts under these filters: nothing was tested.")
    else:
        show.chart(charts.item_intervals, tables.item_dots(flagged), key="item_intervals", name="items_to_review")
        st.caption("Share answering with the key and its 95% Wilson interval; black tick: the policy's other items.")
        for line in lines[: len(flagged)]:
            st.code(line, language=None, wrap_lines=True)
    show.table(ranked, key="item_ranked", column_config=ITEM_CONFIG)
    downloads.csv_button(ranked, file_name="golden_set_items.csv", key="items_csv", label="Download the list (CSV)",
                         what="golden-set item health")


def thin_items(items: pd.DataFrame, rules: it.ItemRules) -> None:
    thin = items[~items["enough_data"]]
    if thin.empty:
        return
    st.markdown(f"**Too few attempts** ({len(thin)} items with fewer than {rules.min_attempts}, not ranked or tested)")
    show.table(derived(tables.item_table, thin.sort_values(["policy", "item_id"]), ranked=False), key="item_thin",
               column_config=ITEM_CONFIG)


# ----------------------------------------------------------------------------------------- auditors

def auditor_controls() -> aud.AuditorRules:
    left, right, _ = st.columns([1, 1, 2])
    min_audits = int(left.number_input("Minimum comparable audits", min_value=10, max_value=100_000, value=100,
                                       step=10, key="auditor_min_audits"))
    return aud.AuditorRules(min_audits=min_audits, fdr=_fdr(right, "auditor_fdr"))


def _who(ids: pd.Series) -> list[str]:
    return presenter.people(ids, "Reviewer")


def _subject(name: str) -> str:
    """How a sentence names an auditor: 'Auditor QA11', or the pseudonym alone while presenting."""
    return name if presenter.is_on() else f"Auditor {name}"


def qa_auditors(f: Filters) -> None:
    st.header("QA auditors")
    st.caption(
        "Each auditor's fail rate against what their colleagues found on comparable work: the same market, policy "
        "and ISO week (indirect standardisation). A strict auditor makes quality scores from their audits read "
        "low, a lenient one high. Flagged only when the difference survives Benjamini-Hochberg."
    )
    rules = auditor_controls()
    with st.spinner("Comparing every auditor with colleagues on the same work"):
        found = measure(aud.auditor_severity, f, rules)
    kept = presenter.keep(found, "moderators")
    if kept.hidden:
        st.caption(f"Presenter mode: {kept.note('auditor')}")
    severity = kept.frame
    if severity.empty:
        st.info("No QA audits with an auditor (`reviewer_id`) match these filters. Widen the filters in the sidebar, "
                "or import QA audits with a reviewer column on the Data page.")
        return
    severity_section(severity, rules)
    agreement_section(f)


def severity_section(severity: pd.DataFrame, rules: aud.AuditorRules) -> None:
    st.subheader("Severity")
    judged = severity[severity["enough_data"]]
    who = _who(severity["reviewer_id"])
    names = dict(zip(severity["reviewer_id"], who, strict=True))
    if judged.empty:
        st.info(f"No auditor has {rules.min_audits} audits on work colleagues also audited: nothing to judge yet.")
    else:
        dots = tables.severity_dots(judged, [names[r] for r in judged["reviewer_id"]])
        show.chart(charts.auditor_severity, dots, key="auditor_severity", name="auditor_severity")
        st.caption("Fail rate minus colleagues' on the same work, with its 95% interval; strictest at the top.")
    lines = [words.auditor_text(_subject(names[row["reviewer_id"]]), row, min_audits=rules.min_audits, fdr=rules.fdr)
             for row in severity.to_dict("records")]
    flagged = severity["flagged"].tolist()
    for line, f in zip(lines, flagged, strict=True):
        if f:
            st.markdown(f"- {show.esc(line)}")
    if not any(flagged) and not judged.empty:
        st.success(f"{words.count(len(judged), 'auditor')} with {rules.min_audits}+ comparable audits tested: none is flagged at a "
                   f"{rules.fdr:.0%} false-discovery rate under these filters.")
    with st.expander("Every auditor, in words"):
        for line, f in zip(lines, flagged, strict=True):
            if not f:
                st.markdown(f"- {show.esc(line)}")
    show.table(tables.auditor_table(severity, who), key="auditor_table", column_config=AUDITOR_CONFIG)


def agreement_section(f: Filters) -> None:
    st.subheader("Auditor to auditor")
    with st.spinner("Reading decisions audited twice"):
        agreement = measure(aud.auditor_agreement, f)
    if agreement.pairs == 0:
        st.info("No decision was audited by two auditors under these filters (the same item id and moderator with "
                "two reviewer ids), so auditors cannot be compared with each other directly.")
        return
    if presenter.too_few(agreement.moderators):
        st.info(presenter.hidden_note("agreement figure"))
        return
    st.markdown(f"Verdicts (pass or fail) on decisions audited by two auditors: "
                f"{show.esc(words.kappa_text(agreement.overall.kappa, agreement.pairs))} agreement on Landis & Koch's "
                "scale (a rough guide, not a standard).")
    by_auditor = presenter.keep(agreement.by_auditor, "moderators").frame
    if by_auditor.empty:
        return
    who = _who(by_auditor["reviewer_id"])
    show.chart(charts.auditor_kappa, tables.kappa_dots(by_auditor, who), key="auditor_kappa", name="auditor_kappa")
    st.caption("Each auditor's verdicts against their colleagues' on the same decisions: Cohen's κ with its 95% "
               "interval, lowest first. Few shared decisions give wide intervals.")
    show.table(tables.agreement_table(by_auditor, who), key="agreement_table", column_config=AGREEMENT_CONFIG)


def main() -> None:
    st.title("Item health")
    st.caption("Golden-set items that need the policy team's eye, and QA auditors whose verdicts differ from their "
               "colleagues'. Dates, markets, policies, cohorts and projects in the sidebar apply.")
    f = filters.current()
    golden_items(f)
    qa_auditors(f)


main()
