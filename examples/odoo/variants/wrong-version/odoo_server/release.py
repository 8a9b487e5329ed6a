"""Broken variant "wrong-version": the image carries Odoo 15.0 where 16.0 is expected."""

version_info = (15, 0, 0, "final", 0)
serie = "%d.%d" % version_info[:2]
version = serie
product_name = "Odoo"
