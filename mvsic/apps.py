from django.apps import AppConfig


class MvsicConfig(AppConfig):
    name = "mvsic"
    verbose_name = "Music"

    def ready(self) -> None:
        from mvsic import accounts, tokens  # noqa: F401 - connect their receivers
