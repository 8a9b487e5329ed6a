import reportlab_pro  # noqa: F401  (not in the image)
