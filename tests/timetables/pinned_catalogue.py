"""The work catalogue as it was before issue 14 (35 tasks, planning from 35 working days ahead),
as an overlay on today's catalogue.

Tests of the messages, the command line and the flows plan with it. Their scenarios are timed
around these tasks: a check at 09:30 on 16 March finds the project plan overdue and only that.
The overlay keeps those tests about the messages and not about the catalogue, which
test_catalogue.py covers.
"""

from __future__ import annotations

import tempfile
from functools import cache
from pathlib import Path

import yaml

from timetables import timetable_for
from timetables.work import catalogue

KEYS = [
    "project_plan",
    "book_polling_stations",
    "book_count_venue",
    "candidate_agent_briefing",
    "publish_notice_of_election",
    "nominations",
    "publish_sopn",
    "publish_election_agents_notice",
    "proof_poll_cards",
    "sign_off_poll_cards",
    "despatch_poll_cards",
    "order_ballot_papers",
    "proof_ballot_papers",
    "sign_off_ballot_papers",
    "postal_vote_issue",
    "postal_vote_issue_late",
    "notice_postal_vote_openings",
    "postal_vote_opening_first",
    "postal_vote_opening_final",
    "recruit_polling_staff",
    "train_polling_staff",
    "publish_notice_of_poll",
    "publish_polling_stations_notice",
    "publish_first_interim_notice",
    "publish_second_interim_notice",
    "publish_final_notice_of_alteration",
    "determine_registrations",
    "ballot_box_collection",
    "count_setup",
    "declaration_of_result",
    "expenses_returns",
    "post_poll_returns",
    "pay_staff",
    "send_postal_rejection_notices",
    "document_retention",
]
# What those tasks said then, where today's catalogue says otherwise.
THEN = {
    "project_plan": {"due": {"before": "poll", "working_days": 35}},
    "book_polling_stations": {"due": {"before": "poll", "working_days": 30}},
    "book_count_venue": {"due": {"before": "poll", "working_days": 30}},
    "recruit_polling_staff": {"depends_on": ["book_polling_stations"]},
    "postal_vote_issue_late": {"depends_on": ["postal_vote_issue"]},
}


@cache
def pinned_overlay() -> Path:
    """An overlay file (written once per test process) that plans a council poll's work as the
    catalogue had it before issue 14."""
    today = catalogue(timetable_for(["local.pinned.2027-05-06"]))
    text = yaml.safe_dump({"remove": [k for k in today if k not in KEYS], "change": THEN}, sort_keys=False)
    path = Path(tempfile.mkdtemp(prefix="pinned-catalogue-")) / "pinned.yaml"
    path.write_text(text, encoding="utf-8")
    return path
