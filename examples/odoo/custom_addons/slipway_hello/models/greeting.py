"""What /slipway/hello answers. The e2e suite's "one-file change" release edits GREETING."""

GREETING = "Hello from Slipway"


def greet(name=None):
    """Returns the greeting, addressed when a name is given."""
    if name is None or not name.strip():
        return GREETING
    return "%s, %s" % (GREETING, name.strip())


def hello():
    return {"greeting": greet(), "module": "slipway_hello"}
