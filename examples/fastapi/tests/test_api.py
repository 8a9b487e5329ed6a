from fastapi.testclient import TestClient

from app.main import VERSION, app

client = TestClient(app)


def test_reports_health():
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["version"]) == ("ok", VERSION)


def test_adds_lists_and_gets_an_item():
    created = client.post("/items", json={"sku": "rope-10", "name": "Rope", "price_cents": 990})
    assert created.status_code == 201
    assert client.get("/items/ROPE-10").json()["name"] == "Rope"
    assert "ROPE-10" in [item["sku"] for item in client.get("/items").json()]


def test_answers_404_for_an_unknown_item():
    assert client.get("/items/NOPE").status_code == 404


def test_answers_422_for_an_invalid_item():
    assert client.post("/items", json={"sku": "", "name": "x", "price_cents": 1}).status_code == 422
