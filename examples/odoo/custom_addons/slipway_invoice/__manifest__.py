{
    "name": "Slipway Invoice",
    "version": "16.0.1.2.0",
    "summary": "Invoice totals with per-line taxes and rounding (the logic the tests cover)",
    "depends": ["base"],
    "license": "LGPL-3",
    "installable": True,
}
