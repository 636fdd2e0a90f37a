"""Extensions, created once and unbound; the factory binds them with ``init_app``."""
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy

from service.db import Base, render_item

db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
# Batch mode lets later migrations alter tables on SQLite too.
migrate = Migrate(compare_type=True, render_as_batch=True, render_item=render_item)
api = Api()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
