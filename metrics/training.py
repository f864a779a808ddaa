"""Training effectiveness: did a session (or a group of sessions) change how attendees work?

Attendees' accuracy on the training's policy before and after the session is compared with that of
similar trainees who were not trained (difference-in-differences), and with where each trainee started
(ANCOVA), so that what changed for everyone and regression to the mean are not credited to the training.
Which of the two leads follows how attendees were chosen (the trainings' `audience`, or the evidence of
the weeks before: metrics.selection), into one headline (metrics.headline) that every surface shows.
Feedback ratings (reaction) are listed beside the measured change in work (behaviour). Test scores
(pre/post tests, certifications) are in metrics.assessments.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import duckdb
import numpy as np
import pandas as pd

from metrics import words
from metrics.effects_stats import ancova, batched_ancova_effect
from metrics.filters import ALL, Filters, where
from metrics.headline import EffectHeadline, headline
from metrics.inference import PairedComparison, minimum_detectable_effect, paired_comparison
from metrics.rates import add_rate_columns
from metrics.selection import Audience, PreTrend, choose_estimator, declared_audience, event_study, pre_trend
from metrics.stats import Interval, bootstrap_interval
from metrics.words import MEASURE_NAMES

PolicyScope = Literal["training", "all"]
EffectSource = Literal["golden_set", "qa_audit"]

TRAINING_COLUMNS = [
    "training_id", "date", "kind", "title", "policy", "market", "trainer", "attendees", "no_shows",
    "mean_rating", "ratings",
]


def trainings(con: duckdb.DuckDBPyConnection, filters: Filters = ALL) -> pd.DataFrame:
    """Which sessions were delivered, to how many, and how did attendees rate them?

    Columns: training_id, date, kind, title, policy, market, trainer, attendees (attended), no_shows
    (on the list, did not attend), mean_rating (1-5 feedback), ratings (how many rated). Filters: date
    range, markets, policies and projects of the session; newest first."""
    w = where(filters, alias="tr", trainee_alias=None, source=False)
    sql = f"""
        WITH att AS (
            SELECT training_id, count(*) FILTER (WHERE attended) AS attendees,
                   count(*) FILTER (WHERE NOT attended) AS no_shows
            FROM attendance GROUP BY training_id),
        fb AS (SELECT training_id, avg(rating) AS mean_rating, count(*) AS ratings FROM feedback GROUP BY training_id)
        SELECT tr.training_id, tr.date, tr.kind, tr.title, tr.policy, tr.market, tr.trainer,
               coalesce(att.attendees, 0) AS attendees, coalesce(att.no_shows, 0) AS no_shows,
               fb.mean_rating, coalesce(fb.ratings, 0) AS ratings
        FROM trainings tr LEFT JOIN att USING (training_id) LEFT JOIN fb USING (training_id)
        WHERE {w.sql}
        ORDER BY tr.date DESC, tr.training_id"""
    df = con.execute(sql, w.params).df()
    return df[TRAINING_COLUMNS] if not df.empty else pd.DataFrame(columns=TRAINING_COLUMNS)


# Who is compared with whom, for each of several sets of sessions at once (a set is what one effect is
# measured over: one session on the Overview, the chosen ones on the Training page); `batch` numbers the
# sets from 0 and every rule below holds within a set, as if it were measured alone. Parameters, in
# order: the sets (lists of training ids), window days, lag days, how far before and after each session
# decisions are read (days), and whether they are read on all policies (else on the session's).
# Attendees: attended one of the set's sessions; a trainee at several is counted once, at the first.
# Comparison: trainees in the markets of a session's attendees who attended none of the set's sessions and
# attended no training on the session's policy within that session's windows; a trainee eligible for
# several sessions of the set is counted once, against the first, so every trainee is one unit of the set
# (for the bootstrap). `unit` numbers the units (in one order, so that every reading of the CTE agrees).
_UNITS = """
    p AS (SELECT ?::VARCHAR[][] AS sets, ?::INTEGER AS win, ?::INTEGER AS lag, ?::INTEGER AS reach_before,
                 ?::INTEGER AS reach_after, ?::BOOLEAN AS all_policies, ?::INTEGER AS min_reviews),
    set_ids AS (
        SELECT DISTINCT b.batch, unnest(b.ids) AS training_id
        FROM (SELECT unnest(range(len(p.sets)))::INTEGER AS batch, unnest(p.sets) AS ids FROM p) b),
    sessions AS (
        SELECT s.batch, tr.training_id, tr.date AS session_date, lower(trim(tr.policy)) AS pkey
        FROM trainings tr JOIN set_ids s USING (training_id)),
    att AS (
        SELECT s.batch, a.trainee_id, s.training_id, s.session_date, s.pkey,
               row_number() OVER (PARTITION BY s.batch, a.trainee_id ORDER BY s.session_date, s.training_id) AS rn
        FROM attendance a JOIN sessions s USING (training_id) WHERE a.attended),
    att_markets AS (
        SELECT DISTINCT att.batch, att.training_id, t.market FROM att JOIN trainees t USING (trainee_id)),
    policy_trained AS (
        SELECT a.trainee_id, tr.date, lower(trim(tr.policy)) AS pkey
        FROM attendance a JOIN trainings tr USING (training_id) WHERE a.attended),{screen}
    comparison AS (
        SELECT s.batch, t.trainee_id, s.training_id, s.session_date, s.pkey,
               row_number() OVER (PARTITION BY s.batch, t.trainee_id ORDER BY s.session_date, s.training_id) AS rn
        FROM sessions s JOIN att_markets m USING (batch, training_id) JOIN trainees t ON t.market = m.market, p
        WHERE {screen_trainee}NOT EXISTS (SELECT 1 FROM att x WHERE x.batch = s.batch AND x.trainee_id = t.trainee_id)
          AND NOT EXISTS (
              SELECT 1 FROM policy_trained q
              WHERE q.trainee_id = t.trainee_id AND q.pkey = s.pkey
                AND q.date >= s.session_date - p.win AND q.date < s.session_date + p.lag + p.win)),
    units AS (
        SELECT row_number() OVER (ORDER BY batch, grp, trainee_id) AS unit, * FROM (
            SELECT batch, trainee_id, training_id, session_date, pkey, 'attended' AS grp FROM att WHERE rn = 1
            UNION ALL
            SELECT c.batch, c.trainee_id, c.training_id, c.session_date, c.pkey, 'comparison' AS grp
            FROM comparison c, p WHERE c.rn = 1{screen_unit}))
