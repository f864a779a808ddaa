"""Every chart Uplift draws, as a pure function from a small frame to an Altair chart (no Streamlit here),
tested on tiny frames without a browser; and one theme: a colour-blind-safe palette, type legible when
screen-shared. Pages draw them with `ui.show.chart`; the weekly report turns them into SVG."""

from __future__ import annotations

import datetime as dt
from typing import Any, Final, cast

import altair as alt
import pandas as pd

from data_sources.contract import TRAINING_KINDS
from outgoing.weekly_report import WeekSummary

# Okabe & Ito (2008), safe for the common colour-vision deficiencies.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
DIVERGING: Final = "blueorange"  # for gaps around a level: blue above, orange below
ATTENDED, COMPARISON = PALETTE[0], PALETTE[1]
GREY = "#9e9e9e"
GROUP_NAMES = {"attended": "Attended", "comparison": "Did not attend"}


@alt.theme.register("uplift", enable=True)
def uplift_theme() -> alt.theme.ThemeConfig:
    return {
        "config": {
            "font": "Source Sans Pro, sans-serif",
            "range": {"category": PALETTE},
            "axis": {"labelFontSize": 13, "titleFontSize": 14, "gridOpacity": 0.5},
            "legend": {"labelFontSize": 13, "titleFontSize": 13, "orient": "bottom"},
            "title": {"fontSize": 16, "anchor": "start"},
            "view": {"stroke": None},
        }
    }


def svg(chart: alt.TopLevelMixin) -> str:
    """The chart as a self-contained SVG (no network), for reports and downloads."""
    import vl_convert as vlc

    return str(vlc.vegalite_to_svg(chart.to_json()))


def png(chart: alt.TopLevelMixin) -> bytes:
    import vl_convert as vlc

    return bytes(vlc.vegalite_to_png(chart.to_json(), scale=2))


