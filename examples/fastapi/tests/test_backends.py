import os

import pytest
from fastapi.testclient import TestClient

from app import backends
from app.main import app

client = TestClient(app)
real = pytest.mark.skipif(
    not (os.environ.get("POSTGRES_HOST") and os.environ.get("REDIS_HOST")),
    reason="no database and cache configured (POSTGRES_HOST, REDIS_HOST)",
)


def test_health_is_503_naming_the_backend_that_does_not_answer(monkeypatch):
    monkeypatch.setenv("POSTGRES_HOST", "db")
    monkeypatch.setenv("REDIS_HOST", "cache")

    def refused():
        raise OSError("connection to server at \"db\", port 5432 failed: Connection refused")

    monkeypatch.setattr(backends, "connect_database", refused)
    monkeypatch.setattr(backends, "connect_cache", lambda: type("R", (), {"ping": lambda self: True})())
    response = client.get("/health")
    assert response.status_code == 503
    assert response.json() == {"status": "fail", "backends": {"database": False, "cache": True}}


def test_health_names_no_backend_when_none_is_configured(monkeypatch):
    monkeypatch.delenv("POSTGRES_HOST", raising=False)
    monkeypatch.delenv("REDIS_HOST", raising=False)
    assert "backends" not in client.get("/health").json()


@real
def test_writes_and_reads_postgres_and_redis():
    conn = backends.connect_database()
    try:
        with conn.cursor() as cr:
            cr.execute("CREATE TABLE IF NOT EXISTS slipway_item (sku text PRIMARY KEY, name text)")
            cr.execute("INSERT INTO slipway_item VALUES (%s, %s) ON CONFLICT DO NOTHING", ("ROPE-10", "Rope"))
            conn.commit()
            cr.execute("SELECT name FROM slipway_item WHERE sku = %s", ("ROPE-10",))
            assert cr.fetchone() == ("Rope",)
    finally:
        conn.close()
    cache = backends.connect_cache()
    cache.set("slipway:item:ROPE-10", "Rope")
    assert cache.get("slipway:item:ROPE-10") == b"Rope"
    assert client.get("/health").json()["backends"] == {"database": True, "cache": True}
