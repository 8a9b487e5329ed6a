{
    "name": "Slipway Reports",
    "version": "16.0.0.1.0",
    "summary": "Broken variant low-coverage: a module shipped without tests",
    "depends": ["slipway_invoice"],
    "license": "LGPL-3",
    "installable": True,
}
