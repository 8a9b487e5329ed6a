"""Addon discovery and loading, the way Odoo does it: every directory under an addons path holding a
`__manifest__.py` is a module; installable modules are imported at start, and a module that fails to
import stops the server (the release must see that before anything is pushed)."""

import ast
import importlib
import logging
import os
import sys

_logger = logging.getLogger("odoo.modules.loading")


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
    """Imports every module; returns {name: python module}. Raises what the import raises."""
    for path in addons_paths:
        if path not in sys.path:
            sys.path.insert(0, path)
    loaded = {}
    for name, manifest in discover(addons_paths).items():
        _logger.info("loading module %s (%s)", name, manifest.get("version", "?"))
        loaded[name] = importlib.import_module(name)
    return loaded
