"""Errors the timetable engine raises.

Every message names the bad value and what is allowed, so that the command line can print it as
one line and a caller can show it to a user unchanged. ``PollflowError`` is the base class of every
error pollflow raises on bad input, in every layer.
"""


class PollflowError(ValueError):
    """Bad input or a refused operation; the message says what was wrong and what is allowed."""


class InvalidElectionIdError(PollflowError):
    """An election id that is malformed or of an unknown type."""


class UnknownKindError(PollflowError):
    """A kind of poll pollflow has no definition for, or one that does not fit the id."""


class NationError(PollflowError):
    """A nation that is missing where the id needs one, unknown, or wrong for the kind."""


class OverrideError(PollflowError):
    """A ``--set KEY=DATE`` override that names an unknown key or a date the law does not allow."""


class PollDateError(PollflowError):
    """A polling day that is not a working day, or for which no rules are in force."""


class OutsideCalendarError(PollflowError):
    """A date outside the range every calendar covers."""


class DefinitionError(PollflowError):
    """A timetable definition file that is invalid."""


class BankHolidayDataError(PollflowError):
    """Bank-holiday data that is not in GOV.UK's format or does not cover what it must."""
