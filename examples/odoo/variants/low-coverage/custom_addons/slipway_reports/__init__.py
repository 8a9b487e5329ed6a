from .models import aging
