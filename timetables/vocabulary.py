"""The event vocabulary: keys every output uses, in their legal order.

The first block is design.md's vocabulary, which must not be renamed. The keys after it are the
ones the law needs beyond that list, then the registration year's. A timetable sorts events by
date and, on one date, by their place here, which is the order in which the law has them happen.
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
    # The registration year (issue 7's additions to design.md's vocabulary). A monthly notice's
    # keys carry its month: notice_of_alteration.YYYY-MM, with .last_application and
    # .determination siblings.
    "notice_of_alteration",
    "postal_reapplication_notices",
    "signature_refresh_notices",
    "postal_votes_end",
    "data_match",
    "route_allocation",
    "canvass_start",
    "canvass_communication_a",
    "canvass_communication_b",
    "route3_enquiry",
    "route2_follow_up",
    "canvass_form",
    "personal_contact",
    "invitations_to_register",
    "notice_requiring_application",
    "civil_penalty",
    "overseas_renewal_reminders",
    "overseas_expiry",
    "canvass_period",
    "revised_register.last_application",
    "revised_register.determination",
    "revised_register",
    "statistical_return",
    "occupation_proxy_enquiries",
    "polling_district_review",
)

ORDER_INDEX: dict[str, int] = {key: n for n, key in enumerate(EVENT_ORDER)}

NATIONS: tuple[str, ...] = ("england", "wales", "scotland", "northern-ireland")
