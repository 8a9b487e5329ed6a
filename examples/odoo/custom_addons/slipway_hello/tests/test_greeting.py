import slipway_hello
from slipway_hello.models import greeting


def test_greets_without_a_name():
    assert greeting.greet() == greeting.GREETING


def test_ignores_a_blank_name():
    assert greeting.greet("   ") == greeting.GREETING


def test_addresses_a_name():
    assert greeting.greet(" Ada ") == greeting.GREETING + ", Ada"


def test_declares_its_route():
    assert slipway_hello.ROUTES["/slipway/hello"]() == {
        "greeting": greeting.GREETING,
        "module": "slipway_hello",
    }
