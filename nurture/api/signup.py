"""A public opt-in as the door accepted it, and its form in the signup inbox (`nurture.inbound.signup_inbox`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from dataclasses import fields as dataclass_fields
from datetime import datetime

from nurture.inbound import signup_inbox
from nurture.inbound.contacts import ContactIn


@dataclass(frozen=True)
class Signup:
    """A public opt-in as the door accepted it."""

    inp: ContactIn
    received_at: datetime
    time_scale: float

    def held(self) -> signup_inbox.Held:
        fields = asdict(self.inp)
        fields["consent_at"] = self.inp.consent_at.isoformat()
        fields["topics"] = list(self.inp.topics)
        return signup_inbox.Held(self.inp.email, fields, self.time_scale, self.received_at)

    @classmethod
    def from_held(cls, held: signup_inbox.Held) -> Signup:
        """Raises KeyError, TypeError or ValueError for a row no current code could have written."""
        values = {k: v for k, v in held.fields.items() if k in _CONTACT_FIELDS}
        values["consent_at"] = datetime.fromisoformat(values["consent_at"])
        values["topics"] = tuple(values.get("topics") or ())
        return cls(ContactIn(**values), held.received_at, held.time_scale)


_CONTACT_FIELDS = frozenset(f.name for f in dataclass_fields(ContactIn))