"""

# Every reader keeps only the comparison units with `min_reviews` in both windows on one source (at 10M
# decisions, 3% of the week's 258k), so when many are measured a unit that cannot reach it is left out
# before its decisions are joined. `maybe` holds the trainees (and policies; NULL: all policies) with
# `min_reviews` on one source both in the span that holds every session's before-window and in the one
# that holds every after-window, counted without the caller's filters. A unit's windows lie inside those
# spans and its filtered counts cannot exceed them, so no unit that meets the rule is left out; the rule
# itself is applied by the readers as before. A trainee in no row of `maybe` can be no usable unit and is
# left out of `comparison` whole; the others' units after each trainee's first session is picked (rn = 1),
# so which session a trainee is compared at does not change.
_SCREEN = """
    span AS (
        SELECT least(min(session_date) - any_value(p.win), min(session_date) + any_value(p.lag)) AS read_from,
               max(session_date) AS pre_to, min(session_date) + any_value(p.lag) AS post_from,
               greatest(max(session_date), max(session_date) + any_value(p.lag + p.win)) AS read_to
        FROM sessions, p),
    maybe_by_policy AS (
        SELECT d.trainee_id, lower(trim(d.policy)) AS pkey, d.source,
               sum(d.reviewed) FILTER (WHERE d.date < s.pre_to) AS pre,
               sum(d.reviewed) FILTER (WHERE d.date >= s.post_from) AS post
        FROM decision_daily d, span s, p
        WHERE d.date >= s.read_from AND d.date < s.read_to
          AND d.trainee_id IN (SELECT trainee_id FROM trainees WHERE market IN (SELECT market FROM att_markets))
          AND (p.all_policies OR (SELECT bool_or(pkey IS NULL) FROM sessions)
               OR lower(trim(d.policy)) IN (SELECT pkey FROM sessions))
        GROUP BY ALL),
    maybe AS (
        SELECT trainee_id, pkey FROM maybe_by_policy, p WHERE pre >= p.min_reviews AND post >= p.min_reviews
        UNION ALL
        SELECT trainee_id, NULL FROM maybe_by_policy, p GROUP BY trainee_id, source
        HAVING sum(pre) >= any_value(p.min_reviews) AND sum(post) >= any_value(p.min_reviews)),"""


def _units_cte(screened: bool) -> str:
    """`_UNITS`, with comparison units that cannot have enough reviews left out when `screened` (see
    `_SCREEN`: it needs min_reviews > 0). Worth it for many sets at once (the Overview's week at 10M
    decisions: 258k comparison units, 14k screened in); for one set, whose units are few, the screen costs
    more than the join it saves."""
    if not screened:
        return _UNITS.format(screen="", screen_trainee="", screen_unit="")
    return _UNITS.format(
        screen=_SCREEN, screen_trainee="t.trainee_id IN (SELECT trainee_id FROM maybe)\n          AND ",
        screen_unit="""
              AND EXISTS (SELECT 1 FROM maybe m WHERE m.trainee_id = c.trainee_id
                          AND m.pkey IS NOT DISTINCT FROM (CASE WHEN p.all_policies THEN NULL ELSE c.pkey END))""")


_SOURCES: tuple[EffectSource, ...] = ("golden_set", "qa_audit")
SOURCE_LABELS = {"qa_audit": "QA audits", "golden_set": "golden set"}
_REVIEWS_OF = {"qa_audit": "QA-audit", "golden_set": "golden-set"}  # "no <...> reviews"


def _unit_rows_cte(where_sql: str) -> str:
    """`unit_rows`: each unit (unit, batch, trainee_id, grp, training_id, session_date) with its decisions' date,
    source, reviewed and correct (NULL for a unit without any), from `reach_before` days before its session
    to `reach_after` days after: one join of decision_daily that the windows' counts and the timelines of
    the same query share. Parameters: `where_sql`'s, twice."""

    # A unit read on its session's policy is joined on trainee and policy, a unit read on all policies (the
    # design's scope, or a session without a policy) on trainee alone: keyed on the policy, the join does not
    # test every decision of a trainee (on every policy) against each of the trainee's units.
    def decisions(on_policy: str, units_read: str) -> str:
        return f"""
            SELECT u.unit, u.batch, u.trainee_id, u.grp, u.training_id, u.session_date, d.date, d.source,
                   d.reviewed, d.correct
            FROM units u JOIN trainees t USING (trainee_id) CROSS JOIN p
            LEFT JOIN (SELECT *, lower(trim(policy)) AS pkey FROM decision_daily) d
              ON d.trainee_id = u.trainee_id {on_policy}
             AND d.date >= u.session_date - p.reach_before AND d.date < u.session_date + p.reach_after
             AND {where_sql}
            WHERE {units_read}"""

    return f"""
        unit_rows AS (
            {decisions("AND d.pkey = u.pkey", "NOT p.all_policies AND u.pkey IS NOT NULL")}
            UNION ALL
            {decisions("", "p.all_policies OR u.pkey IS NULL")})
    """


