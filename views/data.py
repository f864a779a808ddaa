"""Data: analysts bring exports here. Preview what will happen, import, undo, and download templates."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from data_sources import imports, templates
from data_sources.contract import DATASETS
from data_sources.readers import NotATable, RawTable, read_upload
from data_sources.sheets import SheetsError, read_sheet
from outgoing.export_log import export_history
from ui import auth, cache, presenter, show
from ui.cache import con


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
    with st.expander(f"Columns ({imports.describe_plan(base) or 'none matched'})", expanded=bool(base.missing)):
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


def _preview(raw: RawTable, key: str) -> None:
    plan = _mapping_editor(imports.plan_import(con(), raw), key)
    blocking = plan.blocking_problem()
    if blocking:
        st.error(show.esc(blocking))
        return
    validated = imports.validate(con(), plan)
    try:
        summary = (f"**{plan.dataset}** · {validated.rows_read:,} rows read · {validated.good:,} ready · "
                   f"{validated.rejected:,} cannot be used · {validated.duplicates:,} exact duplicates")
        st.markdown(summary)
        for note in validated.notes:
            st.caption(show.esc(note))
        if not presenter.is_on():
            st.dataframe(imports.typed_preview(con(), validated), hide_index=True, key=f"{key}_typed")
        keep_going = False
        if validated.rejected:
            st.warning(f"{validated.rejected:,} rows cannot be used; each is listed with its reason.")
            if not presenter.is_on():
                st.dataframe(imports.rejected_preview(con(), validated), hide_index=True, key=f"{key}_rejects")
            keep_going = st.checkbox("Import the good rows and keep the bad ones with their reasons",
                                     key=f"{key}_keep")
        remember = st.checkbox("Remember this mapping for files with these headers", key=f"{key}_save",
                               disabled=plan.mapping_source == "saved")
        if st.button("Import", key=f"{key}_import", type="primary"):
            bar = st.progress(0.0, text="importing")
            if remember:
                imports.save_mapping(con(), plan)
            result = imports.commit(con(), validated, keep_going=keep_going, user=auth.actor(),
                                    progress=lambda f, m: bar.progress(f, text=m))
            (st.success if result.status == "imported" else st.info if result.ok else st.error)(show.esc(result.message))
            cache.clear_caches()
    finally:
        imports.discard(con(), validated)


def bring_files() -> None:
    uploads = st.file_uploader("Exports (CSV, TSV, XLSX)", type=["csv", "tsv", "txt", "xlsx"],
                               accept_multiple_files=True, key="uploads")
    for n, upload in enumerate(uploads or []):
        with st.container(border=True):
            st.markdown(f"#### {show.esc(upload.name)}")
            try:
                raws = _stage_upload(upload)
            except NotATable as exc:
                st.error(show.esc(exc))
                continue
            for m, raw in enumerate(raws):
                if raw.tab:
                    st.markdown(f"Sheet **{show.esc(raw.tab)}**")
                _preview(raw, key=f"up{n}_{m}")


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
    for m, raw in enumerate(raws):
        with st.container(border=True):
            st.markdown(f"#### Worksheet {show.esc(raw.tab)}")
            _preview(raw, key=f"sheet_{m}")


def import_history() -> None:
    log = imports.history(con())
    if log.empty:
        st.info("No imports yet.")
        return
    st.dataframe(presenter.mask(log), hide_index=True, key="history_table", width="stretch")
    active = log[log["status"] == "active"]
    if not active.empty:
        labels = {int(r.import_id): f"#{r.import_id} {r.dataset} from {r.source}" for r in active.itertuples()}
        left, right = st.columns([3, 1])
        target = left.selectbox("Undo an import", list(labels), format_func=labels.get, key="undo_pick")
        if right.button("Undo", key="undo_button") and target is not None:
            try:
                st.success(show.esc(imports.undo(con(), int(target), user=auth.actor())))
            except imports.ImportRefused as exc:
                st.error(show.esc(exc))
            cache.clear_caches()
    downloads = export_history(con())
    if not downloads.empty:
        st.markdown("**Downloads** (who took which data out of Uplift)")
        st.dataframe(presenter.mask(downloads), hide_index=True, key="exports_table", width="stretch")
    with_rejects = log[log["rows_rejected"] > 0]
    if not with_rejects.empty and not presenter.is_on():
        pick = st.selectbox("Rejected rows of import", with_rejects["import_id"].tolist(), key="rejects_pick")
        if pick is not None:
            st.dataframe(imports.rejected(con(), int(pick)), hide_index=True, key="rejects_table")


def template_downloads() -> None:
    st.markdown("One template per dataset: the header row Uplift expects and an example row.")
    cols = st.columns(4)
    for i, name in enumerate(DATASETS):
        cols[i % 4].download_button(name, data=templates.template_csv(name), file_name=f"uplift_{name}.csv",
                                    mime="text/csv", key=f"template_{name}", on_click="ignore")
    st.dataframe(pd.DataFrame(templates.dataset_docs()), hide_index=True, key="contract_table", width="stretch")


def main() -> None:
    st.title("Data")
    st.caption(
        "Upload CSV, TSV or Excel exports, or paste a Google Sheets link. Nothing is written until you press "
        "Import, an import is all or nothing, and any import can be undone."
    )
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
