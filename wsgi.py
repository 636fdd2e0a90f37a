"""The composition root: the service's app with the HTTP blueprints."""
from blueprints import BLUEPRINTS
from service.app import create_app

app = create_app(blueprints=BLUEPRINTS)
