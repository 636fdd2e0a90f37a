"""Configuration defaults. Every key can be set from the environment as ``RANTANG_<KEY>``."""
from __future__ import annotations

DEFAULT_SECRET_KEY = "dev-only-not-secret"


class Config:
    # "development" or "production"; production refuses the default secret key and sends HSTS.
    ENV = "development"
    SECRET_KEY = DEFAULT_SECRET_KEY
    # Filled in by the factory: DATABASE_URL, else a SQLite file in the instance folder.
    SQLALCHEMY_DATABASE_URI: str | None = None
    # No pre-ping: it costs every request a round trip. A pooled connection the server closed (a
    # restart) is noticed at checkout without one (service/database.py) and replaced.
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_recycle": 1800}
    # While the database cannot be reached, requests get 503 with this Retry-After (seconds).
    DATABASE_RETRY_AFTER_SECONDS = 5
    # SQLite: how long a writer waits for another to finish before the request gets a 503.
    SQLITE_BUSY_TIMEOUT = 15.0
    # GET requests run without BEGIN/ROLLBACK on PostgreSQL (see blueprints/caller.py).
    READS_WITHOUT_TRANSACTION = True
    # Request bodies larger than this are refused with 413 (a CSV of ~100,000 recipients fits).
    MAX_CONTENT_LENGTH = 20 * 1024 * 1024

    # Authentication
    TOKEN_TTL_HOURS = 24 * 7
    # How long a process may remember who a token belongs to (PostgreSQL only; 0: ask every time).
    # Any change to tokens, users, agencies or the program is forgotten at once: service/accounts/callers.py
    CALLER_CACHE_SECONDS = 60
    PASSWORD_HASH_METHOD = "scrypt"
    # How long a process may keep its k-d tree of the elderly no stall feeds, the pre-filter of
    # volunteers' deliver opportunities (0: a box on the recipients' point index every time). Whom
    # it holds is checked exactly on every request; someone newly left without a stall may take
    # this long to appear (service/volunteers/claims.py).
    OPPORTUNITIES_CACHE_SECONDS = 60
    # How long a process may keep the public statistics (GET /public/stats) before counting again.
    PUBLIC_STATS_CACHE_SECONDS = 300
    # Rate limits (Flask-Limiter). memory:// counts per process: with several web processes set
    # redis://host:6379 so that they share one count (`make run` uses the local Redis when it answers).
    # If Redis stops answering, each process counts in memory until it is back.
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_ENABLED = True
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_KEY_PREFIX = "rantang"
    # Sign-in attempts per client address; refused ones per account from one address; and refused
    # ones per account from any address it has not signed in from within SIGN_IN_PLACE_DAYS (guesses
    # spread over many addresses are slowed, but a stranger cannot lock the program office out
    # where it signs in every day).
    RATELIMIT_AUTH = "10 per minute"
    RATELIMIT_AUTH_ACCOUNT = "10 per 15 minutes"
    RATELIMIT_AUTH_ACCOUNT_ANYWHERE = "50 per hour"
    SIGN_IN_PLACE_DAYS = 30
    # Volunteer sign-ups per client address (a flood from one address is refused with 429); a
    # volunteer's new phone or email per address and per account alike.
    RATELIMIT_SIGNUP = "5 per hour"
    # Moves of a volunteer's own point or village per account (opportunities are worked out from
    # cells of about 1 km; moving is no way to measure them).
    RATELIMIT_VOLUNTEER_MOVE = "3 per day"
    # Complaints filed per client address (the API and Open311 alike); lookups of a complaint by its
    # tracking code per address, and of those unknown codes (guessing) per address.
    RATELIMIT_COMPLAINT = "10 per hour"
    RATELIMIT_COMPLAINT_LOOKUP = "60 per hour"
    RATELIMIT_COMPLAINT_MISSES = "10 per hour"
    # Proxies (load balancers) in front of the service that set X-Forwarded-For: the client's address
    # is read from that many hops of the header. 0: the header is not trusted at all.
    TRUSTED_PROXIES = 0

    # Geocoding of recipients' addresses: a geopy service name ("nominatim", "photon", ...) or ""
    # for none (then the village centre is used). The request never waits longer than the timeout.
    GEOCODER = ""
    GEOCODER_OPTIONS: dict = {}
    GEOCODER_USER_AGENT = "rantang"
    GEOCODER_TIMEOUT = 3.0
    GEOCODER_REGION = "Banyuwangi, Jawa Timur, Indonesia"
    # A geocoded point farther than this from the village centre is a wrong match (there are 32
    # hamlets called Krajan around Banyuwangi alone): the village centre is used instead.
    GEOCODER_MAX_KM_FROM_VILLAGE = 15.0

    # A stall's or a recipient's point farther than this from its village centre is taken for a
    # typing mistake (or a phone's default of (0, 0)) and refused.
    VENDOR_MAX_KM_FROM_VILLAGE = 15.0
    RECIPIENT_MAX_KM_FROM_VILLAGE = 15.0
    # A report of a dirty stall or bad food that names no stall is shown to staff with the stall
    # nearest its point, when one is this near (a phone's fix in town is good to some tens of metres).
    COMPLAINT_STALL_NEAR_KM = 0.1

    # The rebalance gives each recipient this many nearest stalls within reach to choose from (a
    # k-d tree finds them), and every stall within reach to those it could not place. On 50,000
    # recipients and 2,000 stalls of 30 places (bench/assignment.py) 12 reaches the exact optimum's
    # coverage and 1.000004 of its distance (15 and 30: to 5 digits), with 0.4 of the arcs of 30;
    # 12 solves in 0.85 of the time of 15. 10 is 1.00002 of the distance, 8 covers one fewer.
    ASSIGNMENT_NEIGHBOURS = 12

    # Answers to writes sent with an Idempotency-Key are replayed to retries for at least this long.
    IDEMPOTENCY_KEEP_HOURS = 72
    # Photo evidence of deliveries: JPEG or PNG up to this size, kept by content hash in this
    # folder ("": the instance folder's photos/).
    PHOTO_MAX_BYTES = 5 * 1024 * 1024
    # And at most this many pixels (a phone's photo has 12-50 million; more is a decompression bomb).
    PHOTO_MAX_PIXELS = 40_000_000
    PHOTO_FOLDER = ""
    # One picture, one meal: a photo within this many days of another meal's, whose perceptual hash
    # differs by at most PHOTO_NEAR_BITS of 64, is the same picture (re-encoded, a pixel changed).
    PHOTO_DUPLICATE_DAYS = 30
    PHOTO_NEAR_BITS = 10
    # The phone's GPS position in a photo's EXIF is removed before it is kept, unless the program
    # keeps it on purpose (the confirmation's own latitude and longitude are the evidence of place).
    PHOTO_KEEP_LOCATION = False

    # The job runner (`flask scheduler run`): how late a job may still run after its time (the
    # runner was busy or paused), and how often it re-reads the program's times and timezone.
    SCHEDULER_MISFIRE_GRACE_SECONDS = 3 * 3600
    SCHEDULER_SETTINGS_POLL_SECONDS = 60
    # How often the runner, started while the database is down, tries to reach it.
    SCHEDULER_DATABASE_RETRY_SECONDS = 5

    # The open day's coverage is served from a snapshot the job runner takes this often; an
    # older one is not trusted and the day is counted on the spot instead.
    COVERAGE_SNAPSHOT_SECONDS = 60
    COVERAGE_SNAPSHOT_MAX_AGE_SECONDS = 300

    # Language (Flask-Babel): Bahasa Indonesia unless the signed-in user chose otherwise (PATCH
    # /me) or the browser asks for English. Messages are service/translations/<lang>/LC_MESSAGES:
    # "messages" (the service's and the API's), "pages" (the pages' own words).
    LANGUAGE = "id"
    BABEL_TRANSLATION_DIRECTORIES = "translations;translations"
    BABEL_DOMAIN = "messages;pages"

    # Pages (blueprints/pages): a signed cookie session (the sign-in's token and the CSRF secret),
    # never read or written on /api. Secure in production; the CSRF token lives as long as the
    # session, so that a confirmation queued offline for hours is still accepted.
    SESSION_COOKIE_NAME = "rantang"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE: bool | None = None  # None: True in production
    WTF_CSRF_CHECK_DEFAULT = False
    WTF_CSRF_TIME_LIMIT = None
    WTF_CSRF_SSL_STRICT = False  # no Referer is ever sent (Referrer-Policy: no-referrer)
    # Responses are compressed (Flask-Compress): brotli, else gzip; streamed exports are not held back.
    COMPRESS_ALGORITHM = ["br", "gzip"]
    COMPRESS_MIMETYPES = ["text/html", "text/css", "text/csv", "application/javascript", "application/json",
                          "application/problem+json", "application/manifest+json", "image/svg+xml"]
    COMPRESS_MIN_SIZE = 512
    COMPRESS_STREAMS = False
    COMPRESS_REGISTER = True

    # The dashboard's map (/dasbor): the villages' own points on a plain background by default, so
    # that an office without internet has its map. A tile server's URL ({z}/{x}/{y}, such as an
    # office's own "https://peta.example.go.id/tiles/{z}/{x}/{y}.png") draws its tiles under them;
    # its host is then allowed for images on the dashboard's pages, and nothing else is.
    MAP_TILE_URL = ""
    MAP_TILE_ATTRIBUTION = ""  # shown under the map when tiles are drawn: "© OpenStreetMap contributors"

    # OpenAPI (flask-smorest)
    API_TITLE = "Rantang API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
    # The docs page (/api/v1/docs) is blueprints/docs.py: Swagger UI from a local copy, no CDN.
    OPENAPI_SWAGGER_UI_PATH = None
