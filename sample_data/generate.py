"""The deterministic sample-data generator: an APAC content-moderation operation, March to October 2026.

One builder serves the demo, the tests and the benchmarks. `build()` returns one pandas frame per dataset
of the data contract; `write_exports()` writes them as the CSVs a training team would bring. The same seed
always gives the same data, at any size: decisions are simulated in fixed blocks of trainees, each with
its own random stream, so the bundled 40k decisions and a 10M-decision benchmark tell the same story.

What is simulated and which effects are planted: `sample_data/README.md` and `sample_data/planted.py`.

    python -m sample_data.generate [--out DIR] [--seed N] [--decisions N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import pathlib
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from data_sources.contract import DATASETS
from sample_data import planted as P
from sample_data.names import names_for_market

DATASET_NAMES = ("trainees", "trainings", "attendance", "decisions", "assessments", "calibration", "feedback")
EXPORTS_DIR = pathlib.Path(__file__).parent / "exports"

# --- The calendar: days are counted from DATA_START (a Sunday); weeks start on Mondays. -----------------
END_DAY = (P.DATA_END - P.DATA_START).days
FIRST_MONDAY = 1
N_WEEKS = (END_DAY - FIRST_MONDAY) // 7 + 1
_EPOCH_OFFSET = (P.DATA_START - dt.date(1970, 1, 1)).days

# --- The operation -------------------------------------------------------------------------------------
DEFAULT_TRAINEES = 300
# Trainees grow slower than decisions: bigger runs also mean more audits per person (2-4x at 10M).
TRAINEE_SCALE_EXPONENT = 0.78
BLOCK_TRAINEES = 2048  # decisions are simulated this many trainees at a time (memory, determinism)
COHORT_SHARES = (64, 50, 44, 40, 36, 28, 22, 16)  # a launch class, then steady monthly hiring
MARKET_SHARES = (0.25, 0.20, 0.13, 0.13, 0.09, 0.08, 0.07, 0.05)  # in P.MARKETS order
SECOND_MONDAY_MARKETS = ("MY", "JP", "KR", "SG")  # their classes start a week later than the others
# TH and ID paused hiring in August, so around the September refresher nobody there is in their first
# weeks of production, whose steep learning would blur the before/after comparison.
HIRING_PAUSES = (("2026-08", "TH"), ("2026-08", "ID"))
CLASS_SIZE = 24
ONBOARDING_DAYS = 14  # classroom, then production ("nesting") from the third week
EXIT_SHARE = 0.04
PROJECTS = ("Short Video", "Live", "Ads")
PROJECT_CODES = ("SV", "LV", "AD")
PROJECT_SHARES = (0.55, 0.30, 0.15)
TEAM_SIZE = 12
SITES = {
    "ID": (("Jakarta",), (1.0,)), "TH": (("Bangkok",), (1.0,)),
    "VN": (("Ho Chi Minh City", "Hanoi"), (0.6, 0.4)), "PH": (("Manila", "Cebu"), (0.65, 0.35)),
    "MY": (("Kuala Lumpur",), (1.0,)), "JP": (("Tokyo",), (1.0,)), "KR": (("Seoul",), (1.0,)),
    "SG": (("Singapore",), (1.0,)),
}
LANGUAGES = {"ID": "Indonesian", "TH": "Thai", "VN": "Vietnamese", "PH": "Filipino", "MY": "Malay",
             "JP": "Japanese", "KR": "Korean", "SG": "English"}
TRAINERS = {
    "ID": ("Rina Hartono", "Dimas Prakoso"), "TH": ("Ploy Chaiyasit", "Krit Boonyarat"),
    "VN": ("Trần Minh Khoa", "Lê Thu Hà"), "PH": ("Carla Mendoza", "Paolo Reyes"),
    "MY": ("Farah Aziz", "Jason Lee"), "JP": ("森 健二", "Yuko Ishida"), "KR": ("Park Ji-woo", "한소연"),
    "SG": ("Rachel Ong", "Daniel Koh"),
}
POLICY_TRAINER = "Mei Lin Tan"  # the APAC policy team's trainer, who runs policy briefings

# --- Accuracy model (probability of a correct decision) ------------------------------------------------
START_ACCURACY = 0.66  # in the first production week
ASYMPTOTE = 0.935
ABILITY_SD = 0.03  # per trainee, shifts the whole curve
START_SD = 0.03
TRAINEE_POLICY_SD = 0.02  # some people are better at some policies
TRAINEE_WEEK_SD = 0.02  # good weeks and bad weeks
GLOBAL_WEEK_SD = 0.005  # weeks with harder content for everyone
LEARNING_SPREAD = 0.25  # log-sd of each trainee's learning time constant around the cohort's
DRIFT_PP = 1.0  # everyone gets a little better over the eight months (guidelines mature)
P_MIN, P_MAX = 0.30, 0.995
# Harder policies have lower accuracy; Hate Speech changed in June and is by far the hardest.
POLICY_DIFFICULTY_PP = (-9.0, -3.0, 3.0, -1.0, -4.0, 2.0, 2.0, -2.0, 3.0)
# Each project's queue mix over P.POLICIES; trainees vary around it.
POLICY_MIX = {
    "Short Video": (0.14, 0.14, 0.10, 0.10, 0.12, 0.08, 0.14, 0.06, 0.12),
    "Live": (0.14, 0.18, 0.08, 0.10, 0.14, 0.04, 0.18, 0.06, 0.08),
    "Ads": (0.08, 0.04, 0.04, 0.04, 0.08, 0.04, 0.20, 0.12, 0.36),
}
MIX_CONCENTRATION = 30.0

# --- Review volume: nesting trainees are audited heavily, tenured staff sampled. ------------------------
NESTING_PER_WEEK = 10.5  # a quota of 10-11 a week: a rolling two-week window always has >= 20 reviews
TENURED_FROM_WEEK = 11  # nesting (production weeks 1-9) ends; sampled QA from here on
TENURED_PER_WEEK = 1.2
GOLDEN_SHARE = 0.3  # of the routine reviews; audit drives are all QA audits
BLANK_MARKET_SHARE = 0.05  # the importer fills these from the roster
BLANK_PROJECT_SHARE = 0.03
GOLDEN_BANK_PER_POLICY = 200

# --- Labels ---------------------------------------------------------------------------------------------
POLICY_CODES = ("HS", "BH", "CS", "SH", "VG", "AH", "AN", "DO", "SS")
# Removal under a policy is labelled with that policy, so a "wrong policy" error shows in the labels.
VIOLATION_LABELS = ("hate_speech", "bullying", "child_safety", "self_harm", "graphic_violence", "animal_harm",
                    "nudity", "dangerous_org", "scam")
GENERIC_LABELS = ("non_violating", "age_restricted", "needs_escalation")
LABELS = GENERIC_LABELS + VIOLATION_LABELS  # label code = index here; violations start at 3
# Share of items per expected outcome, by policy: (violating, non_violating, age_restricted, escalate).
LABEL_PRIOR = (
    (0.50, 0.38, 0.06, 0.06), (0.50, 0.40, 0.05, 0.05), (0.45, 0.35, 0.05, 0.15), (0.40, 0.35, 0.10, 0.15),
    (0.45, 0.30, 0.20, 0.05), (0.45, 0.35, 0.15, 0.05), (0.45, 0.30, 0.22, 0.03), (0.50, 0.35, 0.03, 0.12),
    (0.60, 0.37, 0.00, 0.03),
)
# The policy a "wrong policy" error lands on.
RELATED_POLICY = (1, 0, 6, 4, 7, 4, 2, 0, 6)
ERROR_TYPES = ("missed violation", "over-enforcement", "wrong policy", "wrong action")

_HS = P.POLICIES.index(P.REFRESHER_POLICY)
_VG = P.POLICIES.index(P.REMEDIAL_POLICY)


def _day(d: dt.date) -> int:
    return (d - P.DATA_START).days


def _first_monday(year: int, month: int) -> int:
    d = dt.date(year, month, 1)
    return _day(d + dt.timedelta(days=(7 - d.weekday()) % 7))


def _apportion(total: int, weights: Sequence[float]) -> np.ndarray:
    """Split `total` into integer parts proportional to `weights` (largest remainder)."""
    w = np.asarray(weights, dtype=float)
    exact = total * w / w.sum()
    parts = np.floor(exact).astype(np.int64)
    short = total - int(parts.sum())
    parts[np.argsort(-(exact - parts), kind="stable")[:short]] += 1
    return parts


def _stochastic_round(rng: np.random.Generator, x: np.ndarray) -> np.ndarray:
    """Round to an integer up or down with probability given by the fraction: unbiased, low variance
    (a QA quota of 11 a week stays 11, where Poisson would give 7 one week and 15 the next)."""
    base = np.floor(x)
    return (base + (rng.random(x.shape) < x - base)).astype(np.int64)


def trainee_count(decisions: int) -> int:
    """How many people a run of `decisions` decisions has on its roster."""
    scale = decisions / P.DEFAULT_DECISIONS
    return max(60, round(DEFAULT_TRAINEES * scale**TRAINEE_SCALE_EXPONENT))


# ======================================================================================================
# The roster
# ======================================================================================================
@dataclass
class _Roster:
    """Everyone on the roster, as arrays indexed by trainee (row order = trainee_id order)."""

    ids: np.ndarray  # str
    market: np.ndarray  # index into P.MARKETS
    cohort: np.ndarray  # index into P.COHORTS
    start: np.ndarray  # day of start_date (a Monday)
    last: np.ndarray  # last day on the job (END_DAY unless exited)
    project: np.ndarray  # index into PROJECTS
    klass: np.ndarray  # index into classes (onboarding class)
    asymptote: np.ndarray
    start_acc: np.ndarray
    tau: np.ndarray  # learning time constant, weeks
    mix: np.ndarray  # (n, policies): share of routine reviews per policy
    policy_skill: np.ndarray  # (n, policies): accuracy offset
    frame: pd.DataFrame
    classes: pd.DataFrame  # class_id, cohort, market, start, trainer

    @property
    def n(self) -> int:
        return len(self.ids)

    @property
    def prod_start(self) -> np.ndarray:
        return self.start + ONBOARDING_DAYS

    def active_on(self, day: int) -> np.ndarray:
        return (self.start <= day) & (self.last >= day)

    def tenure_weeks(self, day: int) -> np.ndarray:
        return (day - self.start) // 7


def _trainer_pools(rng: np.random.Generator, classes_per_market: dict[str, int]) -> dict[str, list[str]]:
    """Two named trainers per market, plus more at large scale so nobody teaches two classes at once."""
    pools = {}
    for market in P.MARKETS:
        pool = list(TRAINERS[market])
        extra = max(0, classes_per_market.get(market, 0) - len(pool))
        pools[market] = pool + names_for_market(rng, market, extra)
    return pools


def _roster(rng: np.random.Generator, n: int) -> _Roster:
    """Monthly cohorts per market, in onboarding classes of at most CLASS_SIZE, with abilities."""
    cohort_sizes = _apportion(n, COHORT_SHARES)
    rows: list[tuple[int, int, int, int]] = []  # (cohort, market, start day, class number)
    class_rows: list[dict] = []
    for c, size in enumerate(cohort_sizes):
        year, month = (int(x) for x in P.COHORTS[c].split("-"))
        shares = [0.0 if (P.COHORTS[c], market) in HIRING_PAUSES else share
                  for market, share in zip(P.MARKETS, MARKET_SHARES, strict=True)]
        for m, m_size in enumerate(_apportion(int(size), shares)):
            if m_size == 0:
                continue
            market = P.MARKETS[m]
            start = _first_monday(year, month) + (7 if market in SECOND_MONDAY_MARKETS else 0)
            n_classes = math.ceil(m_size / CLASS_SIZE)
            for k in range(n_classes):
                k_size = int(m_size) // n_classes + (1 if k < int(m_size) % n_classes else 0)
                class_rows.append({"class_id": f"ONB-{P.COHORTS[c]}-{market}{k + 1}", "cohort": c,
                                   "market": m, "start": start, "number": k})
                rows.extend([(c, m, start, len(class_rows) - 1)] * k_size)
    classes = pd.DataFrame(class_rows)
    per_market = classes.groupby("market")["number"].max().add(1)
    pools = _trainer_pools(rng, {P.MARKETS[m]: int(v) for m, v in per_market.items()})
    classes["trainer"] = [pools[P.MARKETS[m]][(k + c) % len(pools[P.MARKETS[m]])]
                          for m, k, c in zip(classes["market"], classes["number"], classes["cohort"], strict=True)]

    arr = np.array(rows, dtype=np.int64)
    cohort, market, start, klass = arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3]
    width = max(4, len(str(n)))
    ids = np.array([f"T{i:0{width}d}" for i in range(1, n + 1)])
    project = rng.choice(len(PROJECTS), size=n, p=PROJECT_SHARES)

    # A few people leave; their reviews stop the day they go.
    last = np.full(n, END_DAY)
    exits = (rng.random(n) < EXIT_SHARE) & (start + ONBOARDING_DAYS + 21 < END_DAY - 14)
    lo, hi = start[exits] + ONBOARDING_DAYS + 14, END_DAY - 7
    last[exits] = lo + np.floor(rng.random(exits.sum()) * (hi - lo)).astype(np.int64)

    ability = rng.normal(0.0, ABILITY_SD, n)
    asymptote = ASYMPTOTE + ability
    start_acc = START_ACCURACY + 0.8 * ability + rng.normal(0.0, START_SD, n)
    fast = cohort == P.COHORTS.index(P.FAST_COHORT)
    tau = np.where(fast, P.FAST_LEARNING_WEEKS, P.LEARNING_WEEKS) * np.exp(rng.normal(0.0, LEARNING_SPREAD, n))

    # Queue mix: Dirichlet around the project's mix, via gamma draws (vectorised over people).
    alpha = np.array([POLICY_MIX[PROJECTS[p]] for p in range(len(PROJECTS))])[project] * MIX_CONCENTRATION
    mix = rng.gamma(alpha)
    tiny_market, tiny_policy = P.MARKETS.index(P.TINY_MARKET), P.POLICIES.index(P.TINY_POLICY)
    mix[market == tiny_market, tiny_policy] = 0.0  # routed to another hub (the tiny cell is planted)
    # VN's queues carry twice the usual Bullying & Harassment: the weak cell has plenty of decisions.
    mix[market == P.MARKETS.index(P.WEAK_MARKET), P.POLICIES.index(P.WEAK_POLICY)] *= 2.0
    mix /= mix.sum(axis=1, keepdims=True)
    policy_skill = rng.normal(0.0, TRAINEE_POLICY_SD, (n, len(P.POLICIES)))

    frame = _roster_frame(rng, ids, market, cohort, start, last, project, klass, classes)
    return _Roster(ids, market, cohort, start, last, project, klass, asymptote, start_acc, tau, mix,
                   policy_skill, frame, classes)


def _roster_frame(rng: np.random.Generator, ids: np.ndarray, market: np.ndarray, cohort: np.ndarray,
                  start: np.ndarray, last: np.ndarray, project: np.ndarray, klass: np.ndarray,
                  classes: pd.DataFrame) -> pd.DataFrame:
    """The trainees dataset: names in each market's scripts, sites, teams of about TEAM_SIZE."""
    n = len(ids)
    names = np.empty(n, dtype=object)
    sites = np.empty(n, dtype=object)
    for m, code in enumerate(P.MARKETS):
        idx = np.flatnonzero(market == m)
        names[idx] = names_for_market(rng, code, len(idx))
        options, weights = SITES[code]
        sites[idx] = np.array(options, dtype=object)[rng.choice(len(options), size=len(idx), p=weights)]
    frame = pd.DataFrame({
        "trainee_id": ids,
        "market": np.array(P.MARKETS)[market],
        "name": names,
        "cohort": np.array(P.COHORTS)[cohort],
        "start_date": start,
        "language": [LANGUAGES[P.MARKETS[m]] for m in market],
        "site": sites,
        "team": "",
        "project": np.array(PROJECTS)[project],
        "trainer": classes["trainer"].to_numpy()[klass],
        "status": np.where(last < END_DAY, "exited", "active"),
    })
    # Teams fill up in hiring order within a market and project: "TH-SV2" is Bangkok's second Short Video team.
    rank = frame.groupby(["market", "project"]).cumcount().to_numpy()
    frame["team"] = [f"{mk}-{PROJECT_CODES[p]}{r // TEAM_SIZE + 1}"
                     for mk, p, r in zip(frame["market"], project, rank, strict=True)]
    return frame


