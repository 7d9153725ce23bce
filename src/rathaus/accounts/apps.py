from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "rathaus.accounts"
    label = "accounts"
    verbose_name = _("Users and profiles")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from allauth.account import signals as account_signals
        from allauth.mfa import signals as mfa_signals
        from django.contrib.auth.signals import user_logged_in
        from django_tasks.signals import task_finished

        from rathaus.accounts import account_mail, security_trail, totp_steps
        from rathaus.accounts.adapters import on_password_reset
        from rathaus.accounts.roles import on_user_logged_in
        from rathaus.accounts.services import register_own_export_sections

        user_logged_in.connect(on_user_logged_in, dispatch_uid="rathaus-staff-membership")

        register_own_export_sections()
        security_trail.connect()
        mfa_signals.authenticator_added.connect(
            totp_steps.on_authenticator_added, dispatch_uid="rathaus-totp-activation-code-used"
        )
        account_signals.password_reset.connect(
            on_password_reset, dispatch_uid="rathaus-reset-confirms-unconfirmed-signup"
        )
        task_finished.connect(
            account_mail.forget_finished_jobs, dispatch_uid="rathaus-account-mail-rows-deleted"
        )
