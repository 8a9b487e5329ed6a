"""The service's backends, when configured: PostgreSQL (POSTGRES_HOST, ...) and Redis (REDIS_HOST, ...),
as the build report asks ("tests with actual PostgreSQL/Redis dependencies"). Unconfigured, nothing is
checked. A failure is logged with the driver's own message (what Slipway's smoke gate reads:
DATABASE_CONNECTION_ERROR) and makes /health answer 503."""

import logging
import os

_logger = logging.getLogger("app.backends")


def database_configured():
    return bool(os.environ.get("POSTGRES_HOST"))


def cache_configured():
    return bool(os.environ.get("REDIS_HOST"))


def connect_database():
    import psycopg2

    return psycopg2.connect(
        host=os.environ["POSTGRES_HOST"],
        port=int(os.environ.get("POSTGRES_PORT", "5432")),
        user=os.environ.get("POSTGRES_USER", "app"),
        password=os.environ.get("POSTGRES_PASSWORD", ""),
        dbname=os.environ.get("POSTGRES_DB", os.environ.get("POSTGRES_USER", "app")),
        connect_timeout=3,
    )


def connect_cache():
    import redis

    return redis.Redis(
        host=os.environ["REDIS_HOST"],
        port=int(os.environ.get("REDIS_PORT", "6379")),
        password=os.environ.get("REDIS_PASSWORD") or None,
        socket_connect_timeout=3,
    )


def _probe(name, check):
    try:
        return bool(check())
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [""])[0]
        _logger.error("%s unreachable: %s.%s: %s", name, type(exc).__module__, type(exc).__name__, first)
        return False


def _database_answers():
    conn = connect_database()
    try:
        with conn.cursor() as cr:
            cr.execute("SELECT 1")
            return cr.fetchone() == (1,)
    finally:
        conn.close()


def status():
    """{backend: True/False} for each configured backend."""
    found = {}
    if database_configured():
        found["database"] = _probe("database", _database_answers)
    if cache_configured():
        found["cache"] = _probe("cache", lambda: connect_cache().ping())
    return found
