"""`make validate`: does the training effect's headline find true effects, whatever the way attendees were chosen?

Many replicates of a simulated market are generated under each mechanism, with a known true effect (zero and
+5 points), and each is read by the SAME code the app runs on its database's per-trainee counts
(`metrics.training.effect_from_units`, with the app's default EffectDesign): once with the trainings'
`audience` recorded and once without it (the estimator then follows the evidence of the earlier weeks).
For each mechanism, effect and reading it reports the headline's bias (mean headline - true effect, in
points), the coverage of its 95% interval (share of replicates whose interval holds the true effect), how
often it says "a real change", and which estimate led.

The simulated market (one window = 14 days; windows: earlier, before, after). 150 trainees in 10 teams of 15;
each trainee's rate = 85% + their own level (sd 4 points) + their team's (sd 4 points, "teams" only) + a
passing person-window shock (sd 2 points), and a personal trend per window (sd 2 points, "volunteers" only);
everyone gains 1 point after the session (a change for all), attendees gain the true effect; reviews per
window ~ Poisson(25). 30 attend:
  random       drawn at random (the groups differ only by chance)                     declared "random"
  teams        the two teams with the lowest level (a stable difference)               declared "assigned"
  low_scorers  in each team, the 3 with the lowest observed before-window rate          declared "low_scorers"
               (a noisy recent score: regression to the mean)
  volunteers   the 30 whose trend (plus noise) is highest: already improving          declared "volunteers"

    python -m benchmarks.validate_effects                    # 200 replicates per cell (a few minutes)
    python -m benchmarks.validate_effects --replicates 40    # quicker, rougher

The table goes to stdout, benchmarks/validation.md and the marked section of docs/training-effects.md.
"""

from __future__ import annotations

import argparse
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from metrics.training import UNIT_COUNTS, EffectDesign, TrainingEffect, effect_from_units

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "validation.md"
DOCS = ROOT / "docs" / "training-effects.md"
MARKERS = ("<!-- validation table: written by `make validate` -->", "<!-- end of validation table -->")

TRAINEES, TEAMS, ATTENDEES = 150, 10, 30
BASE, PERSON_SD, TEAM_SD, SHOCK_SD, TREND_SD = 0.85, 0.04, 0.04, 0.02, 0.02
COMMON_SHIFT, REVIEWS = 0.01, 25
EFFECTS = (0.0, 0.05)
DECLARED = {"random": "random", "teams": "assigned", "low_scorers": "low_scorers", "volunteers": "volunteers"}
MECHANISMS = tuple(DECLARED)


@dataclass(frozen=True)
class Market:
    """One replicate's trainees: true rates per window (columns early, pre, post before any effect),
    team, and trend."""

    rates: np.ndarray  # trainees x 3
    team: np.ndarray
    trend: np.ndarray