# The three windows: the usual before (pre) and after (post), and the one before the before-window
# (early), which the pre-trend check reads (metrics.selection). Each is bounded on both sides, so that a
# query reading further around the session (the event study) counts the same windows.
_WINDOWS = (
    ("early", "r.date >= r.session_date - 2 * p.win AND r.date < r.session_date - p.win"),
    ("pre", "r.date >= r.session_date - p.win AND r.date < r.session_date"),
    ("post", "r.date >= r.session_date + p.lag AND r.date < r.session_date + p.lag + p.win"),
)
_COUNTS = (("reviewed", "reviews"), ("correct", "correct"))


def _per_unit_cte(where_sql: str) -> str:
    """`unit_rows`, then `per_unit`: each unit's reviews and correct answers in its three windows, per
    source: columns `<source>_<window>_reviews`, `<source>_<window>_correct`. Who is compared with whom is
    worked out once for both sources."""
    # Source names and windows are the constants above, not user values.
    sums = ", ".join(
        f"coalesce(sum(r.{col}) FILTER (WHERE r.source = '{src}' AND {test}), 0)::BIGINT AS {src}_{when}_{out}"
        for src in _SOURCES for when, test in _WINDOWS for col, out in _COUNTS
    )
    # Grouped by the unit's number, the rest being the same on all its rows: an integer key hashes several
    # times faster than the five columns (measured at 10M decisions, 79 sessions: 0.25 s against 1.3 s).
    return f"""{_unit_rows_cte(where_sql)},
        per_unit AS (
            SELECT any_value(r.batch) AS batch, any_value(r.trainee_id) AS trainee_id, any_value(r.grp) AS "group",
                   any_value(r.training_id) AS training_id, any_value(r.session_date) AS session_date, {sums}
            FROM unit_rows r CROSS JOIN p
            GROUP BY r.unit)
    """


def _effect_filters(filters: Filters) -> tuple[str, list[object]]:
    # The windows set the dates, the training sets the policy, the caller the source: the filter
    # contributes markets, projects and cohorts only.
    w = where(filters, alias="d", trainee_alias="t", dates=False, policies=False, source=False)
    return w.sql, w.params


def _unit_params(sets: Sequence[Sequence[str]], design: EffectDesign, reach_before: int, reach_after: int,
                 wparams: list[object]) -> list[object]:
    """Parameters of `_UNITS` and `_unit_rows_cte`, in order."""
    return [[list(ids) for ids in sets], design.window_days, design.lag_days, reach_before, reach_after,
            design.policy_scope == "all", design.min_reviews, *wparams, *wparams]


UNIT_COUNTS = ["early_reviews", "early_correct", "pre_reviews", "pre_correct", "post_reviews", "post_correct"]
_BEFORE_AFTER = ["pre_reviews", "pre_correct", "post_reviews", "post_correct"]


def _per_unit(
    con: duckdb.DuckDBPyConnection, sets: Sequence[tuple[str, ...]], filters: Filters, design: EffectDesign
) -> list[dict[EffectSource, pd.DataFrame]]:
    """For each set of sessions, the units its effect reads, with their counts in the three windows, per
    source: every attendee, and the comparison trainees with `min_reviews` in both windows on either source
    (no other is counted, and at 10M decisions they are most of the comparison group)."""
    wsql, wparams = _effect_filters(filters)
    enough = " OR ".join(f"({src}_pre_reviews >= ? AND {src}_post_reviews >= ?)" for src in _SOURCES)
    screened = len(sets) > 1 and design.min_reviews > 0
    sql = f"""WITH {_units_cte(screened)}, {_per_unit_cte(wsql)}
        SELECT * FROM per_unit WHERE "group" = 'attended' OR {enough}
        ORDER BY batch, "group", trainee_id"""
    reach = (2 * design.window_days, design.lag_days + design.window_days)
    params = [*_unit_params(sets, design, *reach, wparams), *[design.min_reviews] * (2 * len(_SOURCES))]
    both = con.execute(sql, params).df() if any(sets) else pd.DataFrame({"batch": pd.Series(dtype="int64")})
    keys = ["trainee_id", "group", "training_id", "session_date"]
    per_source = {src: both[keys + [f"{src}_{c}" for c in UNIT_COUNTS]].set_axis(keys + UNIT_COUNTS, axis=1)
                  for src in _SOURCES} if not both.empty else {}
    # Rows come ordered by batch: each set's units are one slice.
    bounds = np.searchsorted(both["batch"].to_numpy(), np.arange(len(sets) + 1))
    return [{src: frame.iloc[lo:hi].reset_index(drop=True) for src, frame in per_source.items()} if hi > lo
            else dict.fromkeys(_SOURCES, empty_units()) for lo, hi in itertools.pairwise(bounds)]


def empty_units() -> pd.DataFrame:
    """A units frame with no rows (the columns `effect_from_units` reads)."""
    return pd.DataFrame({c: pd.Series(dtype="object") for c in ["trainee_id", "group", "training_id", "session_date"]}
                        | {c: pd.Series(dtype="int64") for c in UNIT_COUNTS})


PER_TRAINEE_COLUMNS = [
    "trainee_id", "group", "training_id", "early_reviews", "early_correct", "pre_reviews", "pre_correct",
    "pre_rate", "post_reviews", "post_correct", "post_rate",
]


@dataclass(frozen=True)
class EffectDesign:
    """How a training's effect is measured: the windows, the decisions read, and the bar for enough data.

    Windows: the `window_days` before the session and the `window_days` starting `lag_days` after it (and,
    for the pre-trend check, the `window_days` before the before-window). `policy_scope`: decisions on the
    session's policy, or on all policies. `source`: accuracy (golden set) or quality (QA audits); None
    reads accuracy where attendees have enough golden-set reviews, else quality. A trainee counts with
    >= `min_reviews` reviews in each window; an effect needs `min_trainees` such attendees and as many
    comparison trainees. Intervals: a bootstrap over trainees with `n_boot` resamples, seeded."""

    window_days: int = 14
    lag_days: int = 0
    policy_scope: PolicyScope = "training"
    source: EffectSource | None = None
    min_trainees: int = 10
    min_reviews: int = 5
    n_boot: int = 1000
    seed: int = 0


