from .models import invoice

ROUTES = {"/slipway/invoice/sample": invoice.sample}
