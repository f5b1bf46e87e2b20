"""API tokens: issued for a username and password, expiring, revoked on a password change.

django-rest-knox stores each token hashed with its expiry; `POST /api/v1/auth/token/`
issues one, `POST /api/v1/auth/logout/` revokes the one in use, `.../logoutall/` all of a
user's. Guessing is limited by django-axes, like the login page.
"""

from django.contrib.auth import get_user_model
from django.db.models.signals import pre_save
from django.dispatch import receiver
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from knox.models import get_token_model
from knox.views import LoginView, LogoutAllView, LogoutView
from rest_framework import exceptions, serializers
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer


class TokenObtainView(LoginView):
    """A new token for a username and password (form or JSON)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    renderer_classes = [JSONRenderer]

    def get_authenticate_header(self, request):
        return "Token"  # wrong credentials are a 401, as for any other refused login

    @extend_schema(
        request=AuthTokenSerializer,
        responses={
            200: inline_serializer(
                "IssuedToken",
                {"token": serializers.CharField(), "expiry": serializers.DateTimeField()},
            ),
            400: OpenApiResponse(description="Username or password missing"),
            401: OpenApiResponse(description="Wrong username or password"),
            429: OpenApiResponse(description="Locked out after too many failed attempts"),
        },
    )
    def post(self, request, format=None):
        # Django's request, so that a lockout django-axes records on it reaches its middleware.
        context = {"request": request._request}
        credentials = AuthTokenSerializer(data=request.data, context=context)
        if not credentials.is_valid():
            if "non_field_errors" in credentials.errors:  # both given, no such login
                raise exceptions.AuthenticationFailed(credentials.errors["non_field_errors"][0])
            raise exceptions.ValidationError(credentials.errors)
        request.user = credentials.validated_data["user"]
        return super().post(request, format=format)


@extend_schema(request=None, responses={204: None, 401: OpenApiResponse(description="No token")})
class TokenRevokeView(LogoutView):
    """Revoke the token this request is authenticated with."""


@extend_schema(request=None, responses={204: None, 401: OpenApiResponse(description="No token")})
class TokensRevokeAllView(LogoutAllView):
    """Revoke every token of the user this request is authenticated as."""


@receiver(pre_save, sender=get_user_model())
def tokens_revoke_on_password_change(sender, instance, raw=False, **kwargs) -> None:
    """A new password ends every token the old one opened."""
    if raw or instance.pk is None:
        return
    before = sender.objects.filter(pk=instance.pk).values_list("password", flat=True).first()
    if before is not None and before != instance.password:
        get_token_model().objects.filter(user_id=instance.pk).delete()
