"""The data contract in code: the datasets users bring, their columns, types and natural keys.

`../shared/DATA_CONTRACT.md` is the source; `docs/data.md` says the same for users. The importer, the
schema, the CSV templates and the Data page all read this module, so a change here is a change everywhere.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Literal

ColumnType = Literal["text", "date", "bool", "int", "float", "ratio", "kind", "source", "policy", "market"]
# A vocabulary: each accepted value with the spellings exports use for it (matched ignoring case, spaces,
# underscores and hyphens).
Words = dict[str, tuple[str, ...]]

TRAINING_KIND_WORDS: Words = {
    "onboarding": ("onboarding", "onboard", "new hire", "new hire training", "induction", "nesting"),
    "refresher": ("refresher", "refresher training", "refresh", "upskilling", "remedial", "retraining"),
    "policy_update": ("policy update", "policy_update", "policy change", "policy briefing", "update briefing"),
    "calibration": ("calibration", "calibration session", "calib"),
    "coaching": ("coaching", "coaching session", "1:1", "one on one", "1 on 1", "feedback session"),
    "other": ("other", "misc", "general"),
}
SOURCE_WORDS: Words = {
    "qa_audit": ("qa_audit", "qa audit", "qa", "audit", "quality", "quality audit"),
    "golden_set": ("golden_set", "golden set", "golden", "gold", "golden check", "accuracy", "gs", "gold set"),
}
ASSESSMENT_KIND_WORDS: Words = {
    "pre_test": ("pre_test", "pre test", "pre-test", "pre", "pretest", "baseline"),
    "post_test": ("post_test", "post test", "post-test", "post", "posttest"),
    "certification": ("certification", "cert", "certificate", "final exam", "certification exam"),
    "quiz": ("quiz", "knowledge check", "check"),
}
STATUS_WORDS: Words = {
    "active": ("active", "current", "working", "on floor", "production"),
    "exited": ("exited", "exit", "inactive", "left", "resigned", "terminated", "attrition", "separated"),
}
# Yes/no cells, compared lower-cased as they are (no spelling normalisation).
TRUE_WORDS = ("true", "yes", "y", "1", "pass", "passed", "correct", "t", "accurate", "right", "ok", "✓", "1.0")
FALSE_WORDS = ("false", "no", "n", "0", "fail", "failed", "incorrect", "f", "inaccurate", "wrong", "✗", "0.0")

# Cells that mean "no value" in every dataset and column: never a label, a name or a category (a calibration
# label `NA`, R's default missing value, is a missing rating, not a third label). Matched exactly after
# trimming, as spelled here, so `none` (a severity level) stays a label while `None` (pandas, Python) is
# missing; a label order that names one of these (data_sources/plan.py) keeps it as a label there.
MISSING_VALUES = ("NA", "N/A", "n/a", "#N/A", "null", "NULL", "None", "-", "?")

TRAINING_KINDS = tuple(TRAINING_KIND_WORDS)
SOURCES = tuple(SOURCE_WORDS)
ASSESSMENT_KINDS = tuple(ASSESSMENT_KIND_WORDS)
# How a training's attendees were chosen, with the spellings exports use (matched ignoring case, spaces,
# underscores and hyphens). The training-effect estimator follows it (metrics.selection); missing means
# unknown, and a value outside these words is a problem the user sees, never a silent "unknown".
AUDIENCE_WORDS: Words = {
    "everyone": ("everyone", "all", "all staff", "whole team", "all moderators", "all agents", "mandatory",
                 "compulsory", "required for all"),
    "assigned": ("assigned", "by team", "by market", "by site", "by cohort", "by roster", "roster", "scheduled",
                 "by schedule", "rota"),
    "low_scorers": ("low_scorers", "low scorers", "remedial", "bottom performers", "low performers",
                    "underperformers", "under performers", "performance based", "below target", "by score", "pip"),
    "volunteers": ("volunteers", "volunteer", "opt-in", "opt in", "voluntary", "optional", "self-selected",
                   "self selected", "self enrolled", "sign up", "signed up"),
    "random": ("random", "randomised", "randomized", "random draw", "random sample", "lottery", "rct"),
}
AUDIENCES = tuple(AUDIENCE_WORDS)


@dataclass(frozen=True)
class Column:
    """One column of a dataset, with the rule its values follow: the importer types and checks a cell by
    these fields alone, so a rule changed here is changed in the importer, the templates and the docs."""

    name: str
    type: ColumnType
    synonyms: tuple[str, ...] = ()
    help: str = ""
    low: float | None = None  # numbers below are rejected
    high: float | None = None  # numbers above are rejected
    words: Words | None = field(default=None, hash=False)  # the values a word column accepts
    strict: bool = True  # a word outside `words` is rejected (else kept as written, lower-cased)
    # A required column whose missing value is an answer not given (a rater who did not rate an item): the
    # row is skipped and counted as missing, not rejected. Otherwise a missing required value rejects it.
    skip_if_missing: bool = False

    @property
    def rule(self) -> str:
        """The column's rule in words, for templates and docs ("" when any value of its type goes)."""
        if self.words:
            return _one_of(list(self.words)) + ("" if self.strict else " (other values are kept)")
        if self.low is not None and self.high is not None:
            return f"{self.low:g} to {self.high:g}"
        if self.low is not None:
            return f"{self.low:g} or more"
        return ""


