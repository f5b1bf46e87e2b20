from django.apps import AppConfig


class MvsicConfig(AppConfig):
    name = "mvsic"
    verbose_name = "Music"

    def ready(self) -> None:
        from mvsic import tokens  # noqa: F401 - connects the password-change receiver
