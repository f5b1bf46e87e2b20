import re

LISTENER_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")


def listener_id_valid(value) -> bool:
    """A listener id is 1-64 characters of A-Z, a-z, 0-9, '_' or '-'."""
    return isinstance(value, str) and LISTENER_RE.fullmatch(value) is not None