def _one_of(values: list[str]) -> str:
    return values[0] if len(values) == 1 else ", ".join(values[:-1]) + " or " + values[-1]


@dataclass(frozen=True)
class Dataset:
    name: str
    one_row_is: str
    columns: tuple[Column, ...]
    required: tuple[str, ...]
    key: tuple[str, ...]
    # Alternatives that may stand in for a required column ("correct" or both labels).
    one_of: tuple[tuple[str, ...], ...] = ()
    defaults: dict[str, str] = field(default_factory=dict)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _c(
    name: str,
    type_: ColumnType,
    *synonyms: str,
    help: str = "",
    low: float | None = None,
    high: float | None = None,
    words: Words | None = None,
    strict: bool = True,
    skip_if_missing: bool = False,
) -> Column:
    column = Column(name, type_, synonyms, help, low, high, words, strict, skip_if_missing)
    if help or not (words or low is not None):
        return column
    # Without a help text of its own, a column with a rule says it (without "other values are kept").
    shown = _one_of(list(words)) if words else column.rule
    return Column(name, type_, synonyms, shown, low, high, words, strict, skip_if_missing)


TRAINEE_ID = _c(
    "trainee_id", "text", "agent id", "moderator id", "employee id", "emp id", "trainee", "agent",
    "moderator", "user id", "staff id", "reviewer being audited", "ldap", "associate id", "learner id", "learner",
    "student id",
    help="the person's id, as on the roster",
)
DATE = _c(
    "date", "date", "qa date", "audit date", "review date", "decision date", "session date", "training date",
    "check date", "day", "week", "week start", "test date", "attempt date", "completed", "completed on",
    "completion date", "completed date", "submitted on", "submission date", "exam date", "round date",
    "calibration date",
    help="ISO (2026-03-04), day-first or month-first (04/03/2026), or an Excel serial number",
)
POLICY = _c(
    "policy", "policy", "policy area", "policy category", "policy name", "category", "violation type",
    "policy tag", "abuse type", help="the policy area, e.g. Hate Speech",
)
MARKET = _c("market", "market", "region", "country", "locale", "market code", help="market code or name, e.g. TH")
TRAINING_ID = _c("training_id", "text", "session id", "training session id", "course id", "training code")
PROJECT = _c("project", "text", "queue", "workflow", "project name", help="labelling project or queue")