def presenting(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    """The chart with the type sizes of a shared screen (axis, legend and title text a third larger)."""
    return chart.configure_axis(labelFontSize=17, titleFontSize=18).configure_legend(
        labelFontSize=17, titleFontSize=17).configure_title(fontSize=20)


EVENT_KINDS = list(TRAINING_KINDS)


def with_events(chart: alt.TopLevelMixin, events: pd.DataFrame) -> alt.TopLevelMixin:
    """A time chart (x: `week` or another temporal field) with trainings and policy updates marked as
    dashed rules at their dates, coloured by kind, the title in the tooltip; a click on a kind in the
    legend fades the others (double-click for all)."""
    if events.empty:
        return chart
    kinds = alt.selection_point(name="event_kind", fields=["kind"], bind="legend")
    rules = alt.Chart(events).mark_rule(strokeDash=[3, 3], strokeWidth=2).encode(
        x=alt.X("date:T"),
        color=alt.Color("kind:N", title="Trainings", scale=alt.Scale(domain=EVENT_KINDS, range=[*PALETTE[1:6], GREY]),
                        legend=alt.Legend(orient="bottom", direction="horizontal", columns=3,
                                          labelExpr="replace(datum.label, '_', ' ')")),
        opacity=alt.when(kinds).then(alt.value(0.9)).otherwise(alt.value(0.08)),
        tooltip=[alt.Tooltip("date:T", title="Date", format="%d %b %Y"), alt.Tooltip("kind:N", title="Kind"),
                 alt.Tooltip("title:N", title="Title"), alt.Tooltip("policy:N", title="Policy"),
                 alt.Tooltip("market:N", title="Market")],
    ).add_params(kinds)
    # Both inner scales resolved apart, so a chart's own colour-and-shape legend stays one legend.
    return alt.layer(cast(Any, chart), rules).resolve_scale(color="independent", shape="independent")


def titled(chart: alt.TopLevelMixin, point: str | None) -> alt.TopLevelMixin:
    """The chart with its point as its title (what a reader should take from it), when there is one."""
    return chart.properties(title=alt.TitleParams(point, anchor="start", fontSize=15)) if point else chart


def _pct_tip(field: str, title: str) -> alt.Tooltip:
    return alt.Tooltip(f"{field}:Q", title=title, format=".1%")


def _interval_tips() -> list[alt.Tooltip]:
    return [_pct_tip("low", "95% low"), _pct_tip("high", "95% high")]


# ------------------------------------------------------------------------------------------ Overview

VERDICTS = ["within normal variation", "beyond control limits"]


def p_chart(frame: pd.DataFrame, chosen: dt.date, measure: str = "Accuracy") -> alt.TopLevelMixin:
    """Weekly rates against Montgomery's p-chart limits (a `metrics.weekly.p_chart` frame), the chosen
    week marked; weeks beyond the limits are diamonds."""
    base = alt.Chart(frame).encode(x=alt.X("week:T", title="ISO week (Monday)", axis=alt.Axis(format="%d %b")))
    band = base.mark_area(opacity=0.2, color=PALETTE[4], interpolate="step-after").encode(
        y=alt.Y("lcl:Q", title=measure, axis=alt.Axis(format=".0%"), scale=alt.Scale(zero=False)), y2="ucl:Q")
    centre = base.mark_line(color="#555", strokeDash=[6, 4]).encode(y="center:Q")
    line = base.mark_line(color=PALETTE[0]).encode(y="rate:Q")
    points = base.transform_calculate(status=f"datum.beyond ? '{VERDICTS[1]}' : '{VERDICTS[0]}'").mark_point(
        filled=True, size=80).encode(
        y="rate:Q",
        color=alt.Color("status:N", title=None, scale=alt.Scale(domain=VERDICTS, range=[PALETTE[0], PALETTE[5]])),
        shape=alt.Shape("status:N", title=None, scale=alt.Scale(domain=VERDICTS, range=["circle", "diamond"])),
        tooltip=[alt.Tooltip("week:T", title="Week of", format="%d %b %Y"), _pct_tip("rate", measure),
                 alt.Tooltip("reviewed:Q", title="Reviews", format=","), _pct_tip("lcl", "Lower limit"),
                 _pct_tip("ucl", "Upper limit"), alt.Tooltip("status:N", title="Verdict")],
    )
    marker = alt.Chart(pd.DataFrame({"week": [pd.Timestamp(chosen)]})).mark_rule(
        color="#999", strokeDash=[2, 2]).encode(x="week:T")
    return alt.layer(band, centre, marker, line, points).properties(height=300)


def weeks_spanned(frame: pd.DataFrame) -> tuple[dt.date, dt.date]:
    """The first Monday and the last Sunday of a frame's ISO `week` column: the dates its chart spans."""
    weeks = pd.to_datetime(frame["week"])
    return weeks.min().date(), (weeks.max() + pd.Timedelta(days=6)).date()


def week_chart(week: WeekSummary) -> alt.TopLevelMixin | None:
    """The Overview's and the weekly report's control chart of the week's lead measure, its trainings and
    policy updates marked; None when the weeks before it have no reviews."""
    if week.chart.empty:
        return None
    return with_events(p_chart(week.chart, week.start, week.measure_name.capitalize()), week.events)


# ---------------------------------------------------------------------------------- Trainee explorer

def trainee_trend(trend: pd.DataFrame, measure: str) -> alt.TopLevelMixin:
    """A trainee's weekly rate with its interval, sized by reviews, over the middle half of cohort-mates
    at the same tenure (a `metrics.trainee.trainee_trend` frame)."""
    base = alt.Chart(trend).encode(x=alt.X("week:T", title="Week"))
    y = alt.Y("rate:Q", title=measure, axis=alt.Axis(format=".0%"), scale=alt.Scale(zero=False))
    band = base.mark_area(opacity=0.2, color=PALETTE[4]).encode(y=alt.Y("cohort_p25:Q", title=measure),
                                                                 y2="cohort_p75:Q")
    median = base.mark_line(color="#555", strokeDash=[6, 4]).encode(y="cohort_median:Q")
    bars = base.mark_rule(color=ATTENDED, opacity=0.5).encode(y="low:Q", y2="high:Q")
    line = base.mark_line(color=ATTENDED, opacity=0.6).encode(y=y)
    # Point size by reviews: a week of two reviews at 0% should not look like a week of fifty.
    points = base.mark_circle(color=ATTENDED, opacity=0.9).encode(
        y="rate:Q", size=alt.Size("reviewed:Q", title="Reviews", scale=alt.Scale(range=[15, 250])),
        tooltip=[alt.Tooltip("week:T", title="Week of", format="%d %b %Y"),
                 alt.Tooltip("tenure_week:Q", title="Tenure week"), _pct_tip("rate", measure),
                 alt.Tooltip("reviewed:Q", title="Reviews"), *_interval_tips(),
                 _pct_tip("cohort_median", "Cohort median"),
                 alt.Tooltip("cohort_trainees:Q", title="Cohort-mates that week")],
    )
    return alt.layer(band, median, bars, line, points).properties(height=300)


def policy_strengths(strengths: pd.DataFrame, measure: str) -> alt.TopLevelMixin:
    """Shrunk rate per policy with its interval, weakest first, the market's rate as a tick."""
    base = alt.Chart(strengths).encode(y=alt.Y("policy:N", sort=strengths["policy"].tolist(), title=None))
    title = f"{measure} (shrunk, 95% interval)"
    bars = base.mark_rule(strokeWidth=2, color=PALETTE[0]).encode(x=alt.X("shrunk_low:Q", title=title),
                                                                  x2="shrunk_high:Q")
    market = base.mark_tick(color=PALETTE[1], thickness=3, size=18).encode(x="market_rate:Q")
    point = base.mark_point(filled=True, size=90, color=PALETTE[0]).encode(
        x=alt.X("shrunk_rate:Q", title=title, axis=alt.Axis(format=".0%"), scale=alt.Scale(zero=False)),
        tooltip=[alt.Tooltip("policy:N", title="Policy"), alt.Tooltip("reviewed:Q", title="Reviews"),
                 _pct_tip("rate", "Observed"), _pct_tip("shrunk_rate", "Shrunk"), _pct_tip("shrunk_low", "95% low"),
                 _pct_tip("shrunk_high", "95% high"), _pct_tip("market_rate", "Market"),
                 alt.Tooltip("gap:Q", title="Gap to market", format="+.1%")],
    )
    return alt.layer(bars, market, point).properties(height=max(160, 34 * len(strengths)))


def coaching_dots(dots: pd.DataFrame) -> alt.TopLevelMixin:
    """Shrunk rate with its interval per trainee (columns trainee, market, rate, low, high, reviews), in
    the frame's order."""
    # Every name in full (no label dropped for overlap), and ticks fine enough not to repeat "73% 73%".
    base = alt.Chart(dots).encode(y=alt.Y("trainee:N", sort=None, title=None,
                                          axis=alt.Axis(labelLimit=0, labelOverlap=False)))
    return alt.layer(
        base.mark_rule(color=PALETTE[0]).encode(
            x=alt.X("low:Q", title="Shrunk rate, 95% interval", axis=alt.Axis(format=".1%", tickCount=5),
                    scale=alt.Scale(zero=False)), x2="high:Q"),
        base.mark_point(filled=True, size=70, color=PALETTE[0]).encode(
            x="rate:Q",
            tooltip=[alt.Tooltip("trainee:N", title="Trainee"), alt.Tooltip("market:N", title="Market"),
                     _pct_tip("rate", "Shrunk rate"), alt.Tooltip("reviews:Q", title="Reviews")]),
    ).properties(height=max(140, 22 * len(dots)))


# ----------------------------------------------------------------------------------- Training impact

def training_timeline(frame: pd.DataFrame, window: int, lag: int, step: int, measure: str) -> alt.TopLevelMixin:
    """Attendees' and the comparison group's pooled rate per day (step 1) or week (step 7) around the
    session (a `metrics.training.timeline` frame), the two windows shaded."""
    windows = pd.DataFrame({"start": [-window, lag], "end": [0, lag + window], "window": ["before", "after"]})
    shade = alt.Chart(windows).mark_rect(opacity=0.08, color="#666").encode(x="start:Q", x2="end:Q")
    tags = alt.Chart(windows).transform_calculate(mid="(datum.start + datum.end) / 2").mark_text(
        baseline="top", color="#555", fontSize=13).encode(x="mid:Q", y=alt.value(4), text="window:N")
    session = alt.Chart(pd.DataFrame({"x": [0]})).mark_rule(color="#000", strokeDash=[4, 3]).encode(x="x:Q")
    colour = alt.Color("who:N", title=None, scale=alt.Scale(domain=list(GROUP_NAMES.values()),
                                                            range=[ATTENDED, COMPARISON]))
    base = alt.Chart(frame).transform_calculate(
        day=f"datum.offset * {step} + {step / 2}",
        who=f"datum.group == 'attended' ? '{GROUP_NAMES['attended']}' : '{GROUP_NAMES['comparison']}'",
    ).encode(x=alt.X("day:Q", title="Days since the session"), color=colour)
    band = base.mark_area(opacity=0.18).encode(
        y=alt.Y("low:Q", title=measure, axis=alt.Axis(format=".0%"), scale=alt.Scale(zero=False)), y2="high:Q")
    line = base.mark_line(point=True).encode(
        y="rate:Q",
        tooltip=[alt.Tooltip("who:N", title="Group"), alt.Tooltip("offset:Q", title="Days" if step == 1 else "Week"),
                 _pct_tip("rate", "Rate"), alt.Tooltip("reviewed:Q", title="Reviews"), *_interval_tips()],
    )
    return alt.layer(shade, tags, session, band, line).properties(height=320)


def effect_event_study(frame: pd.DataFrame, window: int, lag: int) -> alt.TopLevelMixin:
    """Attendees minus the comparison group, week by week around the session (a
    `metrics.selection.event_study` frame, gaps in proportion points), each week a point with its 95%
    interval, zero as a rule, the session dashed, and the earlier, before and after windows shaded."""
    weeks = pd.DataFrame({"start": [-2 * window / 7, -window / 7, lag / 7], "end": [-window / 7, 0, (lag + window) / 7],
                          "window": ["earlier", "before", "after"]})
    shade = alt.Chart(weeks).mark_rect(opacity=0.08, color="#666").encode(x="start:Q", x2="end:Q")
    tags = alt.Chart(weeks).transform_calculate(mid="(datum.start + datum.end) / 2").mark_text(
        baseline="top", color="#555", fontSize=13).encode(x="mid:Q", y=alt.value(4), text="window:N")
    zero = alt.Chart(pd.DataFrame({"y": [0]})).mark_rule(color=GREY).encode(y="y:Q")
    session = alt.Chart(pd.DataFrame({"x": [0]})).mark_rule(color="#000", strokeDash=[4, 3]).encode(x="x:Q")
    base = alt.Chart(frame).transform_calculate(
        week="datum.offset + 0.5", gap_pts="datum.gap * 100", low_pts="datum.low * 100", high_pts="datum.high * 100",
    ).encode(x=alt.X("week:Q", title="Weeks since the session", axis=alt.Axis(tickMinStep=1, format="d")))
    bars = base.mark_rule(color=ATTENDED, strokeWidth=2).encode(
        y=alt.Y("low_pts:Q", title="Attendees minus comparison (points)"), y2="high_pts:Q")
    dots = base.mark_circle(color=ATTENDED, size=90, opacity=1).encode(
        y="gap_pts:Q",
        tooltip=[alt.Tooltip("offset:Q", title="Week"), alt.Tooltip("gap_pts:Q", title="Gap (points)", format="+.1f"),
                 alt.Tooltip("low_pts:Q", title="95% low", format="+.1f"),
                 alt.Tooltip("high_pts:Q", title="95% high", format="+.1f"),
                 _pct_tip("attendee_rate", "Attendees"), _pct_tip("comparison_rate", "Comparison"),
                 alt.Tooltip("attendee_reviews:Q", title="Attendees' reviews"),
                 alt.Tooltip("comparison_reviews:Q", title="Comparison reviews")],
    )
    return alt.layer(shade, tags, zero, session, bars, dots).properties(height=300)


def attendee_slopes(frame: pd.DataFrame, measure: str) -> alt.TopLevelMixin:
    """One line per attendee from their rate before to after (columns who, pre_rate, post_rate,
    pre_reviews, post_reviews), coloured by direction."""
    return alt.Chart(frame).transform_fold(["pre_rate", "post_rate"], as_=["phase", "rate"]).transform_calculate(
        when="datum.phase == 'pre_rate' ? 'Before' : 'After'",
        direction="datum.post_rate >= datum.pre_rate ? 'up or level' : 'down'",
    ).mark_line(point=True, opacity=0.6).encode(
        x=alt.X("when:N", sort=["Before", "After"], title=None, axis=alt.Axis(labelAngle=0)),
        y=alt.Y("rate:Q", title=measure, axis=alt.Axis(format=".0%"), scale=alt.Scale(zero=False)),
        detail="who:N",
        color=alt.Color("direction:N", title=None, scale=alt.Scale(domain=["up or level", "down"],
                                                                   range=[PALETTE[0], PALETTE[5]])),
        tooltip=[alt.Tooltip("who:N", title="Trainee"), _pct_tip("pre_rate", "Before"), _pct_tip("post_rate", "After"),
                 alt.Tooltip("pre_reviews:Q", title="Reviews before"),
                 alt.Tooltip("post_reviews:Q", title="Reviews after")],
    ).properties(height=340)


# ----------------------------------------------------------------------------------- Learning curves

def _cohort_emphasis(highlight: str | None) -> tuple[Any, Any]:
    """Colour and line width per cohort: with `highlight`, that cohort strong and the others thin and grey,
    so the one that matters can be picked out of eight; without, a colour per cohort."""
    if highlight is None:
        return alt.Color("cohort:N", title="Cohort"), alt.value(2)
    strong = f"datum.cohort == {highlight!r}"
    return (alt.when(strong).then(alt.value(PALETTE[0])).otherwise(alt.value(GREY)),
            alt.when(strong).then(alt.value(3.5)).otherwise(alt.value(1.2)))


def learning_curves(curves: pd.DataFrame, fitted: pd.DataFrame, target: float,
                    highlight: str | None = None) -> alt.TopLevelMixin:
    """Rate by tenure week per cohort with Wilson bands (a `metrics.learning.learning_curves` frame), the
    chosen fitted curve dashed, and the proficiency target. With `highlight`, that cohort is drawn strong
    (with its band) and the others thin and grey, so the one that matters can be picked out of eight."""
    colour, width = _cohort_emphasis(highlight)
    base = alt.Chart(curves).encode(x=alt.X("week:Q", title="Tenure week", axis=alt.Axis(tickMinStep=1)))
    banded = base.transform_filter(f"datum.cohort == {highlight!r}") if highlight is not None else base
    band = banded.mark_area(opacity=0.15).encode(
        y=alt.Y("low:Q", title="Accuracy", axis=alt.Axis(format="%"), scale=alt.Scale(zero=False, domainMax=1)),
        y2="high:Q", color=alt.value(PALETTE[0]) if highlight is not None else colour)
    observed = base.mark_line(point=True).encode(
        y="rate:Q", color=colour, strokeWidth=width, detail="cohort:N",
        tooltip=[alt.Tooltip("cohort:N", title="Cohort"), alt.Tooltip("week:Q", title="Tenure week"),
                 _pct_tip("rate", "Accuracy"), *_interval_tips(), alt.Tooltip("reviewed:Q", title="Reviews"),
                 alt.Tooltip("trainees:Q", title="Trainees")],
    )
    fit_lines = alt.Chart(fitted).mark_line(strokeDash=[6, 4], strokeWidth=2).encode(
        x="week:Q", y="fitted:Q", color=colour, detail="cohort:N",
        tooltip=[alt.Tooltip("cohort:N", title="Cohort"), alt.Tooltip("model:N", title="Fitted model"),
                 alt.Tooltip("week:Q", title="Tenure week"), _pct_tip("fitted", "Fitted")],
    )
    target_rule = alt.Chart(pd.DataFrame({"target": [target]})).mark_rule(color="#555", strokeDash=[2, 2]).encode(
        y="target:Q", tooltip=[alt.Tooltip("target:Q", title="Proficiency target", format=".0%")])
    return alt.layer(band, observed, fit_lines, target_rule).properties(height=480)


def proficiency_curve(km: pd.DataFrame, highlight: str | None = None) -> alt.TopLevelMixin:
    """Share of each cohort proficient by tenure week, 1 - Kaplan-Meier, with its band; with `highlight`
    that cohort strong with its band, the others thin and grey (as on the learning curves)."""
    colour, width = _cohort_emphasis(highlight)
    base = alt.Chart(km).encode(x=alt.X("week:Q", title="Tenure week", axis=alt.Axis(tickMinStep=1)))
    banded = base.transform_filter(f"datum.cohort == {highlight!r}") if highlight is not None else base
    band = banded.mark_area(opacity=0.15, interpolate="step-after").encode(
        y=alt.Y("low:Q", title="Share proficient", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
        y2="high:Q", color=alt.value(PALETTE[0]) if highlight is not None else colour)
    line = base.mark_line(interpolate="step-after").encode(
        y="share_reached:Q", color=colour, strokeWidth=width, detail="cohort:N",
        tooltip=[alt.Tooltip("cohort:N", title="Cohort"), alt.Tooltip("week:Q", title="Tenure week"),
                 alt.Tooltip("share_reached:Q", title="Share proficient", format=".0%"),
                 alt.Tooltip("low:Q", title="95% low", format=".0%"), alt.Tooltip("high:Q", title="95% high", format=".0%"),
                 alt.Tooltip("at_risk:Q", title="Still on the way")],
    )
    return alt.layer(band, line).properties(height=420)


# ---------------------------------------------------------------------------------------- Weak spots

HEAT_COLUMNS = ["market", "policy", "reviewed", "correct", "rate", "low", "high", "policy_level", "shrunk_rate",
                "shrunk_low", "shrunk_high", "gap", "q_value", "enough_data", "testable", "flagged"]


def weak_spot_heatmap(spots: pd.DataFrame, min_reviewed: int) -> alt.TopLevelMixin:
    """Market x policy cells coloured by the shrunk gap, thin cells grey and marked, flagged cells with a
    bold border and a dot; a click selects a cell (selection "cell" on market and policy)."""
    few = f"n<{min_reviewed}"
    cell_pick = alt.selection_point(name="cell", fields=["market", "policy"], on="click", clear="dblclick")
    base = alt.Chart(spots[HEAT_COLUMNS]).encode(
        x=alt.X("policy:N", title=None, axis=alt.Axis(labelAngle=-35, labelLimit=0, labelOverlap=False)),
        y=alt.Y("market:N", title=None),
    )
    tooltip = [
        alt.Tooltip("market:N", title="Market"), alt.Tooltip("policy:N", title="Policy"),
        _pct_tip("rate", "Raw rate"), *_interval_tips(), alt.Tooltip("reviewed:Q", title="Reviews (n)"),
        _pct_tip("shrunk_rate", "Shrunk rate"), _pct_tip("policy_level", "Policy in other markets"),
        alt.Tooltip("gap:Q", title="Gap (shrunk)", format="+.1%"), alt.Tooltip("q_value:Q", title="q-value", format=".3f"),
    ]
    # A cell is coloured only when judged and comparable; with no comparison at all there is no gap
    # scale (and no legend reading "+NaN%").
    judged = bool((spots["testable"] & spots["gap"].notna()).any())
    colour = alt.when("datum.testable").then(
        alt.Color("gap:Q", title="Gap (shrunk)", legend=alt.Legend(format="+.0%"),
                  scale=alt.Scale(scheme=DIVERGING, domainMid=0, reverse=True))
    ).otherwise(alt.value("#d9d9d9")) if judged else alt.value("#d9d9d9")
    rect = base.mark_rect(stroke="white", strokeWidth=1).encode(
        color=colour,
        opacity=alt.when(cell_pick).then(alt.value(1.0)).otherwise(alt.value(0.45)),
        tooltip=tooltip,
    ).add_params(cell_pick)
    flag_border = base.transform_filter("datum.flagged").mark_rect(filled=False, stroke="#000000", strokeWidth=3)
    marks = base.transform_calculate(
        mark=f"datum.flagged ? '●' : (datum.enough_data ? '' : '{few}')"
    ).mark_text(fontSize=14, fontWeight="bold", color="#000000").encode(text="mark:N", tooltip=tooltip)
    # Autosize "fit" counts the slanted policy labels and the legend in the height: leave room for them.
    return alt.layer(rect, flag_border, marks).properties(height=200 + 40 * spots["market"].nunique())


def cell_trend(trend: pd.DataFrame, policy_level: float | None) -> alt.TopLevelMixin:
    """A cell's weekly rate with its 95% band, and the policy's level in the other markets (dashed)."""
    base = alt.Chart(trend).encode(x=alt.X("week:T", title="Week"))
    band = base.mark_area(opacity=0.2, color=PALETTE[0]).encode(
        y=alt.Y("low:Q", title="Rate", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])), y2="high:Q")
    line = base.mark_line(point=True, color=PALETTE[0]).encode(
        y="rate:Q",
        tooltip=[alt.Tooltip("week:T", title="Week of"), _pct_tip("rate", "Rate"), *_interval_tips(),
                 alt.Tooltip("reviewed:Q", title="Reviews (n)")],
    )
    layers: list[alt.Chart] = [band, line]
    if policy_level is not None and pd.notna(policy_level):
        level = pd.DataFrame({"level": [policy_level]})
        layers.append(alt.Chart(level).mark_rule(strokeDash=[4, 3], color=PALETTE[1]).encode(
            y="level:Q", tooltip=[_pct_tip("level", "Policy in other markets")]))
    return alt.layer(*layers).properties(height=320)


