import pytest

import slipway_invoice
from slipway_invoice.models.invoice import InvoiceError, line_subtotal, to_cents, totals


def test_rounds_half_up_to_cents():
    assert to_cents("12.345") == 1235
    assert to_cents(0.1) == 10


def test_applies_the_discount_to_a_line():
    assert line_subtotal(3, "10.00", discount_percent=10) == 2700


@pytest.mark.parametrize("quantity", [0, -1])
def test_refuses_a_quantity_that_is_not_positive(quantity):
    with pytest.raises(InvoiceError):
        line_subtotal(quantity, "1.00")


def test_refuses_a_discount_out_of_range():
    with pytest.raises(InvoiceError):
        line_subtotal(1, "1.00", discount_percent=120)


def test_sums_taxes_per_rate():
    result = totals(
        [
            {"quantity": 1, "unit_price": "100", "tax_rate": 21},
            {"quantity": 2, "unit_price": "50", "tax_rate": 21},
            {"quantity": 1, "unit_price": "10", "tax_rate": 6},
        ]
    )
    assert result == {"untaxed": 21000, "taxes": {21: 4200, 6: 60}, "total": 25260}


def test_refuses_an_empty_invoice():
    with pytest.raises(InvoiceError):
        totals([])


def test_serves_a_sample_invoice():
    assert slipway_invoice.ROUTES["/slipway/invoice/sample"]()["total"] == 5315
