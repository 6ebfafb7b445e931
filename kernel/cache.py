"""The cache backend: django-redis, failing open while Redis is down."""

import logging

from django_redis.cache import RedisCache
from django_redis.exceptions import ConnectionInterrupted

logger = logging.getLogger(__name__)


class FailOpenRedisCache(RedisCache):
    """With IGNORE_EXCEPTIONS a failed call is a miss; `add` alone needs more. allauth's rate
    limit takes a lock with `add` and counts a failed one as "too many attempts", which would
    turn every sign-in away while Redis is down. A failed `add` answers True here (as if the key
    were free): the limits let requests through until Redis is back, and customers can pay."""

    def add(self, *args, **kwargs):
        try:
            return self.client.add(*args, **kwargs)
        except ConnectionInterrupted:
            logger.warning("Redis is unreachable; rate limits are not counted until it is back")
            return True