# --------------------------------------------------------------------------------------- Calibration

def rater_agreement(bars: pd.DataFrame, *, with_interval: bool) -> alt.TopLevelMixin:
    """Each rater's share of items matching the expert (columns rater_id, agreement_with_reference,
    matches, items, low, high, kappa_with_reference), best first, with the count on the bar."""
    # One sort for every layer (a "-x" sort conflicts between the bar and the interval layers).
    y = alt.Y("rater_id:N", title=None, sort=alt.EncodingSortField("agreement_with_reference", op="max",
                                                                   order="descending"))
    tips = [alt.Tooltip("rater_id:N", title="Rater"),
            alt.Tooltip("agreement_with_reference:Q", title="Agrees with the expert", format=".0%"),
            alt.Tooltip("matches:Q", title="Items matching"), alt.Tooltip("items:Q", title="Items rated"),
            alt.Tooltip("low:Q", title="95% low", format=".0%"), alt.Tooltip("high:Q", title="95% high", format=".0%"),
            alt.Tooltip("kappa_with_reference:Q", title="Cohen's κ with the expert", format=".2f")]
    layers: list[alt.Chart] = [alt.Chart(bars).mark_bar(color=PALETTE[0], opacity=0.8).encode(
        x=alt.X("agreement_with_reference:Q", title="Share of items matching the expert",
                axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])), y=y, tooltip=tips)]
    if with_interval:
        layers.append(alt.Chart(bars).mark_errorbar(color="#000000").encode(
            x=alt.X("low:Q", title=""), x2="high:Q", y=y, tooltip=tips))
    layers.append(alt.Chart(bars).transform_calculate(count="datum.matches + ' of ' + datum.items").mark_text(
        align="left", dx=6, color="#ffffff", fontWeight="bold").encode(x=alt.datum(0), y=y, text="count:N"))
    return alt.layer(*layers).properties(height=90 + 32 * len(bars))


