"""Fan accounts: sign up with an email and a password (logging in, out and password resets
are Django's own views under /accounts/); logging out hands the device a fresh listener."""

from django import forms
from django.contrib.auth import get_user_model, login, password_validation
from django.contrib.auth.signals import user_logged_out
from django.db.models import Q
from django.dispatch import receiver
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from mvsic.services import account_create


class SignupForm(forms.Form):
    email = forms.EmailField(max_length=150, widget=forms.EmailInput(attrs={"autofocus": True}))
    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].lower()
        users = get_user_model().objects
        if users.filter(Q(email__iexact=email) | Q(username__iexact=email)).exists():
            raise forms.ValidationError(
                "An account with this email exists: log in, or reset its password."
            )
        return email

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", "The two passwords differ.")
        elif first and "email" in cleaned:
            user = get_user_model()(username=cleaned["email"], email=cleaned["email"])
            try:
                password_validation.validate_password(first, user)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


@require_http_methods(["GET", "POST"])
def signup(request):
    if request.user.is_authenticated:
        return redirect("analytics:fan")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = account_create(
            email=form.cleaned_data["email"], password=form.cleaned_data["password1"]
        )
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("analytics:fan")
    return render(
        request, "registration/signup.html", {"form": form}, status=400 if form.errors else 200
    )


@receiver(user_logged_out)
def _listener_reset(sender, request, **kwargs) -> None:
    if request is not None:
        request.listener_reset = True