DATASETS: dict[str, Dataset] = {
    "trainees": Dataset(
        "trainees",
        "a person on the roster",
        (
            TRAINEE_ID,
            MARKET,
            _c("name", "text", "full name", "trainee name", "agent name", "moderator name", "employee name"),
            _c("cohort", "text", "hire class", "batch", "wave", "class", "cohort name"),
            _c("start_date", "date", "start", "hire date", "joining date", "date joined", "onboarding date", "doj"),
            _c("language", "text", "lang", "primary language"),
            _c("site", "text", "location", "office", "city"),
            _c("team", "text", "team name", "squad", "pod"),
            PROJECT,
            _c("trainer", "text", "trainer name", "coach", "team lead", "tl"),
            _c("status", "text", "employment status", "active", words=STATUS_WORDS, strict=False),
        ),
        required=("trainee_id", "market"),
        key=("trainee_id",),
    ),
    "trainings": Dataset(
        "trainings",
        "one training session delivered",
        (
            TRAINING_ID,
            DATE,
            _c("kind", "kind", "training type", "type", "session type", "training kind", words=TRAINING_KIND_WORDS),
            _c("title", "text", "training title", "session title", "course", "course name", "topic", "name"),
            POLICY,
            MARKET,
            PROJECT,
            _c("trainer", "text", "trainer name", "facilitator", "instructor", "delivered by"),
            _c("duration_hours", "float", "duration", "hours", "length hours", "duration h", low=0),
            _c("delivery", "text", "mode", "delivery mode", "format", help="classroom or virtual"),
            _c("audience", "text", "target audience", "selection", "selection method", "attendee selection",
               "how chosen", "how attendees were chosen", "invitation basis", "assignment", words=AUDIENCE_WORDS,
               help="how attendees were chosen: everyone, assigned, low_scorers, volunteers or random; "
                    "blank means unknown"),
        ),
        required=("training_id", "date", "kind", "title"),
        key=("training_id",),
    ),
    "attendance": Dataset(
        "attendance",
        "a trainee at a session",
        (
            TRAINING_ID,
            TRAINEE_ID,
            _c("attended", "bool", "present", "attendance", "showed up", "completed training",
               help="yes/no; missing means yes"),
        ),
        required=("training_id", "trainee_id"),
        key=("training_id", "trainee_id"),
        defaults={"attended": "true"},
    ),
    "decisions": Dataset(
        "decisions",
        "one reviewed moderation decision",
        (
            _c("decision_id", "text", "audit id", "qa id", "review id", "case id", "ticket id", "job id", "task id"),
            TRAINEE_ID,
            DATE,
            POLICY,
            _c("correct", "bool", "result", "is correct", "qa result", "outcome", "pass fail", "accurate",
               "verdict", help="Pass/Fail, Yes/No, 1/0, Correct/Incorrect"),
            _c("source", "source", "check type", "audit type", "review type", "source type", words=SOURCE_WORDS,
               help="qa_audit (quality) or golden_set (accuracy); missing means qa_audit"),
            _c("item_id", "text", "content id", "item", "video id", "post id", "example id", "tweet id"),
            # What the person decided and what QA (or the golden set) says was right: QA exports call them
            # decisions ("Moderator Decision", "Expected Decision").
            _c("given_label", "text", "agent label", "moderator label", "decision", "agent decision", "label given",
               "given", "moderator decision", "given decision", "original decision", "agent action",
               "moderator action", "action taken"),
            _c("expected_label", "text", "qa label", "correct label", "golden label", "expected", "gold label",
               "auditor label", "expected decision", "correct decision", "qa decision", "auditor decision",
               "golden decision", "expected answer", "correct answer"),
            _c("reviewer_id", "text", "auditor", "auditor id", "qa agent", "reviewer", "qa by"),
            _c("error_type", "text", "error category", "error", "error reason", "mistake type", "rca"),
            MARKET,
            PROJECT,
        ),
        required=("trainee_id", "date", "policy"),
        one_of=(("correct",), ("given_label", "expected_label")),
        key=("decision_id",),
        defaults={"source": "qa_audit"},
    ),
    "decision_counts": Dataset(
        "decision_counts",
        "pre-aggregated quality or accuracy",
        (
            TRAINEE_ID,
            DATE,
            POLICY,
            _c("reviewed", "int", "audited", "total", "checks", "sample size", "reviews", "decisions", "volume",
               "n", low=0),
            _c("correct", "float", "correct count", "passed", "n correct", "correct decisions", low=0),
            _c("accuracy", "ratio", "accuracy rate", "quality", "quality score", "qa score", "score",
               "accuracy %", help="0-1 or a percentage"),
            _c("source", "source", "check type", "audit type", "review type", words=SOURCE_WORDS),
        ),
        required=("trainee_id", "date", "policy", "reviewed"),
        one_of=(("correct",), ("accuracy",)),
        key=("trainee_id", "date", "policy", "source"),
        defaults={"source": "qa_audit"},
    ),
    "assessments": Dataset(
        "assessments",
        "one attempt at a quiz, test or certification",
        (
            TRAINEE_ID,
            DATE,
            _c("assessment", "text", "assessment name", "test", "test name", "quiz", "quiz name", "exam",
               "certification", "assessment title", "test title", "quiz title", "exam name", "module name"),
            _c("score", "float", "marks", "points", "result score", "test score", "score %", "grade",
               "marks obtained", low=0),
            _c("max_score", "float", "max", "out of", "total marks", "max marks", "maximum", "max points",
               "total points", "points possible", low=0),
            _c("pass_mark", "float", "pass score", "passing score", "threshold", "cut off", "passing grade",
               "passing mark", "pass percentage", low=0),
            _c("kind", "text", "assessment type", "test type", "type", "exam type", "quiz type",
               words=ASSESSMENT_KIND_WORDS, strict=False),
            POLICY,
            _c("attempt", "int", "attempt number", "attempt no", "try", "try number", low=1),
            TRAINING_ID,
        ),
        required=("trainee_id", "date", "assessment", "score"),
        key=("trainee_id", "assessment", "date", "attempt"),
        defaults={"max_score": "100", "attempt": "1"},
    ),
    "calibration": Dataset(
        "calibration",
        "one rater's label on one item in a calibration session",
        (
            # Annotation exports say round, batch or wave for a session, and annotator, coder or grader for
            # a rater. An auditor here is a rater (in decisions, the reviewer): each dataset's columns decide.
            _c("session_id", "text", "calibration id", "calibration session", "session", "round", "round id",
               "calibration round", "batch", "batch id", "wave", "session name"),
            _c("item_id", "text", "content id", "item", "case id", "video id", "post id", "example id", "task id",
               "ticket id", "tweet id", "text id", "row", "row id", "unit id", "question id"),
            _c("rater_id", "text", "rater", "moderator id", "agent id", "participant", "voter", "annotator",
               "annotator id", "coder", "coder id", "labeller", "labeler", "labeller id", "labeler id", "grader",
               "grader id", "auditor", "auditor id", "reviewer", "reviewer id", "worker id", "judge", "rater name"),
            # A rating left blank or `NA` is a missing rating (an item the rater did not rate): skipped.
            _c("label", "text", "rating", "vote", "answer", "decision", "rater label", "annotation", "grade",
               "severity", "judgement", "judgment", "code", skip_if_missing=True),
            DATE,
            POLICY,
            MARKET,
            _c("is_reference", "bool", "reference", "expert", "is expert", "gold", "is gold", "master"),
            _c("comment", "text", "comments", "note", "notes", "rationale"),
        ),
        required=("session_id", "item_id", "rater_id", "label"),
        key=("session_id", "item_id", "rater_id"),
        defaults={"is_reference": "false"},
    ),
    "feedback": Dataset(
        "feedback",
        "a trainee's rating of a session",
        (
            TRAINING_ID,
            TRAINEE_ID,
            # A trainee who gave no rating: skipped as missing, not rejected.
            _c("rating", "int", "score", "stars", "satisfaction", "csat", low=1, high=5, skip_if_missing=True),
            _c("comment", "text", "comments", "feedback", "remarks", "notes"),
        ),
        required=("training_id", "trainee_id", "rating"),
        key=("training_id", "trainee_id"),
    ),
}


