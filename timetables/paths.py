"""Where the engine finds its bundled data and the user's own additions."""

from pathlib import Path

from timetables import settings

PACKAGE_DIR = Path(__file__).resolve().parent
DEFINITIONS_DIR = PACKAGE_DIR / "definitions"
BUNDLED_BANK_HOLIDAYS = PACKAGE_DIR / "data" / "bank-holidays.json"
BUNDLED_DIES_NON = PACKAGE_DIR / "data" / "dies-non.yaml"
BUNDLED_COUNCILS = PACKAGE_DIR / "data" / "councils.yaml"


def pollflow_home() -> Path:
    """The folder holding the user's data: ``POLLFLOW_HOME``, or ``~/.pollflow``."""
    return settings.home()


def user_bank_holidays() -> Path:
    """Where ``pollflow holidays refresh`` keeps the copy it fetched from GOV.UK."""
    return pollflow_home() / "bank-holidays.json"


def user_dies_non() -> Path:
    """The user's own days of thanksgiving or mourning, added as data."""
    return pollflow_home() / "dies-non.yaml"