@dataclass(frozen=True)
class GroupChange:
    """One group's pooled rate (correct / reviewed over its trainees) before and after."""

    trainees: int  # with enough reviews in both windows
    before: float
    after: float
    reviews_before: int
    reviews_after: int

    @property
    def change(self) -> float:
        return self.after - self.before


@dataclass(frozen=True)
class TrainingEffect:
    """What a session did to attendees' accuracy or quality, read several ways, and the one headline every
    surface shows. Effects are in proportion points (0.03 = 3 points), each an Interval at 95%."""

    training_ids: tuple[str, ...]
    design: EffectDesign
    source: EffectSource  # the measure read (the design's, or the one chosen for it)
    enough_data: bool
    did: Interval  # difference-in-differences: attendees' change minus the comparison group's
    naive: Interval  # attendees' after - before alone (ignores what changed for everyone)
    ancova: Interval  # each trainee's after-rate on their before-rate and attendance
    ancova_p: float
    attendees: GroupChange
    comparison: GroupChange
    attendees_listed: int  # attended, before the minimum-review rule
    paired: PairedComparison  # over attendees' per-trainee rates (after - before)
    audience: Audience | None  # how attendees were chosen, as the data declares it (None: not recorded)
    pre_trend: PreTrend  # what the earlier weeks say about it (metrics.selection)
    disagreement: Interval  # did - ancova: the two estimates disagree when it excludes zero
    headline: EffectHeadline  # the figure to lead with, on every surface
    window_open: bool  # the after-window runs past the latest data: the figures may still move
    warnings: tuple[str, ...]
    per_trainee: pd.DataFrame = field(repr=False)


def training_effect(
    con: duckdb.DuckDBPyConnection, training_ids: Sequence[str], filters: Filters = ALL,
    design: EffectDesign = EffectDesign(),
) -> TrainingEffect:
    """Did attending these sessions change accuracy (or quality), beyond what changed for similar
    trainees who did not attend?

    Method. Each attendee's rate (on the session's policy, or all policies) in the window before the
    session and the window after it (see EffectDesign), against a comparison group in the same markets
    who did not attend and were not trained on that policy in those windows (their windows sit on the
    same session date). The estimates are `effect_from_units`'s; the sessions' `audience` (how attendees
    were chosen), when they all record the same one, decides which leads (metrics.selection)."""
    return training_effects(con, [training_ids], filters, design)[0]


def training_effects(
    con: duckdb.DuckDBPyConnection, sets: Sequence[Sequence[str]], filters: Filters = ALL,
    design: EffectDesign = EffectDesign(),
) -> list[TrainingEffect]:
    """`training_effect` of each set of sessions, in order, each measured as if alone (its own attendees and
    comparison group), from one query of the decisions for all of them."""
    chosen = [tuple(dict.fromkeys(str(i) for i in ids)) for ids in sets]
    infos = _sessions_info(con, chosen, design)
    return [_effect_of_set(ids, units, info, design)
            for ids, units, info in zip(chosen, _per_unit(con, chosen, filters, design), infos, strict=True)]


def _effect_of_set(ids: tuple[str, ...], units: dict[EffectSource, pd.DataFrame], info: _SessionsInfo,
                   design: EffectDesign) -> TrainingEffect:
    """The effect of one set of sessions from its units: the design's measure, or accuracy falling back to
    quality."""
    audience, audience_note = declared_audience(info.audiences)
    notes = [*info.warnings, *([audience_note] if audience_note else [])]
    if info.window_open:
        notes.append(f"The after-window runs past the latest data ({info.latest:%d %b %Y}): the figures may move as "
                     "more reviews arrive.")
    sources = (design.source,) if design.source else _SOURCES
    effects = [effect_from_units(units[src], design, source=src, audience=audience, training_ids=ids, notes=notes,
                                 window_open=info.window_open, measure_reason=_measure_reason(design, src, units))
               for src in sources[:1]]
    if design.source is None and not effects[0].enough_data:
        effects.append(effect_from_units(units["qa_audit"], design, source="qa_audit", audience=audience,
                                         training_ids=ids, notes=notes, window_open=info.window_open,
                                         measure_reason=_measure_reason(design, "qa_audit", units)))
    enough = [e for e in effects if e.enough_data]
    # Neither measure has enough: show the one that has more attendees to show (quality on a tie).
    return enough[0] if enough else max(reversed(effects), key=lambda e: e.attendees.trainees)


def _measure_reason(design: EffectDesign, source: EffectSource, units: dict[EffectSource, pd.DataFrame]) -> str:
    """Why this measure is read, in words."""
    name = f"{MEASURE_NAMES[source]} ({SOURCE_LABELS[source]})"
    if design.source is not None:
        return f"{name}, as chosen"
    if source == "golden_set":
        return f"{name}: these attendees have enough golden-set reviews"
    golden = _attendees(units["golden_set"], design.min_reviews)
    kept = golden.kept
    if golden.reviews == 0:
        return f"{name}: there are no golden-set reviews of these attendees around the session"
    who = "no attendee has" if kept == 0 else f"only {words.count(kept, 'attendee')} {'has' if kept == 1 else 'have'}"
    return f"{name}: {who} {design.min_reviews} or more golden-set reviews before and after, too few for accuracy"


@dataclass(frozen=True)
class _SessionsInfo:
    warnings: list[str]
    audiences: list[str | None]
    window_open: bool
    latest: dt.date | None


