"""The HTTP API: Django REST framework, expiring tokens (django-rest-knox) and the OpenAPI
schema (drf-spectacular)."""

from datetime import timedelta

from mvsic.settings.environment import env

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # First: its WWW-Authenticate header makes a refused request a 401, not a 403.
        "knox.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}
# API tokens expire (django-rest-knox); a password change revokes them (mvsic/tokens.py).
REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=env.float("MVSIC_TOKEN_TTL_HOURS", default=24.0)),
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Mvsic API",
    "DESCRIPTION": "Fan events in, artist statistics out.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # How the event endpoint knows its client (analytics/clients.py).
    "APPEND_COMPONENTS": {
        "securitySchemes": {
            "ingestKey": {
                "type": "apiKey",
                "in": "header",
                "name": "Authorization",
                "description": "`Ingest <key>`, from `manage.py ingest_key create NAME`",
            },
            "listenerCookie": {
                "type": "apiKey",
                "in": "cookie",
                "name": "mvsic_listener",
                "description": "The signed listener cookie every page of the site sets",
            },
        }
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "analytics.schema.events_request_exact",
    ],
}
