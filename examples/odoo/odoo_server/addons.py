"""Addon discovery and loading, the way Odoo does it: every directory under an addons path holding a
`__manifest__.py` is a module; installable modules are imported at start. A module that fails to
import is logged as Odoo 16 logs it (odoo/modules/module.py, `load_openerp_module`: CRITICAL
`Couldn't load module NAME`, then the error) and left out, and the server goes on serving /web/health,
as Odoo's does: health alone cannot see it (Slipway's smoke gate reads the log: MODULE_LOAD_ERROR)."""

import ast
import importlib
import logging
import os
import sys

_logger = logging.getLogger("odoo.modules.loading")
_module_logger = logging.getLogger("odoo.modules.module")


def read_manifest(module_dir):
    with open(os.path.join(module_dir, "__manifest__.py"), encoding="utf-8") as handle:
        return ast.literal_eval(handle.read())


def discover(addons_paths):
    """Returns {name: manifest} for every installable module under the given paths (first path wins)."""
    found = {}
    for path in addons_paths:
        if not os.path.isdir(path):
            raise FileNotFoundError("addons path %s does not exist" % path)
        for name in sorted(os.listdir(path)):
            module_dir = os.path.join(path, name)
            if name in found or not os.path.isfile(os.path.join(module_dir, "__manifest__.py")):
                continue
            manifest = read_manifest(module_dir)
            if manifest.get("installable", True):
                found[name] = dict(manifest, path=path)
    return found


def load(addons_paths):
    """Imports every module; returns {name: python module} of those that loaded."""
    for path in addons_paths:
        if path not in sys.path:
            sys.path.insert(0, path)
    loaded = {}
    for name, manifest in discover(addons_paths).items():
        _logger.info("loading module %s (%s)", name, manifest.get("version", "?"))
        try:
            loaded[name] = importlib.import_module(name)
        except Exception as exc:
            _module_logger.critical("Couldn't load module %s", name)
            _module_logger.critical("%s: %s", type(exc).__name__, exc)
    return loaded