def _sessions_info(
    con: duckdb.DuckDBPyConnection, sets: Sequence[tuple[str, ...]], design: EffectDesign
) -> list[_SessionsInfo]:
    """For each set of sessions: their problems, declared audiences, and whether an after-window is still open."""
    row = con.execute("SELECT max(date) FROM decision_daily").fetchone()
    latest = row[0] if row else None
    rows = con.execute(
        "SELECT training_id, policy, audience, date FROM trainings WHERE list_contains(?::VARCHAR[], training_id)",
        [sorted({i for ids in sets for i in ids})],
    ).fetchall()
    return [_set_info([r for r in rows if r[0] in ids], bool(ids), latest, design) for ids in sets]


def _set_info(rows: list[tuple[str, str | None, str | None, dt.date]], chosen: bool, latest: dt.date | None,
              design: EffectDesign) -> _SessionsInfo:
    """One set's `_SessionsInfo` from its sessions' rows (training_id, policy, audience, date)."""
    if not chosen:
        return _SessionsInfo(["No session chosen."], [], False, latest)
    if not rows:
        return _SessionsInfo(["None of the chosen sessions is in the data: pick a session from the list."], [], False,
                             latest)
    last_day = max(d for *_, d in rows) + dt.timedelta(days=design.lag_days + design.window_days - 1)
    warns = []
    if design.policy_scope == "training" and any(policy is None for _, policy, *_ in rows):
        warns.append("A chosen session has no policy: its attendees' work on all policies is used.")
    return _SessionsInfo(warns, [audience for _, _, audience, _ in rows], latest is not None and last_day > latest,
                         latest)


def _kept(units: pd.DataFrame, min_reviews: int) -> pd.DataFrame:
    """Units with enough reviews in both windows, with their rates (PER_TRAINEE_COLUMNS)."""
    # On numpy arrays, not pandas operations: the Overview runs this for every session of the week, on frames
    # of a few dozen rows, where each pandas operation costs more than the arithmetic.
    ok = (units["pre_reviews"].to_numpy() >= min_reviews) & (units["post_reviews"].to_numpy() >= min_reviews)
    per: dict[str, object] = {c: units[c].array[ok] for c in ["trainee_id", "group", "training_id"]}
    per |= {c: units[c].to_numpy("int64")[ok] for c in UNIT_COUNTS}
    per["pre_rate"] = per["pre_correct"] / per["pre_reviews"]  # type: ignore[operator]
    per["post_rate"] = per["post_correct"] / per["post_reviews"]  # type: ignore[operator]
    return pd.DataFrame({c: per[c] for c in PER_TRAINEE_COLUMNS})


@dataclass(frozen=True)
class _Attendees:
    listed: int  # attended (units of the group 'attended')
    kept: int  # of whom with enough reviews in both windows
    reviews: int  # their reviews before and after, all of them


def _attendees(units: pd.DataFrame, min_reviews: int) -> _Attendees:
    """The attendees among the units: how many, how many with enough reviews, and their reviews."""
    attended = units["group"].to_numpy() == "attended"
    pre, post = units["pre_reviews"].to_numpy()[attended], units["post_reviews"].to_numpy()[attended]
    return _Attendees(int(attended.sum()), int(((pre >= min_reviews) & (post >= min_reviews)).sum()),
                      int(pre.sum() + post.sum()))


def _counts(per: pd.DataFrame) -> np.ndarray:
    """The _BEFORE_AFTER columns of per-trainee rows as one integer array."""
    # Column by column: selecting a list of columns from a frame costs more than the arithmetic here.
    return np.column_stack([per[c].to_numpy("int64") for c in _BEFORE_AFTER]).reshape(len(per), len(_BEFORE_AFTER))


def _group_change(counts: np.ndarray) -> GroupChange:
    """A group's pooled rates from its trainees' counts (one row per trainee, columns _BEFORE_AFTER)."""
    sums = {c: int(total) for c, total in zip(_BEFORE_AFTER, counts.sum(axis=0), strict=True)}

    def rate(correct: str, reviewed: str) -> float:
        return sums[correct] / sums[reviewed] if sums[reviewed] > 0 else math.nan

    return GroupChange(len(counts), rate("pre_correct", "pre_reviews"), rate("post_correct", "post_reviews"),
                       sums["pre_reviews"], sums["post_reviews"])


def _coverage(attendees: _Attendees, n_a: int, n_c: int, design: EffectDesign, source: EffectSource) -> str:
    """Why there is not enough data, as a clause ('' when there is): a measure without data is named as such."""
    measure = MEASURE_NAMES[source]
    m, need = design.min_reviews, design.min_trainees
    if attendees.reviews == 0:
        return (f"{measure} has no data here: there are no {_REVIEWS_OF[source]} reviews of these attendees "
                "before or after the session")
    if n_a < need:
        return (f"only {n_a} of {attendees.listed} attendees have {m} or more {measure} reviews both before and after "
                f"(needs {need})")
    if n_c < need:
        return (f"only {n_c} comparable colleagues (same markets, not trained on this policy then) have {m} or more "
                f"{measure} reviews both before and after (needs {need}), so the attendees' change cannot be told "
                "apart from what changed for everyone")
    return ""


