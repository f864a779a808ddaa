"""Data: analysts bring exports here. Preview what will happen, import every file with one click, undo,
name saved mappings, remove the sample data, and download templates."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from data_sources import imports, templates
from data_sources.contract import DATASETS
from data_sources.label_order import saved_order
from data_sources.plan import Remedies, name_mapping, saved_mappings
from data_sources.readers import NotATable, RawTable, drop, read_upload
from data_sources.sample import remove_sample, sample_state
from data_sources.sheets import SheetsError, read_sheet
from metrics.agreement import LevelChoice, measurement_level
from outgoing.export_log import export_history
from ui import auth, cache, nav, presenter, show
from ui.cache import con

KEEP_GOING = "Import the good rows and keep the bad ones with their reasons"
PAGE_REMEDIES = Remedies(keep_going=f"tick “{KEEP_GOING}” under the file to import the rest")


@dataclass
class Ready:
    """A previewed table that the one Import button will write, with the choices made on its preview."""

    key: str  # where its result is kept: upload (name and size) and tab
    validated: imports.Validated
    keep_going: bool
    remember: bool
    name: str | None  # the saved mapping's name


def _results() -> dict[str, imports.ImportResult]:
    # Each table's last result stays listed under its file until the file leaves the uploader.
    results: dict[str, imports.ImportResult] = st.session_state.setdefault("import_results", {})
    return results


def _show_result(result: imports.ImportResult) -> None:
    (st.success if result.status == "imported" else st.info if result.ok else st.error)(show.esc(result.message))


def _stage_upload(upload: st.runtime.uploaded_file_manager.UploadedFile) -> list[RawTable]:
    # DuckDB reads files, not buffers: the reader stages the upload in a temporary file it removes on every
    # exit path (and sweeps after a kill).
    return read_upload(con(), upload.getbuffer(), upload.name)


def _mapping_editor(plan: imports.Plan, key: str) -> imports.Plan:
    """Let the user correct the dataset, the column mapping and the date order."""
    names = list(DATASETS)
    chosen = st.selectbox(
        "Dataset", names, index=names.index(plan.dataset) if plan.dataset else None,
        placeholder="Pick the dataset this file holds", key=f"{key}_dataset",
    )
    if chosen is None:
        return plan
    ds = DATASETS[chosen]
    base = plan if chosen == plan.dataset else imports.plan_import(con(), plan.raw, dataset=chosen)
    headers = ["(not in this file)", *plan.raw.headers]
    mapping: dict[str, int] = {}
    with st.expander(f"Columns ({show.esc(imports.describe_plan(base)) or 'none matched'})",
                     expanded=bool(base.missing)):
        cols = st.columns(3)
        for i, column in enumerate(ds.columns):
            current = base.mapping.get(column.name)
            label = column.name + (" *" if column.name in ds.required else "")
            pick = cols[i % 3].selectbox(label, headers, index=0 if current is None else current + 1,
                                         key=f"{key}_map_{column.name}", help=column.help or None)
            if pick != headers[0]:
                mapping[column.name] = headers.index(pick) - 1
    order = base.date_order
    if base.date_order_ambiguous or st.session_state.get(f"{key}_order"):
        order = st.radio("Dates like 04/03/2026 are", ["dmy", "mdy"], horizontal=True, key=f"{key}_order",
                         format_func=lambda o: "day first (4 March)" if o == "dmy" else "month first (April 3)",
                         index=0 if base.date_order == "dmy" else 1)
    return imports.plan_import(con(), plan.raw, dataset=chosen, mapping=mapping, date_order=order)


def _label_level(validated: imports.Validated) -> None:
    """For calibration: the labels' level of measurement, and where to give their order."""
    labels = imports.distinct_values(con(), validated, "label")
    order = saved_order(con())
    level: LevelChoice
    try:
        level = measurement_level(labels, order)
    except ValueError:  # labels the saved order does not name: read as they are
        level = measurement_level(labels)
    shown = ", ".join(show.esc(c) for c in level.categories[:12]) + (" ..." if len(level.categories) > 12 else "")
    st.caption(f"Labels ({shown}): **{level.level}**, {show.esc(level.reason)}. Agreement is computed at this level.")
    if level.level == "nominal":
        nav.link("views/calibration.py", "Ordered labels (a severity scale)? Set their order on the Calibration page",
                 ":material/sort:")


def _summary(validated: imports.Validated) -> None:
    """The preview's figures: rows ready, unusable, duplicate, skipped; missing cells per column."""
    parts = [f"{validated.rows_read:,} rows read", f"{validated.good:,} ready",
             f"{validated.rejected:,} cannot be used", f"{validated.duplicates:,} exact duplicates"]
    if validated.skipped:
        parts.append(f"{validated.skipped:,} skipped as missing")
    st.markdown(f"**{validated.plan.dataset}** · " + " · ".join(parts))
    for note in [*validated.missing_words(), *validated.notes]:
        st.caption(show.esc(note))
    if validated.plan.dataset == "calibration" and validated.good:
        _label_level(validated)


