"""An Odoo-shaped server for Slipway's examples: the interface of `odoo` that a release checks
(`odoo --version`, addons under an addons path, HTTP on 8069 with /web/health), on the stdlib only.
It is not Odoo: Odoo itself cannot be installed on the machine the examples are proven on."""
