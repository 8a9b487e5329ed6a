"""The database, when one is configured (POSTGRES_HOST, as SOP step 7 runs the image with
`-e POSTGRES_HOST=db`): psycopg2 (Debian's python3-psycopg2), the POSTGRES_* variables of the official
images. Errors are logged as Odoo 16's odoo/sql_db.py logs them (`Connection to the database failed`),
followed by psycopg2's own message, which is what Slipway's smoke gate reads
(DATABASE_CONNECTION_ERROR)."""

import logging
import os

_logger = logging.getLogger("odoo.sql_db")


def configured():
    return bool(os.environ.get("POSTGRES_HOST"))


def connect():
    import psycopg2

    return psycopg2.connect(
        host=os.environ["POSTGRES_HOST"],
        port=int(os.environ.get("POSTGRES_PORT", "5432")),
        user=os.environ.get("POSTGRES_USER", "odoo"),
        password=os.environ.get("POSTGRES_PASSWORD", ""),
        dbname=os.environ.get("POSTGRES_DB", os.environ.get("POSTGRES_USER", "odoo")),
        connect_timeout=3,
    )


def check():
    """True when the database answers `SELECT 1`; logs why not otherwise."""
    try:
        conn = connect()
    except Exception as exc:
        _logger.info("Connection to the database failed")
        for line in str(exc).strip().splitlines():
            _logger.error("%s: %s", type(exc).__module__ + "." + type(exc).__name__, line.strip())
            break
        return False
    try:
        with conn.cursor() as cr:
            cr.execute("SELECT 1")
            return cr.fetchone() == (1,)
    finally:
        conn.close()
