"""With a database (tests.services hands POSTGRES_* to the test run), write and read a real table."""

import os

import pytest

pytestmark = pytest.mark.skipif(
    not os.environ.get("POSTGRES_HOST"), reason="no database configured (POSTGRES_HOST)"
)


def test_writes_and_reads_a_greeting_row():
    from odoo_server import db

    conn = db.connect()
    try:
        with conn.cursor() as cr:
            cr.execute("CREATE TABLE IF NOT EXISTS slipway_greeting (id serial PRIMARY KEY, text text)")
            cr.execute("INSERT INTO slipway_greeting (text) VALUES (%s) RETURNING id", ("hello",))
            (row_id,) = cr.fetchone()
            conn.commit()
            cr.execute("SELECT text FROM slipway_greeting WHERE id = %s", (row_id,))
            assert cr.fetchone() == ("hello",)
    finally:
        conn.close()