def _market(mechanism: str, rng: np.random.Generator) -> Market:
    team = np.repeat(np.arange(TEAMS), TRAINEES // TEAMS)
    level = BASE + rng.normal(0, PERSON_SD, TRAINEES)
    if mechanism == "teams":
        level += rng.normal(0, TEAM_SD, TEAMS)[team]
    trend = rng.normal(0, TREND_SD, TRAINEES) if mechanism == "volunteers" else np.zeros(TRAINEES)
    windows = level[:, None] + trend[:, None] * np.array([-1.0, 0.0, 1.0])[None, :]
    shocks = rng.normal(0, SHOCK_SD, (TRAINEES, 3))
    return Market(windows + shocks, team, trend)


def _counts(rates: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    reviews = rng.poisson(REVIEWS, rates.shape)
    return reviews, rng.binomial(reviews, np.clip(rates, 0.01, 0.99))


def _attendees(mechanism: str, market: Market, observed_pre: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Indices of the 30 who attend."""
    if mechanism == "random":
        return rng.choice(TRAINEES, ATTENDEES, replace=False)
    if mechanism == "teams":
        team_level = pd.Series(market.rates[:, 1]).groupby(market.team).mean()
        return np.flatnonzero(np.isin(market.team, team_level.nsmallest(ATTENDEES * TEAMS // TRAINEES).index))
    if mechanism == "low_scorers":
        per_team = ATTENDEES // TEAMS
        order = np.lexsort((rng.random(TRAINEES), observed_pre))
        return np.concatenate([order[market.team[order] == t][:per_team] for t in range(TEAMS)])
    return np.argsort(-(market.trend + rng.normal(0, TREND_SD / 2, TRAINEES)))[:ATTENDEES]


def replicate_units(mechanism: str, effect: float, rng: np.random.Generator) -> pd.DataFrame:
    """One replicate's per-trainee counts, as `effect_from_units` reads them from the store."""
    market = _market(mechanism, rng)
    rates = market.rates.copy()
    rates[:, 2] += COMMON_SHIFT
    # The before-window is observed before anyone is chosen; the after-window depends on who attended.
    reviews, correct = _counts(rates, rng)
    observed_pre = correct[:, 1] / np.maximum(reviews[:, 1], 1)
    attended = np.zeros(TRAINEES, bool)
    attended[_attendees(mechanism, market, observed_pre, rng)] = True
    after = rates[:, 2] + effect * attended
    correct[:, 2] = rng.binomial(reviews[:, 2], np.clip(after, 0.01, 0.99))
    counts = np.column_stack([np.column_stack([reviews[:, w], correct[:, w]]) for w in range(3)])
    frame = pd.DataFrame(counts, columns=UNIT_COUNTS)
    return frame.assign(trainee_id=[f"S{i:03d}" for i in range(TRAINEES)],
                        group=np.where(attended, "attended", "comparison"), training_id="SIM")


@dataclass(frozen=True)
class Cell:
    """One mechanism x true effect x reading (declared or not), over the replicates."""

    mechanism: str
    effect: float
    declared: bool
    replicates: int
    bias: float  # mean headline estimate - true, points
    coverage: float  # share of 95% intervals holding the true effect
    real_change: float  # share saying "a real change"
    estimators: dict[str, float]  # share of replicates led by each estimate
    caveat: float  # share whose headline carries a caveat (e.g. already improving)
    did_bias: float  # the difference-in-differences alone, for comparison
    ancova_bias: float  # the adjusted estimate alone


def _summary(mechanism: str, effect: float, declared: bool, results: list[TrainingEffect]) -> Cell:
    heads = [r.headline for r in results if r.enough_data]
    estimate = np.array([h.interval.estimate for h in heads])
    covered = [h.interval.low <= effect <= h.interval.high for h in heads]
    kinds = pd.Series([h.estimator for h in heads]).value_counts(normalize=True).to_dict()
    return Cell(mechanism, effect, declared, len(heads), float(np.mean(estimate) - effect) * 100,
                float(np.mean(covered)), float(np.mean([h.verdict == "a real change" for h in heads])), kinds,
                float(np.mean([bool(h.caveats) for h in heads])),
                float(np.mean([r.did.estimate for r in results]) - effect) * 100,
                float(np.mean([r.ancova.estimate for r in results]) - effect) * 100)


APP_DESIGN = EffectDesign()  # the design every page opens with


def simulate(mechanism: str, effect: float, *, replicates: int, design: EffectDesign = APP_DESIGN,
             seed: int = 0) -> tuple[Cell, Cell]:
    """The (declared, not declared) cells for one mechanism and true effect."""
    declared, unknown = [], []
    for r in range(replicates):
        units = replicate_units(mechanism, effect, np.random.default_rng([seed, MECHANISMS.index(mechanism),
                                                                           int(effect * 1000), r]))
        sim = replace(design, seed=r)
        declared.append(effect_from_units(units, sim, source="qa_audit", audience=DECLARED[mechanism],  # type: ignore[arg-type]
                                          training_ids=("SIM",)))
        unknown.append(effect_from_units(units, sim, source="qa_audit", audience=None, training_ids=("SIM",)))
    return _summary(mechanism, effect, True, declared), _summary(mechanism, effect, False, unknown)


NAMES = {"did": "DiD", "ancova": "ANCOVA", "bracket": "both"}


def table(cells: list[Cell]) -> str:
    """The cells as a Markdown table."""
    head = ("| mechanism | true effect | audience | n | headline bias (points) | 95% coverage | says \"a real "
            "change\" | led by | with a caveat | DiD alone, bias | ANCOVA alone, bias |\n"
            "|---|---:|---|---:|---:|---:|---:|---|---:|---:|---:|\n")
    rows = []
    for c in cells:
        led = ", ".join(f"{NAMES.get(k, k)} {v:.0%}" for k, v in sorted(c.estimators.items(), key=lambda kv: -kv[1]))
        rows.append(f"| {c.mechanism} | {c.effect * 100:+.0f} | {'declared' if c.declared else 'not recorded'} | "
                    f"{c.replicates} | {c.bias:+.2f} | {c.coverage:.0%} | {c.real_change:.0%} | {led} | "
                    f"{c.caveat:.0%} | {c.did_bias:+.2f} | {c.ancova_bias:+.2f} |")
    return head + "\n".join(rows) + "\n"


def _write(text: str, replicates: int, seconds: float) -> None:
    note = (f"{replicates} replicates per row, the app's EffectDesign (1,000 bootstrap resamples), "
            f"{seconds:.0f} s. Command: `make validate`.\n\n")
    RESULTS.write_text("# Training-effect validation (benchmarks/validate_effects.py)\n\n" + note + text,
                       encoding="utf-8")
    if DOCS.exists():
        docs = DOCS.read_text(encoding="utf-8")
        pattern = re.compile(re.escape(MARKERS[0]) + ".*?" + re.escape(MARKERS[1]), re.DOTALL)
        DOCS.write_text(pattern.sub(lambda _m: f"{MARKERS[0]}\n{note}{text}{MARKERS[1]}", docs), encoding="utf-8")


def main(argv: list[str] | None = None, *, progress: Callable[[str], None] = print) -> list[Cell]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    cells: list[Cell] = []
    for mechanism in MECHANISMS:
        for effect in EFFECTS:
            cells.extend(simulate(mechanism, effect, replicates=args.replicates, seed=args.seed))
            progress(f"{mechanism} {effect * 100:+.0f}: {time.perf_counter() - started:.0f} s")
    text = table(cells)
    progress(text)
    _write(text, args.replicates, time.perf_counter() - started)
    return cells


if __name__ == "__main__":
    main()
