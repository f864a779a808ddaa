"""Chart builders on tiny frames, without a browser: what each chart encodes, read from its Vega-Lite spec
(as datasette-dashboards tests its chart specs)."""

from __future__ import annotations

import json

import altair as alt
import pandas as pd

from ui import charts


def spec(chart: alt.TopLevelMixin) -> dict:
    return chart.to_dict()


def text(chart: alt.TopLevelMixin) -> str:
    return json.dumps(spec(chart), ensure_ascii=False)


def test_p_chart_marks_weeks_beyond_the_limits_and_the_chosen_week() -> None:
    weeks = pd.date_range("2026-07-06", periods=3, freq="W-MON")
    frame = pd.DataFrame({"week": weeks, "reviewed": [100, 120, 90], "correct": [80, 100, 50], "rate": [0.8, 0.83, 0.56],
                          "center": 0.76, "lcl": [0.63, 0.64, 0.62], "ucl": [0.89, 0.88, 0.9],
                          "beyond": [False, False, True]})
    chart = charts.p_chart(frame, weeks[2].date(), "Quality")
    layers = spec(chart)["layer"]
    assert len(layers) == 5 and '"diamond"' in text(chart) and "beyond control limits" in text(chart)
    assert any(layer.get("encoding", {}).get("y", {}).get("title") == "Quality" for layer in layers)


def test_events_are_dashed_rules_by_kind_with_titles_and_a_legend_to_pick_one() -> None:
    weeks = pd.date_range("2026-07-06", periods=3, freq="W-MON")
    trend = pd.DataFrame({"week": weeks, "rate": [0.7, 0.8, 0.75]})
    base = alt.Chart(trend).mark_line().encode(x="week:T", y="rate:Q")
    assert charts.with_events(base, pd.DataFrame(columns=["date", "kind", "title", "policy", "market"])) is base
    marked = pd.DataFrame({"date": [weeks[1]], "kind": ["policy_update"], "title": ["Slur list v3"],
                           "policy": ["Hate Speech"], "market": [None]})
    chart = charts.with_events(base, marked)
    layers = spec(chart)["layer"]
    assert len(layers) == 2 and layers[1]["mark"]["strokeDash"] == [3, 3]
    assert layers[1]["encoding"]["color"]["scale"]["domain"] == charts.EVENT_KINDS
    assert "Slur list v3" in text(chart) and '"bind": "legend"' in text(chart)
    assert charts.weeks_spanned(trend) == (weeks[0].date(), (weeks[2] + pd.Timedelta(days=6)).date())


def test_timeline_shades_both_windows_and_names_the_groups() -> None:
    frame = pd.DataFrame({"group": ["attended", "comparison"], "offset": [-1, 1], "reviewed": [10, 12],
                          "correct": [7, 9], "rate": [0.7, 0.75], "low": [0.4, 0.45], "high": [0.9, 0.92]})
    chart = charts.training_timeline(frame, window=14, lag=2, step=1, measure="Quality")
    assert '"before"' in text(chart) and '"after"' in text(chart)
    assert "Did not attend" in text(chart) and "Days since the session" in text(chart)


def test_heatmap_selects_a_cell_and_marks_thin_and_flagged_cells() -> None:
    spots = pd.DataFrame({c: [0.5, 0.6] for c in charts.HEAT_COLUMNS})
    spots = spots.assign(market=["TH", "VN"], policy=["Hate Speech", "Hate Speech"], reviewed=[10, 500], testable=[False, True],
                         correct=[5, 300], enough_data=[False, True], flagged=[False, True])
    chart = charts.weak_spot_heatmap(spots, 30)
    t = text(chart)
    assert '"name": "cell"' in t and '"fields": ["market", "policy"]' in t
    assert "n<30" in t and "●" in t and '"scheme": "blueorange"' in t
    assert spec(chart)["height"] == 200 + 40 * 2


def test_cell_trend_draws_the_policy_level_only_when_known() -> None:
    trend = pd.DataFrame({"week": pd.date_range("2026-07-06", periods=2, freq="W-MON"), "reviewed": [10, 11],
                          "correct": [8, 9], "rate": [0.8, 0.82], "low": [0.5, 0.5], "high": [0.95, 0.95]})
    assert len(spec(charts.cell_trend(trend, 0.9))["layer"]) == 3
    assert len(spec(charts.cell_trend(trend, float("nan")))["layer"]) == 2


