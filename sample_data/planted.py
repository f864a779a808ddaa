"""The effects planted in the sample data: what a correct analysis must find, as importable constants.

`sample_data/README.md` tells the story of each; `tests/sample_data/test_generate.py` recovers them with
plain pandas, and the metrics' tests can recover them with the app's own measures. Percentages are in
percentage points of accuracy (share of decisions judged correct). Group sizes are those of the bundled
data (`DEFAULT_DECISIONS`); larger runs grow the planted sessions with the roster.
"""

from __future__ import annotations

import datetime as dt

DEFAULT_SEED = 7
# The bundled exports' size: as many decisions as fit a few MB of CSV while every effect stays clear.
DEFAULT_DECISIONS = 40_000
DATA_START = dt.date(2026, 3, 1)
DATA_END = dt.date(2026, 10, 31)

MARKETS = ("ID", "TH", "VN", "PH", "MY", "JP", "KR", "SG")
POLICIES = (
    "Hate Speech", "Bullying & Harassment", "Child Safety", "Self-harm", "Violent & Graphic", "Animal Harm",
    "Adult Nudity", "Dangerous Orgs", "Spam & Scams",
)
COHORTS = ("2026-03", "2026-04", "2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10")

# (a) A refresher that works. Attendees were invited by roster (a random draw within each cohort from
# everyone in production in those markets, not by performance); from the session on, their accuracy on
# the policy is truly higher by the effect.
# Everyone on that policy in those markets also gains the common shift on the same day (a guideline
# FAQ published to all), which a naive before/after wrongly credits to the training.
REFRESHER_TRAINING_ID = "REF-2026-09-HS"
REFRESHER_POLICY = "Hate Speech"
REFRESHER_MARKETS = ("TH", "ID")
REFRESHER_DATE = dt.date(2026, 9, 7)
REFRESHER_WINDOW_DAYS = 14
REFRESHER_EFFECT_PP = 8.0
REFRESHER_COMMON_SHIFT_PP = 1.0
REFRESHER_INVITED = 54
REFRESHER_NO_SHOWS = 4  # attended = false: they got nothing
REFRESHER_ATTENDEES = REFRESHER_INVITED - REFRESHER_NO_SHOWS
# QA's Hate Speech deep-dive in those markets over both windows: extra audits per moderator-week for
# everyone in production there, so attendees and non-attendees alike have plenty of decisions.
REFRESHER_AUDITS_PER_WEEK = 11

# (b) A remedial session that does nothing. Each team lead in those markets nominated their weakest
# experienced moderators on the policy by observed accuracy over the two weeks before; observed accuracy
# is noisy (about a dozen audits), so the invitees' next two weeks look much better anyway: regression to
# the mean. Because cut-offs differ from team to team, non-attendees with the same pre-accuracy exist.
REMEDIAL_TRAINING_ID = "COA-2026-10-VG"
REMEDIAL_POLICY = "Violent & Graphic"
REMEDIAL_MARKETS = ("VN", "PH", "MY", "JP", "KR", "SG")
REMEDIAL_DATE = dt.date(2026, 10, 5)
REMEDIAL_WINDOW_DAYS = 14
REMEDIAL_EFFECT_PP = 0.0
REMEDIAL_INVITED = 32
REMEDIAL_NO_SHOWS = 2
REMEDIAL_ATTENDEES = REMEDIAL_INVITED - REMEDIAL_NO_SHOWS
# QA's Violent & Graphic drive for experienced moderators in those markets: a few audits a week before
# (the noisy measure people were picked on), twice as many after (to see whether it worked).
REMEDIAL_AUDITS_PER_WEEK_BEFORE = 4
REMEDIAL_AUDITS_PER_WEEK_AFTER = 16
REMEDIAL_MIN_PRE_DECISIONS = 6  # team leads only ranked people with at least this many audits
EXPERIENCED_WEEKS = 16  # tenure from which people count as experienced (well past nesting)

# (c) Weak spots: one real, one that is only noise.
WEAK_MARKET = "VN"
WEAK_POLICY = "Bullying & Harassment"
WEAK_GAP_PP = 12.0  # below the same policy in other markets, on several hundred decisions
TINY_MARKET = "SG"
TINY_POLICY = "Animal Harm"
TINY_DECISIONS = 4  # SG routes Animal Harm elsewhere; these few slipped through
TINY_CORRECT = 0

