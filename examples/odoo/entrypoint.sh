#!/bin/sh
# Like the official Odoo image's entrypoint: flags alone run odoo with them; anything else runs as given.
set -e
case "${1:-}" in
  -*) set -- odoo "$@" ;;
esac
exec "$@"
