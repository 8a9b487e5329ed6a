"""The app's logic: an in-memory catalogue of items (plain functions, tested directly)."""

from dataclasses import asdict, dataclass


class ItemError(ValueError):
    pass


@dataclass(frozen=True)
class Item:
    sku: str
    name: str
    price_cents: int

    def as_dict(self):
        return asdict(self)


def parse_item(payload):
    sku = str(payload.get("sku", "")).strip().upper()
    name = str(payload.get("name", "")).strip()
    price = payload.get("price_cents")
    if not sku or not name:
        raise ItemError("sku and name are required")
    if not isinstance(price, int) or isinstance(price, bool) or price < 0:
        raise ItemError("price_cents must be a non-negative integer")
    return Item(sku=sku, name=name, price_cents=price)


class Catalogue:
    def __init__(self):
        self._items = {}

    def add(self, item):
        if item.sku in self._items:
            raise ItemError("sku %s already exists" % item.sku)
        self._items[item.sku] = item
        return item

    def get(self, sku):
        return self._items.get(sku.upper())

    def all(self):
        return [self._items[sku] for sku in sorted(self._items)]
