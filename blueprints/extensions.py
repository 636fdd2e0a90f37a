"""The HTTP layer's extensions, created once and unbound: the OpenAPI document (flask-smorest) and
the rate limits (Flask-Limiter). ``blueprints.create_web_app`` binds them."""
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_smorest import Api

api = Api()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
