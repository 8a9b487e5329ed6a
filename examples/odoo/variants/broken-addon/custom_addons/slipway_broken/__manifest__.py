{
    "name": "Slipway Broken",
    "version": "16.0.1.0.0",
    "summary": "Imports a library the image lacks: Odoo logs it and serves on (MODULE_LOAD_ERROR)",
    "depends": ["base"],
    "license": "LGPL-3",
    "installable": True,
}
