"""HTTP: parse with schemas, call one service function, commit once, dump."""
from blueprints.agencies import blp as agencies
from blueprints.audit import blp as audit
from blueprints.auth import blp as auth
from blueprints.deliveries import blp as deliveries
from blueprints.docs import docs
from blueprints.http import http
from blueprints.program import blp as program
from blueprints.recipients import blp as recipients
from blueprints.tasks import blp as tasks
from blueprints.vendors import blp as vendors

# The http blueprint first: it documents the others as they are registered.
BLUEPRINTS = [http, docs, auth, program, agencies, recipients, vendors, deliveries, tasks, audit]