# ======================================================================================================
# Trainings and attendance (all but the remedial session, which depends on simulated decisions)
# ======================================================================================================
@dataclass
class _Sessions:
    trainings: list[dict]
    attendance: list[tuple[str, int, bool]]  # (training_id, trainee index, attended)


def _add_session(s: _Sessions, training: dict, invited: np.ndarray, show_rate: float,
                 rng: np.random.Generator) -> np.ndarray:
    """Record a session and who was invited; returns who actually attended."""
    s.trainings.append(training)
    attended = rng.random(len(invited)) < show_rate
    s.attendance.extend((training["training_id"], int(i), bool(a)) for i, a in zip(invited, attended, strict=True))
    return invited[attended]


def _training(training_id: str, day: int, kind: str, title: str, *, policy: str | None = None,
              market: str | None = None, project: str | None = None, trainer: str | None = None,
              hours: float = 1.0, delivery: str = "classroom", audience: str | None = None) -> dict:
    return {"training_id": training_id, "date": day, "kind": kind, "title": title, "policy": policy,
            "market": market, "project": project, "trainer": trainer, "duration_hours": hours,
            "delivery": delivery, "audience": audience}


def _onboarding(s: _Sessions, r: _Roster) -> None:
    """Every class starts with two weeks of onboarding; everyone attends."""
    for k, cl in r.classes.iterrows():
        members = np.flatnonzero(r.klass == k)
        s.trainings.append(_training(cl["class_id"], int(cl["start"]), "onboarding",
                                     f"New-hire onboarding {P.COHORTS[cl['cohort']]}",
                                     market=P.MARKETS[cl["market"]], trainer=cl["trainer"], hours=72.0,
                                     audience="everyone"))
        s.attendance.extend((cl["class_id"], int(i), True) for i in members)