def effect_from_units(
    units: pd.DataFrame, design: EffectDesign, *, source: EffectSource, audience: Audience | None = None,
    training_ids: tuple[str, ...] = (), notes: Sequence[str] = (), window_open: bool = False,
    measure_reason: str = "",
) -> TrainingEffect:
    """The effect from per-unit counts (columns trainee_id, group 'attended'/'comparison', training_id and
    UNIT_COUNTS), with no database: `training_effect` calls it on the store's units and
    benchmarks/validate_effects.py on simulated ones.

    - did: difference-in-differences of pooled rates; interval from a bootstrap over trainees (attendees
      and comparison resampled separately, so a trainee's reviews move together).
    - naive: attendees' after - before, same bootstrap (attendees only).
    - paired: tests over attendees' per-trainee rates (paired t-test with d_z, Wilcoxon signed-rank).
    - ancova: OLS of each trainee's after-rate on their before-rate and an attended indicator, unweighted
      (one row per trainee); interval from the same bootstrap, p-value from the OLS t-test.
    - pre_trend, and the headline: which estimate leads, from `audience` or the earlier weeks
      (metrics.selection.choose_estimator), with its verdict and the smallest effect this design detects.
    Fewer than `min_trainees` attendees or comparison trainees: enough_data is False, effects are nan and
    the headline says why (rates and counts are still given)."""
    per = _kept(units, design.min_reviews)
    group = per["group"].to_numpy()
    in_a, in_c = group == "attended", group == "comparison"
    n_a, n_c = int(in_a.sum()), int(in_c.sum())
    counts = _counts(per)
    attendees = _attendees(units, design.min_reviews)
    short = (_coverage(attendees, n_a, n_c, design, source) if training_ids or not units.empty
             else "no session chosen")
    enough = not short
    # The groups' frames only where they are read: the Overview measures every session of the week, most
    # with too few attendees, and selecting rows of a frame costs more than the rest of such a session.
    if n_a >= design.min_trainees:
        a, c = per[in_a], per[in_c]
        estimates = _estimate(a, c, design, with_comparison=enough)
        mde = _mde(a, c) if enough else math.nan
    else:
        estimates, mde = _Estimates.none(), math.nan
    choice = choose_estimator(audience, estimates.pre_trend, estimates.disagreement) if enough else None
    head = headline(
        measure=MEASURE_NAMES[source], measure_reason=measure_reason, enough_data=enough,
        not_enough=short, choice=choice, did=estimates.did,
        ancova=estimates.ancova, n_attendees=n_a, n_comparison=n_c,
        reviews=int(per["pre_reviews"].to_numpy().sum() + per["post_reviews"].to_numpy().sum()),
        mde=mde, caveats=tuple(notes),
    )
    warns = [*([short[0].upper() + short[1:] + "."] if short else []), *head.caveats]
    return TrainingEffect(
        training_ids=training_ids, design=design, source=source, enough_data=enough,
        did=estimates.did, naive=estimates.naive, ancova=estimates.ancova, ancova_p=estimates.ancova_p,
        attendees=_group_change(counts[in_a]), comparison=_group_change(counts[in_c]),
        attendees_listed=attendees.listed, paired=estimates.paired, audience=audience,
        pre_trend=estimates.pre_trend, disagreement=estimates.disagreement, headline=head, window_open=window_open,
        warnings=tuple(dict.fromkeys(warns)), per_trainee=per,
    )


def _mde(a: pd.DataFrame, c: pd.DataFrame) -> float:
    """The smallest difference-in-differences this design detects (80% power, 5% two-sided): reviews per
    trainee as the mean harmonic mean of each trainee's before and after counts; the between-trainee SD of
    true changes estimated as the within-group variance of per-trainee changes less their mean binomial
    variance (floored at 0)."""
    per = pd.concat([a, c])
    harmonic = 2 / (1 / per["pre_reviews"] + 1 / per["post_reviews"])
    baseline = float(per["pre_correct"].sum() / per["pre_reviews"].sum())
    change = per["post_rate"] - per["pre_rate"]
    within = change - change.groupby(per["group"]).transform("mean")
    binomial = baseline * (1 - baseline) * (1 / per["pre_reviews"] + 1 / per["post_reviews"])
    between = max(0.0, float((within**2).sum() / max(len(per) - 2, 1) - binomial.mean()))
    return minimum_detectable_effect(len(a), len(c), float(harmonic.mean()), baseline,
                                     between_sd=math.sqrt(between)).effect


@dataclass(frozen=True)
class _Estimates:
    did: Interval
    naive: Interval
    ancova: Interval
    ancova_p: float
    paired: PairedComparison
    disagreement: Interval
    pre_trend: PreTrend

    @classmethod
    def none(cls, paired: PairedComparison | None = None, naive: Interval | None = None) -> _Estimates:
        return cls(Interval.missing(), naive or Interval.missing(), Interval.missing(), math.nan,
                   paired or paired_comparison(np.array([]), np.array([])), Interval.missing(),
                   PreTrend.unchecked(0, 0, "there is not enough data for an effect"))


def _draw_counts(idx: np.ndarray, n: int) -> np.ndarray:
    """Resamples x items: how often each item is drawn in each resample (rows of `idx` index the items)."""
    flat = (np.arange(idx.shape[0])[:, None] * n + idx).ravel()
    return np.bincount(flat, minlength=idx.shape[0] * n).reshape(idx.shape[0], n).astype(float)


def _resampled_gains(frame: pd.DataFrame, weights: np.ndarray) -> np.ndarray:
    """Pooled after - before rate of each bootstrap resample (`weights`: resamples x the frame's trainees)."""
    sums = weights @ frame[_BEFORE_AFTER].to_numpy(float)  # (n_boot, 4)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(sums[:, 3] / sums[:, 2] - sums[:, 1] / sums[:, 0], float)


