"""The composition root: the service's app with its HTTP layer."""
from blueprints import create_web_app

app = create_web_app()