POLICY_UPDATES = (
    (dt.date(2026, 4, 20), "Spam & Scams", "Policy update: new investment-scam patterns"),
    (dt.date(2026, 6, 15), "Hate Speech", "Policy update: coded slurs and dog whistles"),
    (dt.date(2026, 8, 10), "Dangerous Orgs", "Policy update: revised designated organisations list"),
    (P.POLICY_UPDATE_DATE, P.POLICY_UPDATE_POLICY, P.POLICY_UPDATE_TITLE),  # (h): accuracy dips after it
)


def _policy_updates(s: _Sessions, r: _Roster, rng: np.random.Generator) -> None:
    """Briefings on policy changes, one per market, for everyone in production that day."""
    for when, policy, title in POLICY_UPDATES:
        day = _day(when)
        for m, market in enumerate(P.MARKETS):
            invited = np.flatnonzero((r.market == m) & r.active_on(day) & (r.prod_start <= day))
            if len(invited) == 0:
                continue
            tid = f"UPD-{when:%Y-%m}-{POLICY_CODES[P.POLICIES.index(policy)]}-{market}"
            _add_session(s, _training(tid, day, "policy_update", title, policy=policy, market=market,
                                      trainer=POLICY_TRAINER, hours=1.0, delivery="virtual"), invited, 0.9, rng)


def _clashes_with_plants(policy: int, market: int, day: int) -> bool:
    """Background sessions stay clear of the planted ones, so each planted effect has one cause."""
    near_refresher = abs(day - _day(P.REFRESHER_DATE)) <= 35
    near_remedial = abs(day - _day(P.REMEDIAL_DATE)) <= 35
    return bool(
        (policy == _HS and P.MARKETS[market] in P.REFRESHER_MARKETS and near_refresher)
        or (policy == _VG and P.MARKETS[market] in P.REMEDIAL_MARKETS and near_remedial)
    )


def _background_sessions(s: _Sessions, r: _Roster, rng: np.random.Generator, per_scale: float) -> None:
    """Routine refreshers and small-group coaching with no effect on accuracy."""
    for kind, prefix, count, group, hours in (("refresher", "REF", 12, (8, 17), 2.0),
                                              ("coaching", "COA", 15, (3, 7), 1.0)):
        n_sessions = max(1, round(count * per_scale))
        made = 0
        while made < n_sessions:
            day = int(rng.integers(_day(dt.date(2026, 5, 1)), END_DAY - 7))
            day -= (day - FIRST_MONDAY) % 7 - int(rng.integers(0, 5))  # a weekday
            market, policy = int(rng.choice(len(P.MARKETS), p=MARKET_SHARES)), int(rng.integers(len(P.POLICIES)))
            if _clashes_with_plants(policy, market, day):
                continue
            in_scope = (r.market == market) & r.active_on(day) & (r.prod_start <= day)
            # Coaching is run for one project's queue; refreshers mix projects.
            project = int(rng.choice(len(PROJECTS), p=PROJECT_SHARES)) if kind == "coaching" else None
            if project is not None:
                in_scope &= r.project == project
            pool = np.flatnonzero(in_scope)
            size = min(len(pool), int(rng.integers(*group)))
            if size == 0:
                continue
            made += 1
            invited = np.sort(rng.choice(pool, size=size, replace=False))
            m_code = P.MARKETS[market]
            title = f"{P.POLICIES[policy]} {'refresher' if kind == 'refresher' else 'coaching'}"
            _add_session(s, _training(f"{prefix}-{made:04d}", day, kind, title, policy=P.POLICIES[policy],
                                      market=m_code, project=None if project is None else PROJECTS[project],
                                      trainer=TRAINERS[m_code][made % 2], hours=hours,
                                      delivery=("classroom", "virtual")[made % 2]), invited, 0.93, rng)


def _refresher_pool(r: _Roster) -> np.ndarray:
    """Everyone in production in the refresher's markets for both windows around it: whom QA's Hate Speech
    deep-dive covers and whom the refresher's invitations were drawn from."""
    plant, window = _day(P.REFRESHER_DATE), P.REFRESHER_WINDOW_DAYS
    in_markets = np.isin(r.market, [P.MARKETS.index(m) for m in P.REFRESHER_MARKETS])
    return in_markets & (r.prod_start <= plant - window) & (r.last >= plant + window - 1)


def _remedial_pool(r: _Roster) -> np.ndarray:
    """Experienced people in the remedial's markets, on the job for both windows around it: whom QA's
    Violent & Graphic drive covers and whom team leads ranked. Nesting trainees are left out: they are
    audited heavily anyway, and their learning curve would make any before/after look like a gain."""
    plant, window = _day(P.REMEDIAL_DATE), P.REMEDIAL_WINDOW_DAYS
    in_markets = np.isin(r.market, [P.MARKETS.index(m) for m in P.REMEDIAL_MARKETS])
    experienced = r.tenure_weeks(plant - window) >= P.EXPERIENCED_WEEKS
    return in_markets & experienced & (r.last >= plant + window - 1)


def _planted_size(default: int, per_scale: float, pool: int, cap: float) -> int:
    """A planted session's size: as documented at the bundled size, growing with the roster in larger
    runs (so selection works the same way), never more than `cap` of the people it is drawn from."""
    return min(round(default * max(per_scale, 1.0)), int(cap * pool))


def _planted_refresher(s: _Sessions, r: _Roster, rng: np.random.Generator, per_scale: float) -> np.ndarray:
    """(a) The refresher that works: invitations drawn at random within each cohort (by roster, not by
    performance), a few no-shows. Returns a boolean mask of who attended."""
    pool = np.flatnonzero(_refresher_pool(r))
    n_invited = _planted_size(P.REFRESHER_INVITED, per_scale, len(pool), 0.6)
    if n_invited == 0:
        return np.zeros(r.n, dtype=bool)
    per_cohort = _apportion(n_invited, [np.sum(r.cohort[pool] == c) for c in range(len(P.COHORTS))])
    invited = np.sort(np.concatenate([
        rng.choice(pool[r.cohort[pool] == c], size=k, replace=False) for c, k in enumerate(per_cohort) if k
    ] or [np.array([], dtype=np.int64)]))
    n_no_show = round(P.REFRESHER_NO_SHOWS * n_invited / P.REFRESHER_INVITED)
    no_show = rng.choice(len(invited), size=n_no_show, replace=False)
    attended = np.ones(len(invited), dtype=bool)
    attended[no_show] = False
    s.trainings.append(_training(P.REFRESHER_TRAINING_ID, _day(P.REFRESHER_DATE), "refresher",
                                 "Hate Speech refresher: coded hate and counter-speech", policy=P.REFRESHER_POLICY,
                                 trainer=POLICY_TRAINER, hours=3.0, delivery="virtual", audience="random"))
    s.attendance.extend((P.REFRESHER_TRAINING_ID, int(i), bool(a)) for i, a in zip(invited, attended, strict=True))
    mask = np.zeros(r.n, dtype=bool)
    mask[invited[attended]] = True
    return mask


# ======================================================================================================
# Decisions
# ======================================================================================================
@dataclass
class _Volume:
    """Expected reviews per trainee-week, before scaling to the requested total."""

    lo: np.ndarray  # (n, weeks) first valid day of each trainee-week
    n_days: np.ndarray  # (n, weeks) valid days (0-7)
    routine: np.ndarray  # (n, weeks) expected routine reviews (all policies)
    drives: list[tuple[int, np.ndarray]]  # (policy, (n, weeks) expected extra audits)
    tiny: np.ndarray  # (k, 2) trainee, week of the planted tiny-cell decisions
    scale: float  # multiplier that makes the expected total the requested one


