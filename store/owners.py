"""Who does the work: the active people who hold a role, and, of those, who has least open work.

Work is assigned by role (``store.models.people.ROLES``). Whoever plans work, raises a follow-up
or sends a message to "the managers" asks here, so every part of pollflow gives the same answer.
"""

from __future__ import annotations

from collections import Counter

from sqlmodel import Session, select

from store.models import Person, PersonRole, WorkItem, WorkStatus

# The people told when work has no owner, and who get the weekly canvass report.
MANAGERS = ("electoral-services-manager",)


def holders(session: Session, roles: tuple[str, ...]) -> list[Person]:
    """The active people who hold any of ``roles``, each once, by email."""
    held = select(PersonRole.person_id).where(PersonRole.role.in_(roles))
    return list(
        session.exec(select(Person).where(Person.id.in_(held), Person.active).order_by(Person.email)).all()
    )


class OwnerPicker:
    """Assigns work by role: the active person with the role and the least open work (ties go to
    the first by email). Counts what it assigns, so a batch of new work is shared out."""

    def __init__(self, session: Session):
        people = {p.id: p for p in session.exec(select(Person).where(Person.active)).all()}
        self.by_role: dict[str, list[Person]] = {}
        for role in session.exec(select(PersonRole)).all():
            if role.person_id in people:
                self.by_role.setdefault(role.role, []).append(people[role.person_id])
        self.load = Counter(
            owner
            for owner in session.exec(
                select(WorkItem.owner_id).where(WorkItem.status == WorkStatus.OPEN)
            ).all()
            if owner is not None
        )

    def pick(self, role: str) -> Person | None:
        candidates = self.by_role.get(role) or []
        if not candidates:
            return None
        chosen = min(candidates, key=lambda p: (self.load[p.id], p.email))
        self.load[chosen.id] += 1
        return chosen