def normalise_header(text: str) -> str:
    """Case, spaces, underscores and punctuation ignored, as the contract says."""
    return re.sub(r"[^0-9a-z%]+", " ", text.strip().lstrip("\ufeff").casefold()).strip()


def _aliases(column: Column) -> set[str]:
    return {normalise_header(column.name), *(normalise_header(s) for s in column.synonyms)}


def match_columns(dataset: Dataset, headers: list[str]) -> dict[str, int]:
    """Map contract column -> header position. Exact names win over synonyms; each header used once."""
    normalised = [normalise_header(h) for h in headers]
    mapping: dict[str, int] = {}
    used: set[int] = set()
    for exact_pass in (True, False):
        for column in dataset.columns:
            if column.name in mapping:
                continue
            wanted = {normalise_header(column.name)} if exact_pass else _aliases(column)
            for i, h in enumerate(normalised):
                if i not in used and h in wanted:
                    mapping[column.name] = i
                    used.add(i)
                    break
    return mapping


def missing_required(dataset: Dataset, mapped: set[str]) -> list[str]:
    """Required columns (and one-of alternatives) not present in a mapping, in words."""
    missing = [c for c in dataset.required if c not in mapped]
    if dataset.one_of and not any(all(c in mapped for c in alt) for alt in dataset.one_of):
        missing.append(" or ".join(" and ".join(alt) for alt in dataset.one_of))
    return missing


