"""Rules of the text people send that more than one way in must apply alike (the API's schemas and
the bulk import): what a phone number looks like."""
from __future__ import annotations

import re

# A phone number as people write it: +62 812-3456-7890, 0812 3456 7890, (0333) 424 242: 6 to 15
# digits, with spaces, hyphens, dots or brackets between them.
PHONE_PATTERN = r"^(?=(?:\D*\d){6,15}\D*$)\+?[0-9 ().-]{6,24}$"
PHONE_ERROR = "not a phone number"
_PHONE = re.compile(PHONE_PATTERN)


def phone_error(value: str) -> str | None:
    return None if _PHONE.match(value) else PHONE_ERROR