def _volume(r: _Roster, decisions: int, rng: np.random.Generator) -> _Volume:
    """How many reviews each trainee gets each week: the nesting quota, the tenured sample, QA's two
    audit drives around the planted sessions, and the handful of tiny-cell decisions."""
    week_start = FIRST_MONDAY + 7 * np.arange(N_WEEKS)
    lo = np.maximum(week_start[None, :], r.prod_start[:, None])
    hi = np.minimum(week_start[None, :] + 6, r.last[:, None])
    n_days = np.clip(hi - lo + 1, 0, 7)
    tenure = (week_start[None, :] - r.start[:, None]) // 7
    per_week = np.where(tenure >= TENURED_FROM_WEEK, TENURED_PER_WEEK,
                        np.where(tenure >= ONBOARDING_DAYS // 7, NESTING_PER_WEEK, 0.0))
    routine = per_week * n_days / 7.0

    ref_day, ref_window = _day(P.REFRESHER_DATE), P.REFRESHER_WINDOW_DAYS
    ref_weeks = (week_start >= ref_day - ref_window) & (week_start < ref_day + ref_window)
    ref_rate = np.where(ref_weeks, P.REFRESHER_AUDITS_PER_WEEK, 0.0)
    rem_day, rem_window = _day(P.REMEDIAL_DATE), P.REMEDIAL_WINDOW_DAYS
    rem_rate = np.select([(week_start >= rem_day - rem_window) & (week_start < rem_day),
                          (week_start >= rem_day) & (week_start < rem_day + rem_window)],
                         [P.REMEDIAL_AUDITS_PER_WEEK_BEFORE, P.REMEDIAL_AUDITS_PER_WEEK_AFTER], 0.0)
    drives = [
        (_HS, _refresher_pool(r)[:, None] * ref_rate[None, :] * n_days / 7.0),
        (_VG, _remedial_pool(r)[:, None] * rem_rate[None, :] * n_days / 7.0),
    ]

    tiny_market = P.MARKETS.index(P.TINY_MARKET)
    candidates = np.argwhere((r.market[:, None] == tiny_market) & (tenure >= P.EXPERIENCED_WEEKS) & (n_days > 0))
    pick = rng.choice(len(candidates), size=P.TINY_DECISIONS, replace=len(candidates) < P.TINY_DECISIONS)
    tiny = candidates[pick]

    expected = routine.sum() + sum(d.sum() for _, d in drives)
    scale = max(decisions - P.TINY_DECISIONS, 1) / expected
    return _Volume(lo, n_days, routine, drives, tiny, scale)


@dataclass
class _Noise:
    """Shared random effects on accuracy, drawn once so every block sees the same weeks."""

    trainee_week: np.ndarray  # (n, weeks)
    global_week: np.ndarray  # (weeks,)


@dataclass
class _Cells:
    """Review cells of one block: each is (trainee, week, policy, kind) with a count."""

    trainee: np.ndarray
    week: np.ndarray
    policy: np.ndarray
    kind: np.ndarray  # 0 routine, 1 audit drive, 2 tiny cell
    count: np.ndarray


def _block_cells(r: _Roster, v: _Volume, block: slice, rng: np.random.Generator) -> _Cells:
    """Whole-number review counts for one block of trainees: quotas per week, split across policies."""
    totals = _stochastic_round(rng, v.routine[block] * v.scale)
    by_policy = rng.multinomial(totals, r.mix[block][:, None, :])  # (b, weeks, policies)
    t, w, p = np.nonzero(by_policy)
    parts = [(t + block.start, w, p, np.zeros_like(t), by_policy[t, w, p])]
    for policy, expected in v.drives:
        counts = _stochastic_round(rng, expected[block] * v.scale)
        t, w = np.nonzero(counts)
        parts.append((t + block.start, w, np.full_like(t, policy), np.ones_like(t), counts[t, w]))
    in_block = (v.tiny[:, 0] >= block.start) & (v.tiny[:, 0] < block.stop)
    tiny = v.tiny[in_block]
    ones = np.ones(len(tiny), dtype=np.int64)
    parts.append((tiny[:, 0], tiny[:, 1], ones * P.POLICIES.index(P.TINY_POLICY), ones * 2, ones))
    return _Cells(*(np.concatenate([part[i] for part in parts]).astype(np.int64) for i in range(5)))


def _true_accuracy(r: _Roster, noise: _Noise, refresher: np.ndarray, t: np.ndarray, week: np.ndarray,
                   day: np.ndarray, policy: np.ndarray) -> np.ndarray:
    """P(correct) for each review: learning curve + policy + person + week + planted effects."""
    weeks_in_production = np.maximum(0.0, (day - r.prod_start[t]) / 7.0)
    curve = r.asymptote[t] - (r.asymptote[t] - r.start_acc[t]) * np.exp(-weeks_in_production / r.tau[t])
    p = (curve + np.asarray(POLICY_DIFFICULTY_PP)[policy] / 100 + r.policy_skill[t, policy]
         + noise.trainee_week[t, week] + noise.global_week[week] + DRIFT_PP / 100 * day / END_DAY)
    # (c) the weak cell
    weak = (r.market[t] == P.MARKETS.index(P.WEAK_MARKET)) & (policy == P.POLICIES.index(P.WEAK_POLICY))
    p -= weak * P.WEAK_GAP_PP / 100
    # (a) the refresher: a common shift for everyone on the policy in those markets, the effect for attendees
    after = (policy == _HS) & (day >= _day(P.REFRESHER_DATE))
    in_markets = np.isin(r.market[t], [P.MARKETS.index(m) for m in P.REFRESHER_MARKETS])
    p += (after & in_markets) * P.REFRESHER_COMMON_SHIFT_PP / 100
    p += (after & refresher[t]) * P.REFRESHER_EFFECT_PP / 100
    # (b) the remedial session: REMEDIAL_EFFECT_PP is zero, and nothing else is added here on purpose.
    # (h) the policy update: everyone is less accurate on the policy while they learn the new path
    update = _day(P.POLICY_UPDATE_DATE)
    learning = (policy == P.POLICIES.index(P.POLICY_UPDATE_POLICY)) & (day >= update)
    p -= (learning & (day < update + P.POLICY_UPDATE_DIP_DAYS)) * P.POLICY_UPDATE_DIP_PP / 100
    return np.clip(p, P_MIN, P_MAX)


def _labels(rng: np.random.Generator, policy: np.ndarray, expected_kind: np.ndarray, correct: np.ndarray,
            weak: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Expected and given label codes and error-type codes (-1 when correct), consistent with `correct`.

    expected_kind: 0 violating (this policy), 1 non_violating, 2 age_restricted, 3 needs_escalation."""
    violation = 3 + policy
    expected = np.select([expected_kind == 0, expected_kind == 1, expected_kind == 2], [violation, 0, 1], 2)
    u = rng.random(len(policy))
    # A violation is missed, put under a related policy (far more often in the weak cell, where bullying
    # gets taken for hate speech) or given the wrong action.
    wrong_policy = np.where(weak, 0.55, 0.25)
    wrong_action = np.where(weak, 0.15, 0.20)
    missed = 1.0 - wrong_policy - wrong_action
    v_given = np.select([u < missed, u < missed + wrong_policy, u < missed + wrong_policy + wrong_action / 2],
                        [0, 3 + np.asarray(RELATED_POLICY)[policy], 1], 2)
    v_error = np.select([u < missed, u < missed + wrong_policy], [0, 2], 3)
    n_given = np.where(u < 0.7, violation, 1)  # over-enforcement: removed, or age-restricted
    ar_given = np.where(u < 0.5, 0, violation)  # should be age-restricted: left up, or removed outright
    ar_error = np.where(u < 0.5, 0, 1)
    esc_given = np.where(u < 0.6, violation, 0)  # should have escalated: actioned it alone, or left it up
    esc_error = np.where(u < 0.6, 3, 0)
    conditions = [expected_kind == 0, expected_kind == 1, expected_kind == 2]
    wrong_given = np.select(conditions, [v_given, n_given, ar_given], esc_given)
    wrong_error = np.select(conditions, [v_error, 1, ar_error], esc_error)
    given = np.where(correct, expected, wrong_given)
    error = np.where(correct, -1, wrong_error)
    return expected, given, error


def _decode(codes: np.ndarray, values: Sequence[str]) -> pa.Array:
    """Codes (-1 = missing) to a string array, without a Python loop per row."""
    codes = np.asarray(codes)
    mask = codes < 0
    return pa.DictionaryArray.from_arrays(pa.array(np.where(mask, 0, codes).astype(np.int32), mask=mask),
                                          pa.array(list(values), pa.string())).cast(pa.string())


def _prefixed(prefix: pa.Array | str, numbers: np.ndarray, width: int) -> pa.Array:
    """"T0001"-style ids: prefix + zero-padded number, vectorised."""
    digits = pc.utf8_lpad(pc.cast(pa.array(numbers), pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise(prefix, digits, "")


def _dates(days: np.ndarray) -> pa.Array:
    return pa.array(np.asarray(days, dtype=np.int32) + _EPOCH_OFFSET, pa.int32()).cast(pa.date32())


@dataclass
class _DecisionIds:
    offset: int  # decisions before this block
    width: int  # digits in decision ids
    item_modulus: int  # qa item numbers are a permutation of the decision index modulo this
    second_offset: int  # blind second audits are numbered after every other decision, in block order


@dataclass
class _Plants:
    """The decision-level plants beyond accuracy (planted.py (f) and (g)): the live golden set with its
    miskeyed and obvious items, the QA auditors with the lenient and the strict one, and where QA runs
    blind double audits."""

    golden_bank: np.ndarray  # (policies, live items): the expected kind of each live golden item
    mislabelled: np.ndarray  # item keys (policy * 10_000 + item number)
    obvious: np.ndarray
    reviewers: list[str]
    pool_start: np.ndarray  # per market: the first auditor's code, and how many auditors
    pool_size: np.ndarray
    lenient: int  # auditor codes; -1 when a run has no such auditor
    strict: int
    double_markets: np.ndarray  # market codes


def _item_key(item_id: str) -> int:
    """"GAN0007" -> policy * 10_000 + 7, the key golden items are matched by."""
    return POLICY_CODES.index(item_id[1:3]) * 10_000 + int(item_id[3:])


def _plants(r: _Roster, golden_bank: np.ndarray) -> _Plants:
    reviewers, pool_start, pool_size = _reviewer_pools(r)
    code = {name: i for i, name in enumerate(reviewers)}
    return _Plants(golden_bank, np.array([_item_key(i) for i in P.MISLABELLED_ITEMS]),
                   np.array([_item_key(i) for i in P.OBVIOUS_ITEMS]), reviewers, pool_start, pool_size,
                   code.get(P.LENIENT_AUDITOR, -1), code.get(P.STRICT_AUDITOR, -1),
                   np.array([P.MARKETS.index(m) for m in P.DOUBLE_AUDIT_MARKETS]))


@dataclass
class _Rows:
    """A block's decisions as codes (-1 = missing), before they become an Arrow table."""

    number: np.ndarray  # decision number: D000001 is 1
    t: np.ndarray
    day: np.ndarray
    policy: np.ndarray
    correct: np.ndarray
    golden: np.ndarray
    item_id: pa.Array
    given: np.ndarray
    expected: np.ndarray
    reviewer: np.ndarray
    error: np.ndarray
    market: np.ndarray
    project: np.ndarray

    def table(self, r: _Roster, reviewers: list[str], width: int) -> pa.Table:
        columns = {
            "decision_id": _prefixed("D", self.number, width),
            "trainee_id": _decode(self.t, r.ids),
            "date": _dates(self.day),
            "policy": _decode(self.policy, P.POLICIES),
            "correct": pa.array(self.correct),
            "source": _decode(self.golden.astype(np.int64), ("qa_audit", "golden_set")),
            "item_id": self.item_id,
            "given_label": _decode(self.given, LABELS),
            "expected_label": _decode(self.expected, LABELS),
            "reviewer_id": _decode(self.reviewer, reviewers),
            "error_type": _decode(self.error, ERROR_TYPES),
            "market": _decode(self.market, P.MARKETS),
            "project": _decode(self.project, PROJECTS),
        }
        return pa.table(columns, schema=_schema("decisions"))


def _block_decisions(r: _Roster, v: _Volume, noise: _Noise, refresher: np.ndarray, plants: _Plants,
                     cells: _Cells, ids: _DecisionIds, stats: _WindowStats,
                     rngs: tuple[np.random.Generator, np.random.Generator]) -> pa.Table:
    """One block's decisions, sorted by date then trainee (a blind second audit right after the audit it
    repeats), as an Arrow table with the contract's columns. The second stream draws only what the
    decision-level plants need, so the first draws what it always did."""
    rng, plant_rng = rngs
    t = np.repeat(cells.trainee, cells.count)
    week = np.repeat(cells.week, cells.count)
    policy = np.repeat(cells.policy, cells.count)
    kind = np.repeat(cells.kind, cells.count)
    day = v.lo[t, week] + np.floor(rng.random(len(t)) * v.n_days[t, week]).astype(np.int64)
    order = np.lexsort((t, day))
    t, week, policy, kind, day = t[order], week[order], policy[order], kind[order], day[order]
    n = len(t)

    golden = (kind == 0) & (rng.random(n) < GOLDEN_SHARE)
    p = _true_accuracy(r, noise, refresher, t, week, day, policy)
    correct = rng.random(n) < p
    tiny = kind == 2
    correct[tiny] = np.arange(tiny.sum()) < P.TINY_CORRECT  # the tiny cell's few decisions, as planted

    # Golden items come from the live golden set of each policy, each with its one answer (its key).
    bank_item = rng.integers(0, plants.golden_bank.shape[1], n)
    prior = np.cumsum(np.asarray(LABEL_PRIOR), axis=1)[policy]
    expected_kind = np.where(golden, plants.golden_bank[policy, bank_item],
                             (rng.random(n)[:, None] > prior).sum(axis=1))
    weak = (r.market[t] == P.MARKETS.index(P.WEAK_MARKET)) & (policy == P.POLICIES.index(P.WEAK_POLICY))
    expected, given, error = _labels(rng, policy, np.minimum(expected_kind, 3), correct, weak)

    # QA auditors: a small pool per market; golden-set checks are scored automatically.
    pick = (rng.random(n) * plants.pool_size[r.market[t]]).astype(np.int64)
    reviewer = np.where(golden, -1, plants.pool_start[r.market[t]] + pick)

    index = ids.offset + np.arange(n)
    qa_item = (2_654_435_761 * index + 918_273_645) % ids.item_modulus  # a permutation: unique, not sequential
    item_digits = len(str(ids.item_modulus - 1))
    qa_item_id = _prefixed(_decode(r.project[t], PROJECT_CODES), qa_item, item_digits)
    golden_item_id = _prefixed(_decode(policy, [f"G{c}" for c in POLICY_CODES]), bank_item, 4)

    market_code = np.where(rng.random(n) < BLANK_MARKET_SHARE, -1, r.market[t])
    market_code[tiny] = r.market[t[tiny]]
    project_code = np.where(rng.random(n) < BLANK_PROJECT_SHARE, -1, r.project[t])
    rows = _Rows(index + 1, t, day, policy, correct, golden, pc.if_else(pa.array(golden), golden_item_id, qa_item_id),
                 given, expected, reviewer, error, market_code, project_code)
    rows = _plant_golden_items(plant_rng, plants, rows, rows.policy * 10_000 + bank_item, p)
    truth = rows.correct  # what a careful auditor would find
    rows = _plant_auditors(plant_rng, plants, rows)
    stats.add(t, day, policy, rows.correct)  # team leads rank people on the audits as recorded
    table = rows.table(r, plants.reviewers, ids.width)
    second, repeats = _second_audits(plant_rng, plants, r, rows, truth, (kind == 0) & ~golden, ids.second_offset)
    if not len(repeats):
        return table
    order = np.argsort(np.concatenate([np.arange(n), repeats + 0.5]), kind="stable")
    return pa.concat_tables([table, second.table(r, plants.reviewers, ids.width)]).take(order)


def _plant_golden_items(rng: np.random.Generator, plants: _Plants, rows: _Rows, key: np.ndarray,
                        p: np.ndarray) -> _Rows:
    """(f) Miskeyed golden items: a moderator answers with the key (the surface reading) the less often the
    more accurate they are, and otherwise gives the policy's answer, which the key marks wrong. Obvious
    items: everyone gets them right."""
    miskeyed = rows.golden & np.isin(key, plants.mislabelled)
    obvious = rows.golden & np.isin(key, plants.obvious)
    (low, often), (high, rarely) = P.MISKEY_FOLLOWED
    follows_key = rng.random(len(p)) < np.interp(p, (low, high), (often, rarely))
    violation = 3 + rows.policy
    # The policy's answer: left up where the key removes, removed under the policy where the key does not.
    policy_answer = np.where(rows.expected == violation, 0, violation)
    correct = np.where(miskeyed, follows_key, rows.correct | obvious)
    given = np.where(correct, rows.expected, np.where(miskeyed, policy_answer, rows.given))
    error = np.where(correct, -1, np.where(miskeyed, np.where(policy_answer == 0, 0, 1), rows.error))
    return replace(rows, correct=correct, given=given, error=error)


def _disputed(given: np.ndarray, policy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The label an auditor records against a decision they fail, and the error type that makes: a removal
    should have stayed up (over-enforcement), a decision left up should have been removed (missed
    violation), an age restriction should have stayed up, an escalation should have been actioned."""
    violation = 3 + policy
    removed, left_up, restricted = given >= 3, given == 0, given == 1
    expected = np.select([removed, left_up, restricted], [0, violation, 0], violation)
    error = np.select([removed, left_up, restricted], [1, 0, 1], 3)
    return expected, error


def _severity(rng_draw: np.ndarray, auditor: np.ndarray, verdict: np.ndarray, plants: _Plants) -> np.ndarray:
    """(g) Verdicts as the lenient and the strict auditor record them: the lenient one passes some errors,
    the strict one fails some right decisions; everyone else records the verdict as it is."""
    passes = (auditor == plants.lenient) & (plants.lenient >= 0) & ~verdict & (rng_draw < P.LENIENT_PASS_SHARE)
    fails = (auditor == plants.strict) & (plants.strict >= 0) & verdict & (rng_draw < P.STRICT_FAIL_SHARE)
    return (verdict | passes) & ~fails


def _plant_auditors(rng: np.random.Generator, plants: _Plants, rows: _Rows) -> _Rows:
    recorded = _severity(rng.random(len(rows.correct)), rows.reviewer, rows.correct, plants)
    disputed, dispute_error = _disputed(rows.given, rows.policy)
    passed, failed = recorded & ~rows.correct, rows.correct & ~recorded
    return replace(rows, correct=recorded,
                   expected=np.select([passed, failed], [rows.given, disputed], rows.expected),
                   error=np.select([passed, failed], [-1, dispute_error], rows.error))


def _second_audits(rng: np.random.Generator, plants: _Plants, r: _Roster, rows: _Rows, truth: np.ndarray,
                   routine_audit: np.ndarray, first_number: int) -> tuple[_Rows, np.ndarray]:
    """(g) Blind double audits: in DOUBLE_AUDIT_MARKETS, a share of routine audits is audited again by
    another auditor of the market, who judges the same decision with their own severity and some noise.
    Returns the second audits and the row each repeats."""
    u = rng.random((4, len(rows.t)))
    market = r.market[rows.t]
    repeats = np.flatnonzero(routine_audit & np.isin(market, plants.double_markets)
                             & (u[0] < P.DOUBLE_AUDIT_SHARE))
    m = market[repeats]
    size = plants.pool_size[m]
    first = rows.reviewer[repeats] - plants.pool_start[m]
    other = plants.pool_start[m] + (first + 1 + np.floor(u[1, repeats] * (size - 1)).astype(np.int64)) % size
    verdict = _severity(u[2, repeats], other, truth[repeats], plants) ^ (u[3, repeats] < P.AUDIT_NOISE)
    given = rows.given[repeats]
    disputed, dispute_error = _disputed(given, rows.policy[repeats])
    first_failed = ~rows.correct[repeats]  # two auditors who fail a decision agree on what was wrong
    second = _Rows(
        number=first_number + 1 + np.arange(len(repeats)), t=rows.t[repeats], day=rows.day[repeats],
        policy=rows.policy[repeats], correct=verdict, golden=np.zeros(len(repeats), dtype=bool),
        item_id=rows.item_id.take(pa.array(repeats)), given=given,
        expected=np.where(verdict, given, np.where(first_failed, rows.expected[repeats], disputed)),
        reviewer=other, error=np.where(verdict, -1, np.where(first_failed, rows.error[repeats], dispute_error)),
        market=rows.market[repeats], project=rows.project[repeats],
    )
    return second, repeats


def _reviewer_pools(r: _Roster) -> tuple[list[str], np.ndarray, np.ndarray]:
    """QA reviewer ids per market ("QATH01"), one reviewer per QA_MODERATORS_PER_AUDITOR people (at least 2)."""
    sizes = np.array([max(2, math.ceil(np.sum(r.market == m) / P.QA_MODERATORS_PER_AUDITOR))
                      for m in range(len(P.MARKETS))])
    names = [f"QA{mk}{k:02d}" for mk, size in zip(P.MARKETS, sizes, strict=True) for k in range(1, size + 1)]
    return names, np.concatenate([[0], np.cumsum(sizes)[:-1]]), sizes


@dataclass
class _WindowStats:
    """Per-trainee reviews and correct ones on the remedial policy in the two weeks before the remedial
    date: what the team leads ranked people by."""

    pre_n: np.ndarray
    pre_correct: np.ndarray

    def add(self, t: np.ndarray, day: np.ndarray, policy: np.ndarray, correct: np.ndarray) -> None:
        plant = _day(P.REMEDIAL_DATE)
        pre = (policy == _VG) & (day >= plant - P.REMEDIAL_WINDOW_DAYS) & (day < plant)
        self.pre_n += np.bincount(t[pre], minlength=len(self.pre_n))
        self.pre_correct += np.bincount(t[pre], weights=correct[pre], minlength=len(self.pre_n)).astype(np.int64)


def _decision_blocks(r: _Roster, v: _Volume, noise: _Noise, refresher: np.ndarray, plants: _Plants,
                     seed: int, stats: _WindowStats) -> Iterator[pa.Table]:
    """Simulate decisions block by block, each block with its own random streams, so the result does not
    depend on how it is consumed. Counts come first (cheap) so decision ids run on across blocks."""
    blocks = [slice(b, min(b + BLOCK_TRAINEES, r.n)) for b in range(0, r.n, BLOCK_TRAINEES)]
    cells = [_block_cells(r, v, blk, np.random.default_rng([seed, 1, k])) for k, blk in enumerate(blocks)]
    sizes = [int(c.count.sum()) for c in cells]
    total = sum(sizes)
    width = max(6, len(str(total)))
    modulus = 10 ** max(6, len(str(total)) + 1)
    offset, second = 0, total
    for k, c in enumerate(cells):
        table = _block_decisions(r, v, noise, refresher, plants, c, _DecisionIds(offset, width, modulus, second),
                                 stats, (np.random.default_rng([seed, 2, k]), np.random.default_rng([seed, 3, k])))
        yield table
        offset += sizes[k]
        second += table.num_rows - sizes[k]


def _remedial(s: _Sessions, r: _Roster, stats: _WindowStats, rng: np.random.Generator,
             per_scale: float) -> np.ndarray:
    """(b) The remedial session: each team lead nominates their weakest experienced moderators on the
    policy by observed accuracy over the two weeks before (ties broken at random), seats shared across
    teams by team size. Returns the attendees' indices."""
    pool = _remedial_pool(r) & (stats.pre_n >= P.REMEDIAL_MIN_PRE_DECISIONS)
    teams = r.frame["team"].to_numpy()
    team_names = np.unique(teams[pool])
    n_invited = _planted_size(P.REMEDIAL_INVITED, per_scale, int(pool.sum()), 0.45)
    quotas = _apportion(n_invited, [np.sum(pool & (teams == t)) for t in team_names]) if n_invited else []
    observed = stats.pre_correct / np.maximum(stats.pre_n, 1)
    tie_break = rng.random(r.n)
    invited_parts = [np.array([], dtype=np.int64)]
    for team, quota in zip(team_names, quotas, strict=True):
        candidates = np.flatnonzero(pool & (teams == team))
        invited_parts.append(candidates[np.lexsort((tie_break[candidates], observed[candidates]))][:quota])
    invited = np.sort(np.concatenate(invited_parts))
    n_no_show = round(P.REMEDIAL_NO_SHOWS * n_invited / P.REMEDIAL_INVITED)
    attended = np.ones(len(invited), dtype=bool)
    attended[rng.choice(len(invited), size=n_no_show, replace=False)] = False
    s.trainings.append(_training(P.REMEDIAL_TRAINING_ID, _day(P.REMEDIAL_DATE), "coaching",
                                 "Violent & Graphic remedial coaching", policy=P.REMEDIAL_POLICY,
                                 trainer=POLICY_TRAINER, hours=2.0, delivery="virtual", audience="low_scorers"))
    s.attendance.extend((P.REMEDIAL_TRAINING_ID, int(i), bool(a)) for i, a in zip(invited, attended, strict=True))
    return invited[attended]


# ======================================================================================================
# Calibration
# ======================================================================================================
CALIBRATION_SESSIONS = (  # the bundled ten; larger runs add more of the ordinary kind
    (dt.date(2026, 5, 13), "Hate Speech", "ID"), (dt.date(2026, 5, 27), "Adult Nudity", "TH"),
    (dt.date(2026, 6, 10), "Bullying & Harassment", "PH"), (dt.date(2026, 6, 24), "Child Safety", "VN"),
    (dt.date(2026, 7, 8), "Self-harm", "MY"), (dt.date(2026, 7, 22), "Spam & Scams", "ID"),
    (dt.date(2026, 8, 19), "Dangerous Orgs", "TH"), (dt.date(2026, 9, 2), "Violent & Graphic", "VN"),
    (dt.date(2026, 9, 23), "Hate Speech", "PH"), (dt.date(2026, 10, 14), "Animal Harm", "JP"),
)
CALIBRATION_MIN_TENURE_WEEKS = 8
RATER_COMMENTS = ("borderline", "satire? needs context", "context needed", "depends on caption",
                  "news value", "ngữ cảnh chưa rõ", "ต้องดูบริบท", "文脈次第")
REFERENCE_COMMENTS = ("per policy FAQ", "see guideline example", "escalate per SOP")


def _calibration_plan(rng: np.random.Generator, per_scale: float) -> list[tuple[str, int, int, int]]:
    """(session_id, day, policy, market) for each session: the fixed ten, plus more at scale."""
    plan = [(P.MARKETS.index(m), P.POLICIES.index(p), _day(d)) for d, p, m in CALIBRATION_SESSIONS]
    for _ in range(max(0, round(len(CALIBRATION_SESSIONS) * per_scale) - len(plan))):
        plan.append((int(rng.choice(len(P.MARKETS), p=MARKET_SHARES)), int(rng.integers(len(P.POLICIES))),
                     int(rng.integers(_day(dt.date(2026, 5, 11)), END_DAY - 3))))
    return [(f"CAL-{k + 1:02d}", day, policy, market) for k, (market, policy, day) in enumerate(plan)]


def _calibration(s: _Sessions, r: _Roster, rng: np.random.Generator, per_scale: float) -> pd.DataFrame:
    """Sessions of 5-8 experienced raters labelling 20-30 items beside an expert's reference answer."""
    frames = []
    for session_id, day, policy, market in _calibration_plan(rng, per_scale):
        pool = np.flatnonzero((r.market == market) & r.active_on(day)
                              & (r.tenure_weeks(day) >= CALIBRATION_MIN_TENURE_WEEKS))
        if len(pool) < 3:
            continue
        raters = np.sort(rng.choice(pool, size=min(len(pool), int(rng.integers(5, 9))), replace=False))
        n_items = int(rng.integers(20, 31))
        labels = (LABELS[3 + policy], *GENERIC_LABELS)
        reference = (rng.random(n_items)[:, None] > np.cumsum(LABEL_PRIOR[policy])).sum(axis=1).clip(0, 3)
        if session_id == P.POOR_CALIBRATION_SESSION:
            agreement = np.full(n_items, P.POOR_RATER_AGREEMENT)
        else:
            # Ordinary sessions agree well, with a few genuinely ambiguous items.
            agreement = rng.uniform(*P.GOOD_RATER_AGREEMENT) - 0.15 * (rng.random(n_items) < 0.1)
        agrees = rng.random((n_items, len(raters))) < agreement[:, None]
        other = (reference[:, None] + rng.integers(1, 4, (n_items, len(raters)))) % 4  # any other label
        votes = np.where(agrees, reference[:, None], other)
        rated = rng.random((n_items, len(raters))) >= 0.04  # a few items not rated by everyone
        item, rater = np.nonzero(rated)
        items = [f"{session_id}-{i + 1:02d}" for i in range(n_items)]
        expert = "EXPERT1" if rng.random() < 0.7 else "EXPERT2"
        comments = np.where(rng.random(len(item)) < 0.04, rng.choice(RATER_COMMENTS, len(item)), None)
        ref_comments = np.where(rng.random(n_items) < 0.15, rng.choice(REFERENCE_COMMENTS, n_items), None)
        frames.append(pd.DataFrame({
            "session_id": session_id,
            "item_id": [items[i] for i in item] + items,
            "rater_id": list(r.ids[raters[rater]]) + [expert] * n_items,
            "label": [labels[k] for k in votes[item, rater]] + [labels[k] for k in reference],
            "date": day, "policy": P.POLICIES[policy], "market": P.MARKETS[market],
            "is_reference": [False] * len(item) + [True] * n_items,
            "comment": list(comments) + list(ref_comments),
        }))
        s.trainings.append(_training(session_id, day, "calibration", f"Calibration: {P.POLICIES[policy]}",
                                     policy=P.POLICIES[policy], market=P.MARKETS[market],
                                     trainer=TRAINERS[P.MARKETS[market]][0], hours=1.5, delivery="virtual"))
        s.attendance.extend((session_id, int(i), True) for i in raters)
    return pd.concat(frames, ignore_index=True)


# ======================================================================================================
# Assessments and feedback
# ======================================================================================================
PASS_MARK = 80.0
QUIZ_WEEKS = (3, 5, 7, 9)


def _scores(rng: np.random.Generator, mean: np.ndarray | float, sd: float, n: int) -> np.ndarray:
    return np.clip(np.round(rng.normal(mean, sd, n)), 0, 100)


def _assessment_rows(trainee: np.ndarray, day: np.ndarray | int, name: str, score: np.ndarray, kind: str,
                     policy: str | None, attempt: int, training_id: np.ndarray | str | None) -> pd.DataFrame:
    return pd.DataFrame({"trainee_id": trainee, "date": day, "assessment": name, "score": score,
                         "max_score": 100.0, "pass_mark": PASS_MARK, "kind": kind, "policy": policy,
                         "attempt": attempt, "training_id": training_id})


def _assessments(r: _Roster, s: _Sessions, refresher_attended: np.ndarray, remedial_attended: np.ndarray,
                 rng: np.random.Generator) -> pd.DataFrame:
    """Onboarding pre/post tests and certification (with retakes), nesting quizzes, and tests around the
    planted sessions: test gains that say nothing about the job, as the remedial shows."""
    ids, skill = r.ids, (r.asymptote - ASYMPTOTE) * 100
    class_id = r.classes["class_id"].to_numpy()[r.klass]
    n = r.n
    parts = [
        _assessment_rows(ids, r.start, "Onboarding pre-test", _scores(rng, 52 + skill, 12, n), "pre_test", None, 1,
                         class_id),
        _assessment_rows(ids, r.start + 10, "Onboarding post-test", _scores(rng, 81 + skill, 7, n), "post_test",
                         None, 1, class_id),
    ]
    score = _scores(rng, 84 + skill, 6, n)
    taking = np.ones(n, dtype=bool)
    for attempt, offset in ((1, 11), (2, 14), (3, 18)):
        parts.append(_assessment_rows(ids[taking], r.start[taking] + offset, "Onboarding certification",
                                      score[taking], "certification", None, attempt, class_id[taking]))
        taking &= score < PASS_MARK
        score = np.minimum(100, score + np.round(rng.normal(7, 4, n)).clip(0))
    for k, week in enumerate(QUIZ_WEEKS):
        day = r.start + 7 * week + 3
        took = r.last >= day
        policy = (r.cohort + k) % len(P.POLICIES)
        x = np.maximum(0.0, (day - r.prod_start) / 7.0)
        expected = 100 * (r.asymptote - (r.asymptote - r.start_acc) * np.exp(-x / r.tau))
        quiz_scores = _scores(rng, expected, 6, n)
        for pol in np.unique(policy[took]):
            sel = took & (policy == pol)
            parts.append(_assessment_rows(ids[sel], day[sel], f"Quiz: {P.POLICIES[pol]}", quiz_scores[sel], "quiz",
                                          P.POLICIES[pol], 1, None))
    att = pd.DataFrame(s.attendance, columns=["training_id", "t", "attended"])
    trainings = pd.DataFrame(s.trainings).set_index("training_id")
    updates = att[att["attended"] & att["training_id"].str.startswith("UPD-")]
    if len(updates):
        tr = trainings.loc[updates["training_id"]]
        parts.append(_assessment_rows(ids[updates["t"]], tr["date"].to_numpy(),
                                      ("Policy check: " + tr["policy"]).to_numpy(),
                                      _scores(rng, 86, 8, len(updates)), "quiz", None, 1,
                                      updates["training_id"].to_numpy()).assign(policy=tr["policy"].to_numpy()))
    for attended, tid, policy, pre_mean, post_mean in (
        (refresher_attended, P.REFRESHER_TRAINING_ID, P.REFRESHER_POLICY, 71, 87),
        (remedial_attended, P.REMEDIAL_TRAINING_ID, P.REMEDIAL_POLICY, 66, 85),
    ):
        k = len(attended)
        day = int(trainings.loc[tid, "date"])
        parts.append(_assessment_rows(ids[attended], day, f"{policy} pre-test", _scores(rng, pre_mean, 10, k),
                                      "pre_test", policy, 1, tid))
        parts.append(_assessment_rows(ids[attended], day, f"{policy} post-test", _scores(rng, post_mean, 8, k),
                                      "post_test", policy, 1, tid))
    out = pd.concat(parts, ignore_index=True)
    return out[out["date"] <= END_DAY].sort_values(["date", "trainee_id"], kind="stable", ignore_index=True)


FEEDBACK_MEAN = {"onboarding": 4.3, "refresher": 4.0, "policy_update": 3.6, "calibration": 3.9, "coaching": 4.1}
FEEDBACK_COMMENTS = {
    "good": ("Very useful examples", "Clear and practical", "ตัวอย่างชัดเจนดีมาก", "Rất hữu ích",
             "分かりやすかったです", "Sangat membantu", "More sessions like this please"),
    "bad": ("Too fast", "Slides were outdated", "Need more local-language examples", "Cần thêm ví dụ thực tế",
            "Audio issues in the virtual room", "너무 길었어요"),
}


def _feedback(s: _Sessions, r: _Roster, rng: np.random.Generator) -> pd.DataFrame:
    """Reaction ratings from about half the attendees, most generous for the sessions people enjoyed."""
    att = pd.DataFrame(s.attendance, columns=["training_id", "t", "attended"])
    att = att[att["attended"]]
    kinds = pd.DataFrame(s.trainings).set_index("training_id")["kind"]
    kind = kinds.loc[att["training_id"]].to_numpy()
    respond = rng.random(len(att)) < np.where(kind == "onboarding", 0.8, 0.5)
    att, kind = att[respond], kind[respond]
    mean = np.array([FEEDBACK_MEAN[k] for k in kind])
    # The planted sessions are well liked either way: reaction is not behaviour.
    mean[att["training_id"].isin([P.REFRESHER_TRAINING_ID, P.REMEDIAL_TRAINING_ID]).to_numpy()] = 4.4
    rating = np.clip(np.round(rng.normal(mean, 0.8)), 1, 5).astype(np.int64)
    has_comment = rng.random(len(att)) < 0.12
    good = rng.choice(FEEDBACK_COMMENTS["good"], len(att))
    bad = rng.choice(FEEDBACK_COMMENTS["bad"], len(att))
    comment = np.where(has_comment, np.where(rating >= 4, good, bad), None)
    return pd.DataFrame({"training_id": att["training_id"].to_numpy(), "trainee_id": r.ids[att["t"].to_numpy()],
                         "rating": rating, "comment": comment})


# ======================================================================================================
# Arrow tables, frames and CSV
# ======================================================================================================
_ARROW_TYPES = {"date": pa.date32(), "bool": pa.bool_(), "int": pa.int64(), "float": pa.float64(),
                "ratio": pa.float64()}


def _schema(dataset: str) -> pa.Schema:
    return pa.schema([(c.name, _ARROW_TYPES.get(c.type, pa.string())) for c in DATASETS[dataset].columns])


def _to_arrow(frame: pd.DataFrame, dataset: str) -> pa.Table:
    """A small frame (dates as day numbers) as an Arrow table with the contract's columns and types."""
    schema = _schema(dataset)
    columns = []
    for field in schema:
        values = frame[field.name].to_numpy() if field.name in frame else np.full(len(frame), None)
        if field.type == pa.date32():
            columns.append(_dates(values.astype(np.int64)))
        else:
            columns.append(pa.array(values, field.type, from_pandas=True))
    return pa.Table.from_arrays(columns, schema=schema)


def _to_frame(table: pa.Table) -> pd.DataFrame:
    """Arrow to pandas: str columns, datetime64 dates, numpy bools and numbers."""
    return table.to_pandas(date_as_object=False)


class _Simulation:
    """One run: the roster and planned sessions up front, then decisions block by block, then what depends
    on them (the remedial's invitations) and the small datasets."""

    def __init__(self, seed: int, decisions: int | None) -> None:
        target = P.DEFAULT_DECISIONS if decisions is None else int(decisions)
        if target < 1:
            raise ValueError(f"decisions must be a positive number, not {decisions!r}")
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        n = trainee_count(target)
        self.per_scale = n / DEFAULT_TRAINEES
        self.roster = _roster(self.rng, n)
        self.noise = _Noise(self.rng.normal(0.0, TRAINEE_WEEK_SD, (n, N_WEEKS)),
                            self.rng.normal(0.0, GLOBAL_WEEK_SD, N_WEEKS))
        self.sessions = _Sessions([], [])
        _onboarding(self.sessions, self.roster)
        _policy_updates(self.sessions, self.roster, self.rng)
        _background_sessions(self.sessions, self.roster, self.rng, self.per_scale)
        self.refresher = _planted_refresher(self.sessions, self.roster, self.rng, self.per_scale)
        self.volume = _volume(self.roster, target, self.rng)
        bank_size = max(100, round(GOLDEN_BANK_PER_POLICY * self.per_scale**0.5))
        prior = np.cumsum(np.asarray(LABEL_PRIOR), axis=1)
        draws = self.rng.random((len(P.POLICIES), bank_size, 1))
        bank = (draws > prior[:, None, :]).sum(axis=2).clip(0, 3)
        # QA keeps a live set of each policy's bank in use, so every live item is seen often enough to judge.
        live = round(P.GOLDEN_LIVE_ITEMS * max(self.per_scale, 1.0) ** 0.5)
        self.plants = _plants(self.roster, bank[:, :live])
        self.stats = _WindowStats(np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64))
        self._decisions_done = False

    def decisions(self) -> Iterator[pa.Table]:
        """The decisions, one Arrow table per block of trainees; consume them all before `rest()`."""
        yield from _decision_blocks(self.roster, self.volume, self.noise, self.refresher, self.plants, self.seed,
                                    self.stats)
        self._decisions_done = True

    def rest(self) -> dict[str, pa.Table]:
        """Every dataset but decisions, as Arrow tables."""
        assert self._decisions_done, "the remedial's invitations depend on the decisions: simulate them first"
        r, s, rng = self.roster, self.sessions, self.rng
        remedial = _remedial(s, r, self.stats, rng, self.per_scale)
        calibration = _calibration(s, r, rng, self.per_scale)
        assessments = _assessments(r, s, np.flatnonzero(self.refresher), remedial, rng)
        feedback = _feedback(s, r, rng)
        trainings = pd.DataFrame(s.trainings).sort_values(["date", "training_id"], ignore_index=True)
        attendance = pd.DataFrame(s.attendance, columns=["training_id", "t", "attended"])
        attendance["trainee_id"] = r.ids[attendance["t"].to_numpy()]
        position = pd.Series(trainings.index, index=trainings["training_id"])
        attendance = attendance.assign(position=position.loc[attendance["training_id"]].to_numpy()).sort_values(
            ["position", "trainee_id"], kind="stable")
        return {
            "trainees": _to_arrow(r.frame, "trainees"),
            "trainings": _to_arrow(trainings, "trainings"),
            "attendance": _to_arrow(attendance, "attendance"),
            "assessments": _to_arrow(assessments, "assessments"),
            "calibration": _to_arrow(calibration, "calibration"),
            "feedback": _to_arrow(feedback, "feedback"),
        }


def build(seed: int = P.DEFAULT_SEED, decisions: int | None = None) -> dict[str, pd.DataFrame]:
    """Simulate the operation and return one frame per dataset (trainees, trainings, attendance, decisions,
    assessments, calibration, feedback), columns named and ordered as in `data_sources.contract`.

    `decisions=None` gives the bundled size (`planted.DEFAULT_DECISIONS`); a number scales decision volume,
    the roster, sessions and calibration with it. Text columns are pandas `str`, dates `datetime64`."""
    sim = _Simulation(seed, decisions)
    tables = {"decisions": pa.concat_tables(list(sim.decisions())), **sim.rest()}
    return {name: _to_frame(tables[name]) for name in DATASET_NAMES}


def _write_csv(con: duckdb.DuckDBPyConnection, source: pa.Table | pa.RecordBatchReader,
               path: pathlib.Path) -> None:
    """DuckDB's CSV writer: header row, quotes only where needed, ISO dates, true/false."""
    con.from_arrow(source).write_csv(str(path), sep=",", header=True)


def write_exports(out_dir: pathlib.Path, seed: int = P.DEFAULT_SEED,
                  decisions: int | None = None) -> dict[str, pathlib.Path]:
    """Write `<dataset>.csv` for each dataset into `out_dir` (UTF-8, comma, header row, ISO dates,
    true/false booleans) and return their paths. Decisions stream to disk block by block, so 10M
    decisions need no more memory than a block's worth."""
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    sim = _Simulation(seed, decisions)
    paths = {name: out_dir / f"{name}.csv" for name in DATASET_NAMES}
    con = duckdb.connect()
    try:
        con.execute("SET preserve_insertion_order = true")
        stream = pa.RecordBatchReader.from_batches(
            _schema("decisions"), (batch for table in sim.decisions() for batch in table.to_batches()))
        _write_csv(con, stream, paths["decisions"])
        for name, table in sim.rest().items():
            _write_csv(con, table, paths[name])
    finally:
        con.close()
    return paths


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: write the exports and say what was written."""
    parser = argparse.ArgumentParser(prog="python -m sample_data.generate", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path, default=EXPORTS_DIR, help="folder for the CSVs")
    parser.add_argument("--seed", type=int, default=P.DEFAULT_SEED)
    parser.add_argument("--decisions", type=int, default=None,
                        help=f"decision volume (default {P.DEFAULT_DECISIONS:,}: the bundled size)")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    paths = write_exports(args.out, seed=args.seed, decisions=args.decisions)
    for path in paths.values():
        print(f"{path}  {path.stat().st_size / 1e6:8.2f} MB")
    print(f"done in {time.perf_counter() - began:.1f} s")


if __name__ == "__main__":
    main()
