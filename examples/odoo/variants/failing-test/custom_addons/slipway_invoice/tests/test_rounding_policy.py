# Broken variant "failing-test": a test that fails (the invoice rounds half up, this expects banker's rounding).
from slipway_invoice.models.invoice import to_cents


def test_rounds_half_to_even():
    assert to_cents("0.125") == 12
