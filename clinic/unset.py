"""The "not given" marker of `_update` services, where None is a real value
(e.g. "no room")."""

import enum
from typing import Final


class Keep(enum.Enum):
    """Marks an argument of an `_update` service the caller did not pass."""

    KEEP = "keep"


KEEP: Final = Keep.KEEP