def _preview(raw: RawTable, key: str, result_key: str) -> Ready | None:
    """Show what importing this table would do; return it ready to import, or None when it cannot be."""
    plan = _mapping_editor(imports.plan_import(con(), raw), key)
    blocking = plan.blocking_problem()
    if blocking:
        st.error(show.esc(blocking))
        drop(con(), raw)
        return None
    validated = imports.validate(con(), plan)
    _summary(validated)
    if not presenter.is_on():
        st.dataframe(imports.typed_preview(con(), validated), hide_index=True, key=f"{key}_typed")
    keep_going = False
    if validated.rejected:
        st.warning(f"{validated.rejected:,} rows cannot be used; each is listed with its reason.")
        if not presenter.is_on():
            st.dataframe(imports.rejected_preview(con(), validated), hide_index=True, key=f"{key}_rejects")
        keep_going = st.checkbox(KEEP_GOING, key=f"{key}_keep")
    remember = st.checkbox("Remember this mapping for files with these headers", key=f"{key}_save",
                           disabled=plan.mapping_source == "saved")
    name = st.text_input("Name it (for `uplift import FILE --mapping NAME`)", key=f"{key}_name",
                         placeholder="e.g. vendor QA export") if remember else None
    return Ready(result_key, validated, keep_going, remember, name or None)


def _import_all(ready: list[Ready], blocked: int, key: str) -> None:
    """One click imports every table ready; each result is kept and listed under its file."""
    if blocked:
        st.caption(f"{blocked} table(s) cannot be imported as mapped: map them above, or they are left out.")
    if not ready:
        return
    label = "Import" if len(ready) == 1 else f"Import all {len(ready)}"
    if not st.button(label, key=key, type="primary"):
        return
    bar = st.progress(0.0, text="importing")
    results = _results()
    for i, item in enumerate(ready):
        try:
            if item.remember:
                imports.save_mapping(con(), item.validated.plan, item.name)
        except imports.ImportRefused as exc:  # a name another mapping has: the import still goes ahead
            st.session_state.setdefault("mapping_notes", []).append(str(exc))
        results[item.key] = imports.commit(
            con(), item.validated, keep_going=item.keep_going, user=auth.actor(), remedies=PAGE_REMEDIES,
            progress=lambda f, m, i=i: bar.progress((i + f) / len(ready), text=m))
    cache.clear_caches()
    # Run again from the top: the sidebar's dates follow the new data and every page shows it at once.
    st.rerun()


def _tables(raws: list[RawTable], prefix: str, file_key: str, ready: list[Ready]) -> int:
    """Preview each table of one file (a sheet per workbook tab), or list its result once imported.
    Adds the tables ready to `ready`; returns how many cannot be imported as mapped."""
    blocked = 0
    for m, raw in enumerate(raws):
        if raw.tab:
            st.markdown(f"Sheet **{show.esc(raw.tab)}**")
        key = f"{file_key}|{raw.tab or ''}"
        earlier = _results().get(key)
        if earlier is not None:
            _show_result(earlier)
            if earlier.ok:
                drop(con(), raw)
                continue
        item = _preview(raw, key=f"{prefix}_{m}", result_key=key)
        if item is None:
            blocked += 1
        else:
            ready.append(item)
    return blocked


def bring_files() -> None:
    uploads = st.file_uploader("Exports (CSV, TSV, XLSX)", type=["csv", "tsv", "txt", "xlsx"],
                               accept_multiple_files=True, key="uploads") or []
    ready: list[Ready] = []
    blocked = 0
    try:
        for n, upload in enumerate(uploads):
            with st.container(border=True):
                st.markdown(f"#### {show.esc(upload.name)}")
                try:
                    raws = _stage_upload(upload)
                except NotATable as exc:
                    st.error(show.esc(exc))
                    continue
                blocked += _tables(raws, f"up{n}", f"{upload.name}|{upload.size}", ready)
        _import_all(ready, blocked, "import_all")
    finally:
        for item in ready:
            imports.discard(con(), item.validated)


def bring_sheet() -> None:
    url = st.text_input("Google Sheets link", key="sheet_url",
                        placeholder="https://docs.google.com/spreadsheets/d/...")
    if not url:
        return
    try:
        raws = read_sheet(con(), url)
    except SheetsError as exc:
        st.error(show.esc(exc))
        return
    ready: list[Ready] = []
    try:
        with st.container(border=True):
            st.markdown(f"#### {show.esc(url)}")
            blocked = _tables(raws, "sheet", url, ready)
        _import_all(ready, blocked, "import_sheet")
    finally:
        for item in ready:
            imports.discard(con(), item.validated)


def _undo_picked() -> None:
    # A callback runs before the page is drawn again, so the history, the picker and the sidebar all
    # show the store after the undo; nothing stays picked.
    target = st.session_state.get("undo_pick")
    if target is None:
        return
    try:
        st.session_state["undo_message"] = ("done", imports.undo(con(), int(target), user=auth.actor()))
    except imports.ImportRefused as exc:
        st.session_state["undo_message"] = ("failed", str(exc))
    st.session_state["undo_pick"] = None
    cache.clear_caches()


