import pytest

from app.items import Catalogue, Item, ItemError, parse_item


def test_normalises_the_sku():
    assert parse_item({"sku": " ab-1 ", "name": "Anchor", "price_cents": 1200}).sku == "AB-1"


@pytest.mark.parametrize(
    "payload",
    [
        {"name": "Anchor", "price_cents": 1},
        {"sku": "A", "price_cents": 1},
        {"sku": "A", "name": "Anchor", "price_cents": -1},
        {"sku": "A", "name": "Anchor", "price_cents": "12"},
        {"sku": "A", "name": "Anchor", "price_cents": True},
    ],
)
def test_refuses_an_invalid_item(payload):
    with pytest.raises(ItemError):
        parse_item(payload)


def test_refuses_a_duplicate_sku():
    catalogue = Catalogue()
    catalogue.add(Item("A", "Anchor", 1))
    with pytest.raises(ItemError):
        catalogue.add(Item("A", "Another", 2))


def test_lists_items_sorted_by_sku():
    catalogue = Catalogue()
    catalogue.add(Item("B", "Buoy", 2))
    catalogue.add(Item("A", "Anchor", 1))
    assert [item.sku for item in catalogue.all()] == ["A", "B"]
