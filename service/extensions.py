"""The domain's extensions, created once and unbound; the factory binds them with ``init_app``.
The HTTP layer's own (the OpenAPI document, rate limits) are in ``blueprints/extensions.py``."""
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from service.db import Base, render_item

db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
# Batch mode lets later migrations alter tables on SQLite too.
migrate = Migrate(compare_type=True, render_as_batch=True, render_item=render_item)
