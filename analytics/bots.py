"""Crawler and bot user agents, by the maintained `crawler-user-agents` list.

MVSIC_BOT_ALLOW names substrings of user agents that the list flags but that are credited
(say, a partner's app whose user agent mentions a library the list treats as a bot).
An empty user agent is a bot: every browser sends one.
"""

from functools import lru_cache

import crawleruseragents
from django.conf import settings


def user_agent_is_bot(text: str) -> bool:
    return _is_bot(text, tuple(settings.MVSIC_BOT_ALLOW))


@lru_cache(maxsize=4096)
def _is_bot(text: str, allow: tuple[str, ...]) -> bool:
    if not text.strip():
        return True
    if any(part and part in text for part in allow):
        return False
    return crawleruseragents.is_crawler(text)
