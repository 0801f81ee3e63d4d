"""Cognito user pool (+ app client for the API's own /auth routes)."""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_iam as iam
from aws_cdk import aws_ses as ses
from constructs import Construct

from infra import nag
from infra.config import StageConfig
from infra.declaration import Uses

#: Server-side logins all come from the auth function's addresses: see the comment at the user pool.
THREAT_PROTECTION_MODE = cognito.StandardThreatProtectionMode.AUDIT_ONLY


class CognitoUsers(Construct):
    """The Cognito user pool and its app client (construct id "Identity": logical ids unchanged).

    Named apart from the domain module ``fileshare.identity`` (accounts behind the auth routes)."""

    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        threat_protection = config.is_prod
        self.user_pool = cognito.UserPool(
            self,
            "Users",
            user_pool_name=config.prefix,
            self_sign_up_enabled=True,
            sign_in_aliases=cognito.SignInAliases(email=True),
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=Duration.days(3),
            ),
            mfa=cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            # An email change keeps the verified original active until the new one is verified, so
            # nobody can take over an address by setting it on their own account (the client is public).
            keep_original=cognito.KeepOriginalAttrs(email=True),
            email=self._email(),
            user_verification=cognito.UserVerificationConfig(
                email_subject="Your Fileshare confirmation code",
                email_body="Welcome to Fileshare. Your confirmation code is {####}. "
                "It is valid for 24 hours.",
                email_style=cognito.VerificationEmailStyle.CODE,
            ),
            feature_plan=cognito.FeaturePlan.PLUS if threat_protection else cognito.FeaturePlan.ESSENTIALS,
            # Audit, not full function: logins are server-side (the auth function calls InitiateAuth),
            # so Cognito sees every user's login come from the function's ENI addresses. Enforcing
            # risk decisions on that one "device and IP" would block or challenge everyone together
            # once a few bad passwords are tried; audit records risk for the logs and metrics without
            # acting on it. Enforcing needs UserContextData (the browser's encoded data) per request.
            standard_threat_protection_mode=THREAT_PROTECTION_MODE if threat_protection else None,
            deletion_protection=config.retainData,
            removal_policy=config.removal_policy,
        )
        self.client = self.user_pool.add_client(
            "ApiClient",
            user_pool_client_name=f"{config.prefix}-api",
            auth_flows=cognito.AuthFlow(user_password=True, user_srp=True),
            generate_secret=False,
            prevent_user_existence_errors=True,
            id_token_validity=Duration.hours(1),
            access_token_validity=Duration.hours(1),
            refresh_token_validity=Duration.days(30),
        )
        nag.ack(
            self.user_pool,
            "AwsSolutions-COG2",
            "MFA is optional (TOTP) so that users can register through POST /auth/register without a "
            "second device; enforcing MFA is a product decision tracked separately.",
        )
        if threat_protection:
            nag.ack(
                self.user_pool,
                "AwsSolutions-COG3",
                "Threat protection runs in audit mode on purpose: logins are server-side (InitiateAuth "
                "from the auth function), so enforcing would judge every user by the function's IP.",
            )
        else:
            for rule in ("AwsSolutions-COG3", "AwsSolutions-COG8"):
                nag.ack(
                    self.user_pool,
                    rule,
                    f"{config.stage}: threat protection needs the Plus feature plan (cost); prod uses Plus "
                    "with full-function threat protection.",
                )

    def _email(self) -> cognito.UserPoolEmail:
        """With a configured sender, codes go out through SES from it: its domain must already be a
        verified SES identity in this account and region (imported, never created here: a domain
        identity nobody verifies makes Cognito refuse the pool). Without one, Cognito's own email
        (about 50 mails a day, from no-reply@verificationemail.com) works on day one."""
        sender = self._config.emailSender
        if not sender:
            return cognito.UserPoolEmail.with_cognito()
        return cognito.UserPoolEmail.with_ses(
            from_email=sender,
            from_name="Fileshare",
            ses_region=Stack.of(self).region,
            ses_verified_domain=self.sender_identity.email_identity_name,
        )

    @property
    def sender_identity(self) -> ses.IEmailIdentity:
        """The sender's domain as an existing SES identity (configured sender only)."""
        existing = self.node.try_find_child("Sender")
        if existing is not None:
            return existing  # type: ignore[return-value]
        domain = self._config.emailSender.rsplit("@", 1)[-1]
        return ses.EmailIdentity.from_email_identity_name(self, "Sender", domain)

    def grant(self, use: Uses, role: iam.Role) -> dict[str, str]:
        """Grant ``role`` the user-pool actions (USER_POOL) or sending from the SES sender the pool
        also mails from (EMAIL); returns the variables the function gets."""
        if use is Uses.USER_POOL:
            role.add_to_policy(
                iam.PolicyStatement(
                    # AdminGetUser only (fileshare.identity); ListUsers was granted and never called
                    actions=["cognito-idp:AdminGetUser"],
                    resources=[self.user_pool.user_pool_arn],
                )
            )
            return {
                "USER_POOL_ID": self.user_pool.user_pool_id,
                "USER_POOL_CLIENT_ID": self.client.user_pool_client_id,
            }
        if use is Uses.EMAIL:
            sender = self._config.emailSender
            if sender:  # none configured: EMAIL_SENDER is empty and the notifier keeps to the inbox
                role.add_to_policy(
                    iam.PolicyStatement(
                        # SendEmail only: nothing sends raw MIME (make iam-report found it unused)
                        actions=["ses:SendEmail"],
                        resources=[self.sender_identity.email_identity_arn],
                        conditions={"StringEquals": {"ses:FromAddress": sender}},
                    )
                )
            return {"EMAIL_SENDER": sender}
        raise ValueError(f"the identity construct does not grant {use!r}")
