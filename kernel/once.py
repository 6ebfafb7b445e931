"""One-time form tokens: a form posted twice (a double click, a reload) does its work once.

The page puts a fresh token in the form; the view claims it before doing anything. The first
claim goes on and records where its result is; a repeat is sent there instead.
"""

from django.core.cache import cache

ONCE_SECONDS = 24 * 60 * 60
PENDING = "pending"


def once_claim(scope: str, token) -> str | None:
    """None when this token is new (go on); otherwise what the first post recorded, or PENDING
    while it is still working."""
    if not token:
        return None
    key = f"once:{scope}:{token}"
    if cache.add(key, PENDING, ONCE_SECONDS):
        return None
    return cache.get(key)  # None when the cache is down: the form goes on (fails open)


def once_done(scope: str, token, result: str) -> None:
    if token:
        cache.set(f"once:{scope}:{token}", result, ONCE_SECONDS)


def once_release(scope: str, token) -> None:
    """The first post failed (a message for the clerk): the same form may be sent again."""
    if token:
        cache.delete(f"once:{scope}:{token}")