def test_rater_chart_draws_intervals_only_when_every_item_was_judged() -> None:
    bars = pd.DataFrame({"rater_id": ["A", "B"], "agreement_with_reference": [0.8, 0.5], "matches": [8, 5],
                         "items": [10, 10], "low": [0.5, 0.2], "high": [0.95, 0.8],
                         "kappa_with_reference": [0.6, 0.1]})
    assert len(spec(charts.rater_agreement(bars, with_interval=True))["layer"]) == 3
    assert len(spec(charts.rater_agreement(bars, with_interval=False))["layer"]) == 2


def test_agreement_over_time_highlights_the_chosen_policy() -> None:
    trend = pd.DataFrame({"policy": ["A", "B"], "date": [pd.Timestamp("2026-05-01")] * 2, "session_id": ["S1", "S1"],
                          "alpha": [0.7, 0.4], "alpha_low": [0.6, 0.2], "alpha_high": [0.8, 0.6], "items": [10, 10],
                          "raters": [6, 6], "this_policy": [True, False], "chosen": [True, False]})
    t = text(charts.agreement_over_time(trend))
    assert "datum.this_policy" in t and charts.PALETTE[5] in t and charts.GREY in t and "0.667" in t
    assert "datum.chosen || datum.alpha < 0.667" in t  # the picked session and the poor ones are named


def test_learning_and_proficiency_curves() -> None:
    curves = pd.DataFrame({"cohort": ["2026-03"] * 2, "week": [0, 1], "trainees": [5, 5], "reviewed": [50, 60],
                           "correct": [30, 45], "rate": [0.6, 0.75], "low": [0.45, 0.62], "high": [0.73, 0.85]})
    fitted = pd.DataFrame({"cohort": ["2026-03"] * 2, "model": ["exponential"] * 2, "chosen": [True] * 2,
                           "week": [0.0, 1.0], "fitted": [0.6, 0.74]})
    chart = charts.learning_curves(curves, fitted, 0.9)
    assert len(spec(chart)["layer"]) == 4 and '"strokeDash"' in text(chart)
    picked = text(charts.learning_curves(curves, fitted, 0.9, highlight="2026-03"))
    assert "datum.cohort == '2026-03'" in picked and charts.GREY in picked  # one cohort strong, the rest grey
    assert text(charts.titled(chart, "Cohort 2026-03 levels off near 93%")).count("levels off") == 1
    km = pd.DataFrame({"cohort": ["2026-03"] * 2, "week": [0, 1], "share_reached": [0.0, 0.5], "low": [0.0, 0.2],
                       "high": [0.0, 0.8], "at_risk": [5, 4]})
    assert "step-after" in text(charts.proficiency_curve(km))


def test_trainee_charts() -> None:
    trend = pd.DataFrame({"week": pd.date_range("2026-07-06", periods=2, freq="W-MON"), "tenure_week": [3, 4],
                          "reviewed": [10, 2], "correct": [8, 1], "rate": [0.8, 0.5], "low": [0.5, 0.1], "high": [0.95, 0.9],
                          "cohort_p25": [0.7, None], "cohort_median": [0.8, None], "cohort_p75": [0.9, None],
                          "cohort_trainees": [6, 2]})
    assert len(spec(charts.trainee_trend(trend, "Share correct"))["layer"]) == 5
    strengths = pd.DataFrame({"policy": ["B", "A"], "reviewed": [10, 40], "rate": [0.6, 0.9], "shrunk_rate": [0.7, 0.88],
                              "shrunk_low": [0.5, 0.8], "shrunk_high": [0.85, 0.94], "market_rate": [0.85, 0.9],
                              "gap": [-0.15, -0.02]})
    chart = charts.policy_strengths(strengths, "Share correct")
    assert spec(chart)["height"] == 160 and '"sort": ["B", "A"]' in text(chart)
    dots = pd.DataFrame({"trainee": ["x", "y"], "market": ["TH", "TH"], "rate": [0.7, 0.8], "low": [0.6, 0.7],
                         "high": [0.8, 0.9], "reviews": [60, 70]})
    assert spec(charts.coaching_dots(dots))["height"] == 140


def test_slopes_and_grid() -> None:
    slopes = pd.DataFrame({"who": ["x"], "pre_rate": [0.7], "post_rate": [0.6], "pre_reviews": [10], "post_reviews": [9]})
    assert "'down'" in text(charts.attendee_slopes(slopes, "Quality"))
    grid = pd.DataFrame({"rater_id": ["A", "B"], "item_id": ["i1", "i1"], "label": ["x", "y"], "differs": [False, True]})
    assert "datum.differs" in text(charts.rating_grid(grid))