# (d) A cohort that learns faster after a curriculum change: its learning-curve time constant is halved.
FAST_COHORT = "2026-07"
LEARNING_WEEKS = 5.0  # time constant of the learning curve, in weeks of production
FAST_LEARNING_WEEKS = 2.5
# How the analysis measures proficiency: the first tenure week whose rolling two-week accuracy reaches
# 90% on at least 20 reviews.
PROFICIENCY_ACCURACY = 0.90
PROFICIENCY_MIN_REVIEWS = 20
PROFICIENCY_WINDOW_WEEKS = 2

# (e) One calibration session where raters were all over the place (a new Dangerous Orgs list).
POOR_CALIBRATION_SESSION = "CAL-07"
POOR_CALIBRATION_POLICY = "Dangerous Orgs"
POOR_RATER_AGREEMENT = 0.40  # chance a rater gives the reference answer; the rest is random
GOOD_RATER_AGREEMENT = (0.94, 0.98)  # range for every other session

# (f) Golden-set items. The live golden set holds GOLDEN_LIVE_ITEMS items per policy (at the bundled size).
# A few are mislabelled: their key follows the surface reading of a borderline case, and the policy says
# otherwise (counter-speech quoting a slur, a news photo, a scam-awareness post). Moderators who know the
# policy give the policy's answer and are marked wrong; novices follow the surface reading and are marked
# right. A moderator's chance of answering with the key falls from MISKEY_FOLLOWED[0][1] at accuracy
# MISKEY_FOLLOWED[0][0] to MISKEY_FOLLOWED[1][1] at MISKEY_FOLLOWED[1][0] (linear between, flat beyond).
# A few others are so obvious that every moderator gets them right.
GOLDEN_LIVE_ITEMS = 25
MISLABELLED_ITEMS = ("GAN0007", "GSS0011", "GAN0019")
MISKEY_FOLLOWED = ((0.65, 0.85), (0.90, 0.02))
OBVIOUS_ITEMS = ("GAN0002", "GBH0004")
# How the analysis judges items: at least this many attempts; flags survive Benjamini-Hochberg at FDR.
ITEM_MIN_ATTEMPTS = 30
ITEM_FDR = 0.05

# (g) QA auditors: one lenient, one strict. QA has one auditor per QA_MODERATORS_PER_AUDITOR moderators in a
# market; each audit goes to one of them at random. The lenient auditor passes LENIENT_PASS_SHARE of the
# errors they see; the strict one fails STRICT_FAIL_SHARE of the right decisions they see. In TH and ID,
# DOUBLE_AUDIT_SHARE of routine QA audits are audited again, blind, by another auditor of the market (a
# second row with the same item_id and trainee_id), who also disagrees at random AUDIT_NOISE of the time.
QA_MODERATORS_PER_AUDITOR = 8
LENIENT_AUDITOR = "QATH02"
LENIENT_PASS_SHARE = 0.5
STRICT_AUDITOR = "QAID03"
STRICT_FAIL_SHARE = 0.07
DOUBLE_AUDIT_MARKETS = ("TH", "ID")
DOUBLE_AUDIT_SHARE = 0.04
AUDIT_NOISE = 0.03
AUDITOR_MIN_AUDITS = 100  # how the analysis judges auditors: at least this many comparable audits

# (h) A policy update that shows on the trend: the Self-harm escalation path changed on POLICY_UPDATE_DATE
# (a `policy_update` briefing in every market that day). For POLICY_UPDATE_DIP_DAYS from then, accuracy on
# the policy is lower by POLICY_UPDATE_DIP_PP in every market while people learn the new path; then it is
# back to normal.
POLICY_UPDATE_POLICY = "Self-harm"
POLICY_UPDATE_DATE = dt.date(2026, 10, 12)
POLICY_UPDATE_TITLE = "Policy update: new escalation path and resources"
POLICY_UPDATE_DIP_PP = 12.0
POLICY_UPDATE_DIP_DAYS = 14