def rating_grid(grid: pd.DataFrame) -> alt.TopLevelMixin:
    """Rater x item cells coloured by the label given, a cross where it differs from the expert (columns
    rater_id, item_id, label, differs)."""
    base = alt.Chart(grid).encode(
        x=alt.X("item_id:N", title="Item", sort=sorted(grid["item_id"].unique()), axis=alt.Axis(labelAngle=-60)),
        y=alt.Y("rater_id:N", title=None),
    )
    tips = [alt.Tooltip("rater_id:N", title="Rater"), alt.Tooltip("item_id:N", title="Item"),
            alt.Tooltip("label:N", title="Label"), alt.Tooltip("differs:N", title="Differs from the expert")]
    cells = base.mark_rect(stroke="white", strokeWidth=1).encode(
        color=alt.Color("label:N", title="Label", scale=alt.Scale(range=PALETTE)), tooltip=tips)
    crosses = base.transform_filter("datum.differs").mark_text(text="✕", fontSize=13, color="#000000").encode(
        tooltip=tips)
    # Autosize "fit" counts axis labels and the legend in the height: leave room for them.
    return alt.layer(cells, crosses).properties(height=230 + 30 * grid["rater_id"].nunique())


def agreement_over_time(trend: pd.DataFrame) -> alt.TopLevelMixin:
    """Each session's alpha on each policy with its interval (an `agreement_by_policy` frame with booleans
    `this_policy` and `chosen`, the picked session), the chosen policy highlighted and the rest grey, the
    picked session and every session under 0.667 named, Krippendorff's 0.667 and 0.80 dashed."""
    tips = [alt.Tooltip("policy:N", title="Policy"), alt.Tooltip("date:T", title="Session date"),
            alt.Tooltip("session_id:N", title="Session"), alt.Tooltip("alpha:Q", title="α", format=".2f"),
            alt.Tooltip("alpha_low:Q", title="95% low", format=".2f"),
            alt.Tooltip("alpha_high:Q", title="95% high", format=".2f"),
            alt.Tooltip("items:Q", title="Items"), alt.Tooltip("raters:Q", title="Raters")]
    highlight = alt.when("datum.this_policy").then(alt.value(PALETTE[5])).otherwise(alt.value(GREY))
    base = alt.Chart(trend).encode(x=alt.X("date:T", title="Session date", scale=alt.Scale(padding=16)))
    lines = base.mark_line(opacity=0.6).encode(y="alpha:Q", detail="policy:N", color=highlight)
    errors = base.mark_rule(strokeWidth=2).encode(y=alt.Y("alpha_low:Q", title="Krippendorff's α"),
                                                  y2="alpha_high:Q", color=highlight, tooltip=tips)
    points = base.mark_point(filled=True, size=70).encode(y="alpha:Q", color=highlight, tooltip=tips)
    guide = alt.Chart(pd.DataFrame({"alpha": [0.667, 0.8]})).mark_rule(strokeDash=[4, 3], color="#555555").encode(
        y="alpha:Q")
    # Name the sessions that matter: the chosen one and any below Krippendorff's 0.667, not grey dots.
    named = base.transform_filter("datum.chosen || datum.alpha < 0.667").mark_text(
        align="left", dx=7, dy=-7, fontSize=12, color="#222222").encode(y="alpha:Q", text="session_id:N")
    return alt.layer(guide, lines, errors, points, named).properties(height=380)


