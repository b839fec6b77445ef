"""The event vocabulary: keys every output uses, in their legal order.

The first block is design.md's vocabulary, which must not be renamed. The keys after it are the
ones the law needs beyond that list. A timetable sorts events by date and, on one date, by their
place here, which is the order in which the law has them happen.
"""

EVENT_ORDER: tuple[str, ...] = (
    "dissolution",
    "writ_received",
    "publicity_restriction",
    "referendum_statement",
    "notice_of_election",
    "parish_poll_cards_request",
    "close_of_nominations",
    "withdrawals",
    "election_agents",
    "objections",
    "sopn",
    "first_interim_notice",
    "election_agents_notice",
    "second_interim_notice",
    "registration",
    "postal_vote",
    "proxy",
    "vac",
    "electoral_identity_card",
    "notice_of_poll",
    "polling_stations_notice",
    "final_notice_of_alteration",
    "polling_counting_agents",
    "lost_postal_replacement_from",
    "sub_agents",
    "poll",
    "emergency_proxy",
    "replacement_postal_ballots",
    "clerical_alterations",
    "signing_closes",
    "declaration",
    "expenses_return",
    "postal_rejection_notices",
)

ORDER_INDEX: dict[str, int] = {key: n for n, key in enumerate(EVENT_ORDER)}

NATIONS: tuple[str, ...] = ("england", "wales", "scotland", "northern-ireland")
