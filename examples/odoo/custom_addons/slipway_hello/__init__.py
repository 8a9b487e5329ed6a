from .models import greeting

ROUTES = {"/slipway/hello": greeting.hello}
