"""Invoice arithmetic in integer cents: line subtotals, taxes per rate, totals."""

from decimal import ROUND_HALF_UP, Decimal


class InvoiceError(ValueError):
    pass


def to_cents(amount):
    """'12.345' or 12.345 -> 1235 (half up, as accountants round)."""
    value = Decimal(str(amount)) * 100
    return int(value.quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def line_subtotal(quantity, unit_price, discount_percent=0):
    if quantity <= 0:
        raise InvoiceError("quantity must be positive, got %r" % quantity)
    if not 0 <= discount_percent <= 100:
        raise InvoiceError("discount must be within 0..100, got %r" % discount_percent)
    gross = Decimal(str(quantity)) * Decimal(str(unit_price))
    net = gross * (Decimal(100) - Decimal(str(discount_percent))) / Decimal(100)
    return to_cents(net)


def totals(lines):
    """lines: [{"quantity", "unit_price", "tax_rate", "discount"?}] -> untaxed, taxes per rate, total."""
    if not lines:
        raise InvoiceError("an invoice needs at least one line")
    untaxed = 0
    taxes = {}
    for line in lines:
        subtotal = line_subtotal(line["quantity"], line["unit_price"], line.get("discount", 0))
        untaxed += subtotal
        rate = line.get("tax_rate", 0)
        taxes[rate] = taxes.get(rate, 0) + subtotal
    tax_amounts = {rate: to_cents(Decimal(base) * Decimal(str(rate)) / 10000) for rate, base in taxes.items()}
    return {
        "untaxed": untaxed,
        "taxes": tax_amounts,
        "total": untaxed + sum(tax_amounts.values()),
    }


def sample():
    return totals(
        [
            {"quantity": 2, "unit_price": "19.99", "tax_rate": 21},
            {"quantity": 1, "unit_price": "5.00", "tax_rate": 6, "discount": 10},
        ]
    )