def test_heatmap_without_any_comparison_has_no_gap_legend() -> None:
    spots = pd.DataFrame({c: [0.5] for c in charts.HEAT_COLUMNS}).assign(
        market=["TH"], policy=["Hate Speech"], reviewed=[100], correct=[50], gap=[float("nan")],
        policy_level=[float("nan")], enough_data=[True], testable=[False], flagged=[False])
    t = text(charts.weak_spot_heatmap(spots, 30))
    assert "+.0%" not in t and "NaN" not in t


def test_event_study_draws_each_weeks_gap_in_points_with_its_interval_and_the_windows() -> None:
    frame = pd.DataFrame({"offset": [-2, -1, 0], "gap": [-0.1, -0.12, 0.01], "low": [-0.2, -0.2, -0.03],
                          "high": [0.0, -0.05, 0.05], "attendee_rate": [0.7, 0.7, 0.9],
                          "comparison_rate": [0.8, 0.82, 0.89], "attendee_reviews": [50, 50, 60],
                          "comparison_reviews": [300, 310, 290]})
    t = text(charts.effect_event_study(frame, window=14, lag=0))
    assert '"earlier"' in t and '"before"' in t and '"after"' in t
    assert "datum.gap * 100" in t and "Attendees minus comparison (points)" in t and "Weeks since the session" in t

# ------------------------------------------------------------------------------------- Item health

def _item_dots() -> pd.DataFrame:
    return pd.DataFrame({"item": ["GAN0007", "GAN0002", "GSS0001"], "policy": ["Adult Nudity"] * 2 + ["Spam"],
                         "key": ["nudity", "non_violating", "scam"],
                         "status": list(charts.ITEM_STATUSES), "attempts": [52, 57, 40], "rate": [0.31, 1.0, 0.8],
                         "low": [0.2, 0.94, 0.65], "high": [0.45, 1.0, 0.9], "level": [0.85, 0.84, 0.86],
                         "discrimination": [-0.23, None, 0.3]})


def test_item_map_plots_share_right_against_discrimination_with_the_floor() -> None:
    chart = charts.item_map(_item_dots(), 0.2)
    layers = spec(chart)["layer"]
    assert len(layers) == 3 and spec(chart)["height"] == 380
    points = layers[2]["encoding"]
    assert (points["x"]["field"], points["y"]["field"], points["size"]["field"]) == ("rate", "discrimination", "attempts")
    assert points["color"]["scale"]["domain"] == charts.ITEM_STATUSES
    assert '"r": 0.2' in text(chart) and "Poor discrimination below" in text(chart)


def test_item_intervals_keep_the_review_order_and_mark_the_policy_level() -> None:
    chart = charts.item_intervals(_item_dots())
    layers = spec(chart)["layer"]
    assert [layer["mark"]["type"] for layer in layers] == ["rule", "tick", "point"]
    assert layers[0]["encoding"]["y"]["sort"] is None and layers[1]["encoding"]["x"]["field"] == "level"
    assert spec(chart)["height"] == 80 + 28 * 3


def test_auditor_severity_draws_intervals_around_zero_coloured_by_status() -> None:
    dots = pd.DataFrame({"who": ["QAID03", "QATH01", "QATH02"], "difference": [0.044, 0.002, -0.071],
                         "low": [0.018, -0.02, -0.096], "high": [0.07, 0.024, -0.047], "audits": [855, 900, 934],
                         "status": ["Stricter than colleagues", "Not flagged", "More lenient than colleagues"]})
    chart = charts.auditor_severity(dots)
    layers = spec(chart)["layer"]
    assert len(layers) == 3 and layers[0]["mark"]["type"] == "rule"  # zero
    assert layers[1]["encoding"]["color"]["scale"]["domain"] == charts.AUDITOR_STATUSES
    assert layers[1]["encoding"]["y"]["sort"] is None and '"format": "+.1%"' in text(chart)


def test_auditor_kappa_draws_each_interval() -> None:
    dots = pd.DataFrame({"who": ["A", "B"], "kappa": [0.54, 0.9], "low": [0.25, 0.8], "high": [0.83, 1.0],
                         "shared": [43, 40], "agreement": [0.84, 0.97]})
    chart = charts.auditor_kappa(dots)
    layers = spec(chart)["layer"]
    assert [layer["mark"]["type"] for layer in layers] == ["rule", "point"]
    assert layers[0]["encoding"]["x2"]["field"] == "high" and spec(chart)["height"] == 80 + 22 * 2