def undo_section(log: pd.DataFrame) -> None:
    said = st.session_state.pop("undo_message", None)
    if said:
        (st.success if said[0] == "done" else st.error)(show.esc(said[1]))
    active = log[log["status"] == "active"]
    if active.empty or not auth.user().can("undo"):
        return
    labels = {int(r.import_id): f"#{r.import_id} {r.dataset} from {r.source}" for r in active.itertuples()}
    left, right = st.columns([3, 1])
    target = left.selectbox("Undo an import", list(labels), index=None, format_func=labels.get, key="undo_pick",
                            placeholder="Pick the import to undo")
    right.button("Undo", key="undo_button", disabled=target is None, on_click=_undo_picked)


def import_history() -> None:
    log = imports.history(con())
    if log.empty:
        st.info("No imports yet.")
        return
    undo_section(log)
    st.dataframe(presenter.mask(log), hide_index=True, key="history_table", width="stretch")
    downloads = export_history(con())
    if not downloads.empty:
        st.markdown("**Downloads** (who took which data out of Uplift)")
        st.dataframe(presenter.mask(downloads), hide_index=True, key="exports_table", width="stretch")
    with_rejects = log[log["rows_rejected"] > 0]
    if not with_rejects.empty and not presenter.is_on():
        pick = st.selectbox("Rejected rows of import", with_rejects["import_id"].tolist(), key="rejects_pick")
        if pick is not None:
            st.dataframe(imports.rejected(con(), int(pick)), hide_index=True, key="rejects_table")


def mappings_section() -> None:
    """Saved mappings with their names; one without a name can be given one here."""
    for note in st.session_state.pop("mapping_notes", []):
        st.warning(show.esc(note))
    every = saved_mappings(con())
    if not every:
        st.caption("No saved mappings yet: tick “Remember this mapping” when importing a file.")
        return
    show.table(pd.DataFrame({
        "name": [m.name or "(no name)" for m in every], "dataset": [m.dataset for m in every],
        "columns": [", ".join(f"{h} → {c}" for h, c in m.renames.items()) for m in every],
        "saved": [m.saved_at for m in every],
    }), key="mappings_table")
    # Shown as the dataset and headers (numbered, so two alike stay apart), picked back by that text.
    unnamed = {f"{n}. {m.dataset}: {', '.join(m.renames)}": m.signature
               for n, m in enumerate((m for m in every if not m.name), start=1)}
    if not unnamed:
        return
    left, mid, right = st.columns([3, 2, 1])
    which = left.selectbox("Give a saved mapping a name", list(unnamed), key="name_pick")
    name = mid.text_input("Name", key="mapping_name", placeholder="e.g. vendor QA export")
    if right.button("Name it", key="name_mapping", disabled=not name) and which and name:
        try:
            name_mapping(con(), unnamed[which], name)
            st.rerun()
        except imports.ImportRefused as exc:
            st.error(show.esc(exc))


def template_downloads() -> None:
    st.markdown("One template per dataset: the header row Uplift expects and an example row.")
    cols = st.columns(4)
    for i, name in enumerate(DATASETS):
        cols[i % 4].download_button(name, data=templates.template_csv(name), file_name=f"uplift_{name}.csv",
                                    mime="text/csv", key=f"template_{name}", on_click="ignore")
    st.dataframe(pd.DataFrame(templates.dataset_docs()), hide_index=True, key="contract_table", width="stretch")
    st.subheader("Saved mappings")
    mappings_section()


def _remove_sample() -> None:
    # A callback, as for undo: the page and the sidebar are drawn after the sample has gone.
    st.session_state["sample_message"] = remove_sample(con(), user=auth.actor()).message
    cache.clear_caches()


def sample_section() -> None:
    """While the bundled sample is loaded: say so, and take it out in one click."""
    said = st.session_state.pop("sample_message", None)
    if said:
        st.success(show.esc(said[:1].upper() + said[1:]))
    state = cache.measure(sample_state)
    if not state.loaded or not auth.user().can("undo"):
        return
    left, right = st.columns([4, 1])
    left.info("The bundled sample data is loaded" + (" beside your own imports" if state.other_imports else "") +
              ". Remove it before bringing your own roster: sample and real ids are never mixed.",
              icon=":material/science:")
    right.button("Remove the sample data", key="remove_sample", on_click=_remove_sample, type="primary")


def main() -> None:
    st.title("Data")
    st.caption(
        "Upload CSV, TSV or Excel exports, or paste a Google Sheets link. Nothing is written until you press "
        "Import, an import is all or nothing, and any import can be undone."
    )
    sample_section()
    bring, sheet, log_tab, tmpl = st.tabs(["Upload files", "Google Sheet", "Import history", "Templates"])
    with bring:
        bring_files()
    with sheet:
        bring_sheet()
    with log_tab:
        import_history()
    with tmpl:
        template_downloads()


main()