def missing_columns(dataset: Dataset, mapped: set[str]) -> list[str]:
    """The columns a mapping still needs, one by one: the required ones, and of the one-of alternatives the
    one closest to complete (`correct` before both labels when neither is begun)."""
    missing = [c for c in dataset.required if c not in mapped]
    if dataset.one_of and not any(all(c in mapped for c in alt) for alt in dataset.one_of):
        nearest = min(dataset.one_of, key=lambda alt: sum(c not in mapped for c in alt))
        missing.extend(c for c in nearest if c not in mapped)
    return missing


def guess_headers(dataset: Dataset, headers: list[str], mapping: dict[str, int], columns: list[str]) -> dict[str, str | None]:
    """For each of `columns` (missing from `mapping`), the unmapped header spelled most like its name or a
    synonym (at least half alike), each header used once, or the one header left for the one column left;
    None when there is no good guess. A guess for a message, never applied unasked."""
    free = {i: normalise_header(h) for i, h in enumerate(headers) if i not in mapping.values()}
    scored = sorted(
        ((max(difflib.SequenceMatcher(None, h, alias).ratio() for alias in _aliases(dataset.column(c))), c, i)
         for c in columns for i, h in free.items()),
        reverse=True,
    )
    out: dict[str, str | None] = dict.fromkeys(columns)
    used: set[int] = set()
    for score, column, i in scored:
        if score >= 0.5 and out[column] is None and i not in used:
            out[column] = headers[i]
            used.add(i)
    left_columns = [c for c, h in out.items() if h is None]
    left_headers = [i for i in free if i not in used]
    if len(left_columns) == 1 and len(left_headers) == 1:
        out[left_columns[0]] = headers[left_headers[0]]
    return out


@dataclass(frozen=True)
class Detection:
    dataset: str | None
    mapping: dict[str, int]
    missing: list[str]
    unmatched_headers: list[str]
    score: float
    closest: str | None = None  # the dataset the headers come nearest to, even when some are missing


def detect_dataset(headers: list[str]) -> Detection:
    """Which dataset a header row belongs to: the one whose required columns are all there and that
    explains most of the headers. Returns dataset None when none fits (naming the closest)."""
    best: Detection | None = None
    for ds in DATASETS.values():
        mapping = match_columns(ds, headers)
        missing = missing_required(ds, set(mapping))
        matched_required = sum(1 for c in ds.required if c in mapping)
        # Prefer complete matches; then the share of headers explained; then required coverage.
        score = (0 if missing else 10) + len(mapping) / max(len(headers), 1) + matched_required / 10
        unmatched = [h for i, h in enumerate(headers) if i not in mapping.values()]
        cand = Detection(ds.name, mapping, missing, unmatched, score, ds.name)
        if best is None or cand.score > best.score:
            best = cand
    assert best is not None
    if best.missing and len(best.mapping) < 2:
        return Detection(None, {}, best.missing, list(headers), 0.0, _closest(headers))
    return best


def _closest(headers: list[str]) -> str:
    """The dataset a header row comes nearest to when none fits: most columns recognised, then the
    required columns most like some header (by spelling)."""
    def nearness(ds: Dataset) -> tuple[int, float]:
        likeness = sum(
            max((difflib.SequenceMatcher(None, normalise_header(h), alias).ratio()
                 for h in headers for alias in _aliases(ds.column(c))), default=0.0)
            for c in ds.required
        ) / len(ds.required)
        return len(match_columns(ds, headers)), likeness

    return max(DATASETS.values(), key=nearness).name


def template_header(dataset: str) -> list[str]:
    return list(DATASETS[dataset].column_names)


assert all(
    c.words for ds in DATASETS.values() for c in ds.columns if c.type in ("kind", "source")
), "word columns say their words"