def _estimate(a: pd.DataFrame, c: pd.DataFrame, design: EffectDesign, *, with_comparison: bool) -> _Estimates:
    """The effect estimates from the attendees' (and, with enough of them, the comparison trainees')
    per-trainee counts; one seeded bootstrap over trainees gives every interval."""
    rng = np.random.default_rng(design.seed)
    idx_a = rng.integers(0, len(a), size=(design.n_boot, len(a)))
    w_a = _draw_counts(idx_a, len(a))
    gain_a = _resampled_gains(a, w_a)
    ga, gc = _group_change(_counts(a)), _group_change(_counts(c))
    naive = bootstrap_interval(ga.change, gain_a)
    paired = paired_comparison(a["pre_rate"].to_numpy(float), a["post_rate"].to_numpy(float))
    if not with_comparison:
        return _Estimates.none(paired, naive)
    idx_c = rng.integers(0, len(c), size=(design.n_boot, len(c)))
    w_c = _draw_counts(idx_c, len(c))
    did_boot = gain_a - _resampled_gains(c, w_c)
    did = bootstrap_interval(ga.change - gc.change, did_boot)
    pre = np.concatenate([a["pre_rate"].to_numpy(float), c["pre_rate"].to_numpy(float)])
    post = np.concatenate([a["post_rate"].to_numpy(float), c["post_rate"].to_numpy(float)])
    treated = np.concatenate([np.ones(len(a)), np.zeros(len(c))])
    fit = ancova(pre, post, treated)
    idx = np.concatenate([idx_a, idx_c + len(a)], axis=1)
    ancova_boot = batched_ancova_effect(pre[idx], post[idx], np.broadcast_to(treated, idx.shape))
    ancova_effect = bootstrap_interval(float(fit.coef[2]), ancova_boot)
    gap = did.estimate - ancova_effect.estimate
    check = pre_trend(a, c, weights_a=w_a, weights_c=w_c, did_minus_ancova=gap,
                      did_minus_ancova_boot=did_boot - ancova_boot, min_reviews=design.min_reviews,
                      min_trainees=design.min_trainees)
    return _Estimates(did, naive, ancova_effect, fit.p_value(2), paired,
                      bootstrap_interval(gap, did_boot - ancova_boot), check)


def effect_candidates(sessions: pd.DataFrame, latest: dt.date | None, design: EffectDesign = EffectDesign(),
                      limit: int = 5) -> list[str]:
    """The sessions worth trying first for a result at once (a `trainings` frame): not onboarding (a new
    class has no 'before'), at least `min_trainees` attendees, after-window passed by `latest`; newest first,
    at most `limit` (then screened by `with_enough_attendees` and measured, to find one that can be)."""
    if sessions.empty or latest is None:
        return []
    last_day = pd.to_datetime(sessions["date"]) + pd.Timedelta(days=design.lag_days + design.window_days - 1)
    done = sessions[(sessions["kind"] != "onboarding") & (sessions["attendees"] >= design.min_trainees)
                    & (last_day <= pd.Timestamp(latest))]
    return [str(i) for i in done.sort_values(["date", "training_id"], ascending=False)["training_id"].head(limit)]


def with_enough_attendees(
    con: duckdb.DuckDBPyConnection, training_ids: Sequence[str], filters: Filters = ALL,
    design: EffectDesign = EffectDesign(),
) -> list[str]:
    """Which of these sessions, each on its own, have `min_trainees` attendees with `min_reviews` reviews in
    both windows on one measure (the design's, or either)? A cheap screen, one query for all, before the
    full `training_effect` (which also needs the comparison group); the order of `training_ids` is kept."""
    ids = [str(i) for i in dict.fromkeys(training_ids)]
    if not ids:
        return []
    wsql, wparams = _effect_filters(filters)
    sources = [design.source] if design.source else list(_SOURCES)
    sql = f"""
        WITH p AS (SELECT ?::INTEGER AS win, ?::INTEGER AS lag),
        att AS (
            SELECT a.trainee_id, tr.training_id, tr.date AS session_date, lower(trim(tr.policy)) AS pkey
            FROM attendance a JOIN trainings tr USING (training_id)
            WHERE a.attended AND list_contains(?::VARCHAR[], tr.training_id)),
        counts AS (
            SELECT u.training_id, u.trainee_id, d.source,
                   sum(d.reviewed) FILTER (WHERE d.date < u.session_date) AS pre,
                   sum(d.reviewed) FILTER (WHERE d.date >= u.session_date + p.lag) AS post
            FROM att u JOIN trainees t USING (trainee_id) CROSS JOIN p
            JOIN decision_daily d
              ON d.trainee_id = u.trainee_id AND (? OR u.pkey IS NULL OR lower(trim(d.policy)) = u.pkey)
             AND d.date >= u.session_date - p.win AND d.date < u.session_date + p.lag + p.win AND {wsql}
            WHERE list_contains(?::VARCHAR[], CAST(d.source AS VARCHAR))
            GROUP BY ALL)
        SELECT training_id FROM counts WHERE pre >= ? AND post >= ?
        GROUP BY training_id, source HAVING count(*) >= ?"""
    params = [design.window_days, design.lag_days, ids, design.policy_scope == "all", *wparams, sources,
              design.min_reviews, design.min_reviews, design.min_trainees]
    enough = {str(r[0]) for r in con.execute(sql, params).fetchall()}
    return [i for i in ids if i in enough]


EVENT_WEEKS = 4  # at least this many weeks before and after the session in the event study


