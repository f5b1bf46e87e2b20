"""Accounts: passwords, logins and their lockouts, and password resets by email."""

from mvsic.settings.environment import env

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"django.contrib.auth.password_validation.{name}"}
    for name in (
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    )
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses locked-out attempts
    "django.contrib.auth.backends.ModelBackend",
]
# Wrong passwords (login page or token endpoint) answered as such per account, and per
# address; the next attempt is locked out for MVSIC_LOCKOUT_HOURS (axes locks on the failure
# that reaches its limit, hence + 1). An admin lifts it by deleting the access attempts.
AXES_FAILURE_LIMIT = env.int("MVSIC_LOGIN_FAILURE_LIMIT", default=5) + 1
AXES_COOLOFF_TIME = env.float("MVSIC_LOCKOUT_HOURS", default=1.0)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_CLIENT_IP_CALLABLE = "mvsic.client_ip.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "analytics:dashboard"
LOGOUT_REDIRECT_URL = "home"
# Password resets by email: consolemail:// prints them (development); smtp+tls://user:password@host:587
# sends them. The test suite uses Django's in-memory outbox.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Mvsic <noreply@localhost>")
