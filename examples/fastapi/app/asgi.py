"""What gunicorn serves: the app with its start-up wiring (telemetry). The tests import app.main, not
this module: a start-up failure here is invisible to them, which is why Slipway boots the image."""

from .main import app as _app
from .telemetry import instrument

app = instrument(_app)