def effect_event_study(
    con: duckdb.DuckDBPyConnection, training_ids: Sequence[str], filters: Filters = ALL,
    design: EffectDesign = EffectDesign(), *, source: EffectSource = "qa_audit",
) -> pd.DataFrame:
    """Week by week around the session, how far were attendees above or below the comparison group?
    metrics.selection.event_study over the trainees `training_effect` counts with this design and
    `source`, from max(4, the two windows before) weeks before to max(4, lag + window) weeks after."""
    ids = [str(i) for i in dict.fromkeys(training_ids)]
    if not ids:
        return event_study(pd.DataFrame(columns=["trainee_id", "offset", "reviewed", "correct"]),
                           pd.DataFrame(columns=["trainee_id", "group"]), min_reviews=design.min_reviews)
    assert source in _SOURCES
    before = 7 * max(EVENT_WEEKS, math.ceil(2 * design.window_days / 7))
    after = 7 * max(EVENT_WEEKS, math.ceil((design.lag_days + design.window_days) / 7))
    wsql, wparams = _effect_filters(filters)
    # One query, one join of the decisions: the units the effect keeps (offset NULL, in one order: the
    # seeded bootstrap then draws the same trainees run after run), then their weeks.
    sql = f"""WITH {_units_cte(False)}, {_per_unit_cte(wsql)},
        kept AS (SELECT trainee_id, "group" FROM per_unit
                 WHERE {source}_pre_reviews >= ? AND {source}_post_reviews >= ?)
        SELECT trainee_id, "group", NULL::INTEGER AS "offset", NULL::BIGINT AS reviewed, NULL::BIGINT AS correct
        FROM kept
        UNION ALL
        SELECT r.trainee_id, NULL, floor(datediff('day', r.session_date, r.date) / 7)::INTEGER,
               sum(r.reviewed)::BIGINT, sum(r.correct)::BIGINT
        FROM unit_rows r
        WHERE r.date IS NOT NULL AND r.source = ? AND r.trainee_id IN (SELECT trainee_id FROM kept)
        GROUP BY r.trainee_id, 3
        ORDER BY "offset" NULLS FIRST, "group", trainee_id"""
    params = [*_unit_params([ids], design, before, after, wparams), design.min_reviews, design.min_reviews, source]
    both = con.execute(sql, params).df()
    units = both["offset"].isna().to_numpy()
    kept = both.loc[units, ["trainee_id", "group"]].reset_index(drop=True)
    weekly = both.loc[~units, ["trainee_id", "offset", "reviewed", "correct"]].astype(
        {"offset": "int64", "reviewed": "int64", "correct": "int64"}).reset_index(drop=True)
    return event_study(weekly, kept, min_reviews=design.min_reviews, n_boot=design.n_boot, seed=design.seed)


TIMELINE_COLUMNS = ["group", "offset", "reviewed", "correct", "rate", "low", "high"]


def timeline(
    con: duckdb.DuckDBPyConnection,
    training_ids: Sequence[str],
    filters: Filters = ALL,
    design: EffectDesign = EffectDesign(),
    *,
    source: EffectSource = "golden_set",
    freq: Literal["day", "week"] = "week",
) -> pd.DataFrame:
    """How did attendees' and the comparison group's rate move, day by day or week by week, around the
    session? For the chart with the pre and post windows shaded.

    Same trainees as `training_effect` with this design and `source` (those with >= min_reviews reviews in
    both windows). Columns: group ('attended'/'comparison'), offset (days, or weeks = floor(days / 7),
    since each trainee's session; negative = before), reviewed, correct, rate, Wilson low/high."""
    ids = [str(i) for i in dict.fromkeys(training_ids)]
    if not ids:
        return pd.DataFrame(columns=TIMELINE_COLUMNS)
    assert source in _SOURCES
    wsql, wparams = _effect_filters(filters)
    step = 1 if freq == "day" else 7
    sql = f"""
        WITH {_units_cte(False)}, {_per_unit_cte(wsql)},
        kept AS (SELECT trainee_id FROM per_unit WHERE {source}_pre_reviews >= ? AND {source}_post_reviews >= ?)
        SELECT r.grp AS "group", floor(datediff('day', r.session_date, r.date) / ?)::INTEGER AS "offset",
               sum(r.reviewed)::BIGINT AS reviewed, sum(r.correct)::BIGINT AS correct
        FROM unit_rows r
        WHERE r.trainee_id IN (SELECT trainee_id FROM kept) AND r.date IS NOT NULL AND r.source = ?
        GROUP BY ALL ORDER BY 1, 2"""
    # The two windows only: the weeks before them are the event study's (effect_event_study), with intervals.
    reach = (design.window_days, design.lag_days + design.window_days)
    params = [*_unit_params([ids], design, *reach, wparams), design.min_reviews, design.min_reviews, step, source]
    df = con.execute(sql, params).df()
    if df.empty:
        return pd.DataFrame(columns=TIMELINE_COLUMNS)
    return add_rate_columns(df)[TIMELINE_COLUMNS]


EVENT_COLUMNS = ["date", "kind", "title", "policy", "market"]


def events(
    con: duckdb.DuckDBPyConnection, filters: Filters, *, trainee_id: str | None = None
) -> pd.DataFrame:
    """The trainings and policy updates to mark on a time chart: sessions in the filters' dates whose market
    and policy fit the filters (a session without one fits all). For one trainee, the sessions they
    attended and the policy updates for their market (announced to all). Columns: date, kind, title, policy,
    market."""
    w = where(filters.with_(markets=(), policies=(), projects=(), cohorts=()), alias="tr", trainee_alias=None,
              source=False)
    markets, policies = list(filters.markets), list(filters.policies)
    person = ("AND (tr.training_id IN (SELECT training_id FROM attendance WHERE trainee_id = ? AND attended) "
              "OR tr.kind = 'policy_update' AND (tr.market IS NULL OR "
              "tr.market = (SELECT market FROM trainees WHERE trainee_id = ?)))") if trainee_id else ""
    sql = f"""
        SELECT tr.date, tr.kind, tr.title, tr.policy, tr.market FROM trainings tr
        WHERE {w.sql}
          AND (tr.market IS NULL OR len(?::VARCHAR[]) = 0 OR list_contains(?::VARCHAR[], tr.market))
          AND (tr.policy IS NULL OR len(?::VARCHAR[]) = 0 OR list_contains(?::VARCHAR[], tr.policy))
          {person}
        ORDER BY tr.date, tr.kind, tr.title"""
    params = [*w.params, markets, markets, policies, policies, *([trainee_id, trainee_id] if trainee_id else [])]
    df = con.execute(sql, params).df()
    return df[EVENT_COLUMNS] if not df.empty else pd.DataFrame(columns=EVENT_COLUMNS)
