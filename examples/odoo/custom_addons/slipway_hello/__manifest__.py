{
    "name": "Slipway Hello",
    "version": "16.0.1.0.0",
    "summary": "Greets, and tells which release is serving (changed between releases in the e2e suite)",
    "depends": ["base"],
    "license": "LGPL-3",
    "installable": True,
}
