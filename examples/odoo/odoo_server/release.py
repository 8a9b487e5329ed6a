"""Version of the server, printed by `odoo --version` as Odoo does ("Odoo Server 16.0")."""

version_info = (16, 0, 0, "final", 0)
serie = "%d.%d" % version_info[:2]
version = serie
product_name = "Odoo"
