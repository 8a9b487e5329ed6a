"""Stands in for the installed `opentelemetry-api` distribution (the package is there, its `exporter`
subpackage is not), so the failure reads exactly as in the build report."""
