"""`odoo [--version] [--addons-path P[,P]] [--http-port N] [--http-interface A]`."""

import argparse
import logging
import os
import shutil
import sys

from . import addons, db, http, release


def main(argv=None):
    parser = argparse.ArgumentParser(prog="odoo")
    parser.add_argument("--version", action="store_true", help="print the server version and exit")
    parser.add_argument(
        "--addons-path",
        default=os.environ.get("ODOO_ADDONS_PATH", "/mnt/extra-addons"),
        help="comma-separated directories holding modules",
    )
    parser.add_argument("--http-port", type=int, default=int(os.environ.get("ODOO_HTTP_PORT", "8069")))
    parser.add_argument("--http-interface", default="0.0.0.0")
    args = parser.parse_args(argv)
    if args.version:
        print("%s Server %s" % (release.product_name, release.version))
        return 0
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(process)d %(levelname)s ? %(name)s: %(message)s"
    )
    log = logging.getLogger("odoo")
    log.info("Odoo version %s", release.version)
    # As Odoo's report engine does at start: PDF reports need the wkhtmltopdf binary.
    wkhtmltopdf = shutil.which("wkhtmltopdf")
    if wkhtmltopdf is None:
        log.warning("You need Wkhtmltopdf to print a pdf version of the reports.")
    else:
        log.info("Will use the Wkhtmltopdf binary at %s", wkhtmltopdf)
    paths = [p.strip() for p in args.addons_path.split(",") if p.strip()]
    log.info("addons paths: %s", paths)
    try:
        modules = addons.load(paths)
    except Exception:
        log.exception("Failed to load modules")
        return 1
    log.info("%d modules loaded: %s", len(modules), ", ".join(sorted(modules)))
    if db.configured():
        log.info("database: %s", "connected" if db.check() else "not connected")
    http.serve(modules, args.http_interface, args.http_port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