# --------------------------------------------------------------------------- Tests and certification

def pass_rates(rates: pd.DataFrame, group_title: str) -> alt.TopLevelMixin:
    """First-attempt pass rate per group with its Wilson interval (a `certification_pass_rates` frame)."""
    base = alt.Chart(rates).encode(y=alt.Y("group:N", title=group_title, sort=None,
                                           axis=alt.Axis(labelOverlap=False, labelLimit=0)))
    title = "Passed at the first attempt (95% interval)"
    bars = base.mark_rule(strokeWidth=2, color=PALETTE[0]).encode(
        x=alt.X("first_attempt_low:Q", title=title, axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
        x2="first_attempt_high:Q")
    points = base.mark_point(filled=True, size=90, color=PALETTE[0]).encode(
        x="first_attempt_rate:Q",
        tooltip=[alt.Tooltip("group:N", title=group_title), alt.Tooltip("trainees:Q", title="Trainees"),
                 _pct_tip("first_attempt_rate", "First attempt"), _pct_tip("first_attempt_low", "95% low"),
                 _pct_tip("first_attempt_high", "95% high"), _pct_tip("rate", "Passed in the end")])
    return alt.layer(bars, points).properties(height=max(140, 30 * len(rates)))


# ------------------------------------------------------------------------------------- Item health

ITEM_STATUSES = ["Probably mislabelled or ambiguous", "Too easy to tell anyone apart", "Not flagged"]
ITEM_COLOURS = [PALETTE[5], PALETTE[2], GREY]


def item_map(items: pd.DataFrame, poor: float) -> alt.TopLevelMixin:
    """Classical item analysis: share right against discrimination per golden-set item (a
    `metrics.tables.item_dots` frame), coloured by status, sized by attempts; the floor `poor` dashed."""
    tips = [alt.Tooltip("item:N", title="Item"), alt.Tooltip("policy:N", title="Policy"),
            alt.Tooltip("status:N", title="Status"), alt.Tooltip("key:N", title="Key"),
            alt.Tooltip("attempts:Q", title="Attempts"), _pct_tip("rate", "Share right"),
            _pct_tip("level", "Policy's other items"), alt.Tooltip("discrimination:Q", title="r", format=".2f")]
    points = alt.Chart(items).mark_circle(opacity=0.8).encode(
        x=alt.X("rate:Q", title="Share answering with the key", axis=alt.Axis(format="%"),
                scale=alt.Scale(domain=[0, 1])),
        y=alt.Y("discrimination:Q", title="Discrimination (corrected item-total r)"),
        color=alt.Color("status:N", title=None, scale=alt.Scale(domain=ITEM_STATUSES, range=ITEM_COLOURS)),
        size=alt.Size("attempts:Q", title="Attempts", scale=alt.Scale(range=[20, 240])), tooltip=tips)
    floor = alt.Chart(pd.DataFrame({"r": [poor]})).mark_rule(strokeDash=[4, 3], color="#555555").encode(
        y="r:Q", tooltip=[alt.Tooltip("r:Q", title="Poor discrimination below", format=".2f")])
    zero = alt.Chart(pd.DataFrame({"r": [0.0]})).mark_rule(color="#999999").encode(y="r:Q")
    return alt.layer(zero, floor, points).properties(height=380)


def item_intervals(items: pd.DataFrame) -> alt.TopLevelMixin:
    """Share right with its 95% interval per item, in the frame's order (a `metrics.tables.item_dots`
    frame), the policy's level on its other items as a black tick."""
    y = alt.Y("item:N", sort=None, title=None)
    colour = alt.Color("status:N", title=None, scale=alt.Scale(domain=ITEM_STATUSES, range=ITEM_COLOURS))
    tips = [alt.Tooltip("item:N", title="Item"), alt.Tooltip("policy:N", title="Policy"),
            alt.Tooltip("status:N", title="Status"), _pct_tip("rate", "Share right"), *_interval_tips(),
            alt.Tooltip("attempts:Q", title="Attempts"), _pct_tip("level", "Policy's other items")]
    bars = alt.Chart(items).mark_rule(strokeWidth=2).encode(
        x=alt.X("low:Q", title="Share answering with the key, 95% interval", axis=alt.Axis(format="%"),
                scale=alt.Scale(domain=[0, 1])), x2="high:Q", y=y, color=colour, tooltip=tips)
    dots = alt.Chart(items).mark_point(filled=True, size=80).encode(x="rate:Q", y=y, color=colour, tooltip=tips)
    level = alt.Chart(items).mark_tick(color="#000000", thickness=2, size=16).encode(x="level:Q", y=y, tooltip=tips)
    return alt.layer(bars, level, dots).properties(height=80 + 28 * len(items))


AUDITOR_STATUSES = ["Stricter than colleagues", "More lenient than colleagues", "Not flagged"]


def auditor_severity(dots: pd.DataFrame) -> alt.TopLevelMixin:
    """Each auditor's fail rate minus colleagues' on the same work, with its 95% interval, in the frame's
    order (columns who, difference, low, high, audits, status); zero is a solid rule."""
    y = alt.Y("who:N", sort=None, title=None)
    colour = alt.Color("status:N", title=None, scale=alt.Scale(domain=AUDITOR_STATUSES,
                                                               range=[PALETTE[5], PALETTE[0], GREY]))
    tips = [alt.Tooltip("who:N", title="Auditor"), alt.Tooltip("status:N", title="Status"),
            alt.Tooltip("difference:Q", title="Difference", format="+.1%"),
            alt.Tooltip("low:Q", title="95% low", format="+.1%"), alt.Tooltip("high:Q", title="95% high", format="+.1%"),
            alt.Tooltip("audits:Q", title="Comparable audits", format=",")]
    bars = alt.Chart(dots).mark_rule(strokeWidth=2).encode(
        x=alt.X("low:Q", title="Fails more (+) or less (−) often than colleagues, points",
                axis=alt.Axis(format="+%")), x2="high:Q", y=y, color=colour, tooltip=tips)
    points = alt.Chart(dots).mark_point(filled=True, size=80).encode(x="difference:Q", y=y, color=colour,
                                                                     tooltip=tips)
    zero = alt.Chart(pd.DataFrame({"x": [0.0]})).mark_rule(color="#000000").encode(x="x:Q")
    return alt.layer(zero, bars, points).properties(height=80 + 22 * len(dots))


def auditor_kappa(dots: pd.DataFrame) -> alt.TopLevelMixin:
    """Each auditor's Cohen's kappa with colleagues on decisions both audited, with its interval (columns
    who, kappa, low, high, shared, agreement), lowest first."""
    y = alt.Y("who:N", sort=None, title=None)
    tips = [alt.Tooltip("who:N", title="Auditor"), alt.Tooltip("kappa:Q", title="κ", format=".2f"),
            alt.Tooltip("low:Q", title="95% low", format=".2f"), alt.Tooltip("high:Q", title="95% high", format=".2f"),
            alt.Tooltip("shared:Q", title="Decisions shared"),
            alt.Tooltip("agreement:Q", title="Same verdict", format=".0%")]
    bars = alt.Chart(dots).mark_rule(strokeWidth=2, color=PALETTE[0]).encode(
        x=alt.X("low:Q", title="Cohen's κ with colleagues, 95% interval", scale=alt.Scale(domain=[-0.2, 1])),
        x2="high:Q", y=y, tooltip=tips)
    points = alt.Chart(dots).mark_point(filled=True, size=80, color=PALETTE[0]).encode(x="kappa:Q", y=y,
                                                                                      tooltip=tips)
    return alt.layer(bars, points).properties(height=80 + 22 * len(dots))
