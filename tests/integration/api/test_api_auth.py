"""The auth API (functions/auth) against the real local Cognito (moto with emailed, checked codes),
LocalStack's SES mailbox and PostgreSQL: sign-up with confirmation, login, refresh, forgotten
password, and an email change that must not hijack another person's address."""

from __future__ import annotations

import json
import uuid
from typing import Any

import jwt
import pytest
import requests

from tests.integration.api.conftest import PASSWORD, fresh_email
from tests.integration.conftest import Api
from tests.support import mailbox


def verified_claims(id_token: str) -> dict[str, Any]:
    """Verify the id token like the gateway does: RS256 against the pool's JWKS."""
    import os

    endpoint, pool_id = os.environ["AWS_ENDPOINT_URL_COGNITO_IDP"], os.environ["USER_POOL_ID"]
    jwks_url = f"{endpoint}/{pool_id}/.well-known/jwks.json"
    keys = jwt.PyJWKSet.from_dict(requests.get(jwks_url, timeout=10).json())
    key = keys[jwt.get_unverified_header(id_token)["kid"]].key
    return jwt.decode(id_token, key, algorithms=["RS256"], audience=os.environ["USER_POOL_CLIENT_ID"])


def register_and_confirm(auth_api: Api, email: str, password: str = PASSWORD) -> str:
    registered = auth_api("POST", "/auth/register", body={"email": email, "password": password})
    assert registered.status == 201, registered.body
    code = mailbox.confirmation_code(email)
    confirmed = auth_api("POST", "/auth/confirm", body={"email": email, "code": code})
    assert confirmed.status == 200, confirmed.body
    return str(registered.body["user_id"])


def login(auth_api: Api, email: str, password: str = PASSWORD) -> dict[str, Any]:
    reply = auth_api("POST", "/auth/login", body={"email": email, "password": password})
    assert reply.status == 200, reply.body
    return dict(reply.body)


def test_register_confirm_login_refresh(auth_api: Api, db: Any) -> None:
    email = fresh_email()
    # Given a new registration: it needs confirming, and no users row exists yet
    registered = auth_api("POST", "/auth/register", body={"email": email.upper(), "password": PASSWORD})
    assert registered.status == 201, registered.body
    assert registered.body["confirmation_required"] is True
    user_id = registered.body["user_id"]
    assert db.execute("SELECT 1 FROM users WHERE user_id = %s", (user_id,)).fetchone() is None
    unconfirmed = auth_api("POST", "/auth/login", body={"email": email, "password": PASSWORD})
    assert unconfirmed.status == 403 and unconfirmed.error_code == "user_not_confirmed"

    # When the emailed code confirms it (a wrong code first)
    code = mailbox.confirmation_code(email)
    wrong_code = "000000" if code != "000000" else "111111"
    wrong = auth_api("POST", "/auth/confirm", body={"email": email, "code": wrong_code})
    assert wrong.status == 422 and wrong.error_code == "invalid_code"
    confirmed = auth_api("POST", "/auth/confirm", body={"email": email, "code": code})
    assert confirmed.status == 200 and confirmed.body == {"user_id": user_id, "email": email}

    # Then the row exists with the verified address, and login and refresh work
    row = db.execute("SELECT email, quota_bytes FROM users WHERE user_id = %s", (user_id,)).fetchone()
    assert row["email"] == email and row["quota_bytes"] > 0
    tokens = login(auth_api, email)
    assert set(tokens) == {"id_token", "access_token", "refresh_token", "expires_in"}
    claims = verified_claims(tokens["id_token"])
    assert claims["sub"] == user_id and claims["email"] == email and claims["email_verified"] is True

    refreshed = auth_api("POST", "/auth/refresh", body={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status == 200, refreshed.body
    assert verified_claims(refreshed.body["id_token"])["sub"] == user_id
    assert refreshed.body["refresh_token"] == tokens["refresh_token"]


def test_resend_sends_a_new_code_and_only_the_newest_works(auth_api: Api) -> None:
    email = fresh_email()
    auth_api("POST", "/auth/register", body={"email": email, "password": PASSWORD})
    first = mailbox.confirmation_code(email)
    resent = auth_api("POST", "/auth/resend", body={"email": email})
    assert resent.status == 202, resent.body
    second = mailbox.confirmation_code(email, not_before=1)
    if first != second:
        stale = auth_api("POST", "/auth/confirm", body={"email": email, "code": first})
        assert stale.status == 422 and stale.error_code == "invalid_code"
    assert auth_api("POST", "/auth/confirm", body={"email": email, "code": second}).status == 200
    # Unknown and already confirmed addresses are accepted the same way (no account probing).
    for address in (email, fresh_email()):
        assert auth_api("POST", "/auth/resend", body={"email": address}).status == 202


def test_forgotten_password_reset_with_the_emailed_code(auth_api: Api) -> None:
    email = fresh_email()
    register_and_confirm(auth_api, email)
    # When the user asks for a reset (an unknown address gets the same answer)
    assert auth_api("POST", "/auth/forgot", body={"email": fresh_email()}).status == 202
    assert auth_api("POST", "/auth/forgot", body={"email": email}).status == 202
    code = mailbox.reset_code(email)
    new_password = "Another-Horse-7"
    # Then a wrong code or a weak password is refused, and the emailed code sets the password
    wrong = auth_api("POST", "/auth/reset", body={"email": email, "code": "12", "password": new_password})
    assert wrong.status == 422 and wrong.error_code == "invalid_code"
    weak = auth_api("POST", "/auth/reset", body={"email": email, "code": code, "password": "weak"})
    assert weak.status == 422 and weak.error_code == "weak_password"
    reset = auth_api("POST", "/auth/reset", body={"email": email, "code": code, "password": new_password})
    assert reset.status == 200, reset.body
    old = auth_api("POST", "/auth/login", body={"email": email, "password": PASSWORD})
    assert old.status == 401
    login(auth_api, email, new_password)
    # The code works once.
    again = auth_api("POST", "/auth/reset", body={"email": email, "code": code, "password": PASSWORD})
    assert again.status == 422


def test_changing_ones_email_to_someone_elses_address_hijacks_nothing(
        auth_api: Api, files_module: Any, db: Any) -> None:
    """The app client is public: anyone can call UpdateUserAttributes with their own access token."""
    import os

    import boto3

    attacker, victim = fresh_email(), fresh_email()
    attacker_id = register_and_confirm(auth_api, attacker)
    tokens = login(auth_api, attacker)
    idp = boto3.client("cognito-idp", endpoint_url=os.environ["AWS_ENDPOINT_URL_COGNITO_IDP"],
                       region_name=os.environ.get("AWS_REGION", "us-east-1"))
    # When the attacker changes their own email to the victim's address (never verified)
    idp.update_user_attributes(AccessToken=tokens["access_token"],
                               UserAttributes=[{"Name": "email", "Value": victim}])

    # Then the victim can still register and confirm their address ...
    victim_id = register_and_confirm(auth_api, victim)
    assert victim_id != attacker_id
    # ... the attacker's refresh never answers 5xx and their tokens keep the verified original ...
    refreshed = auth_api("POST", "/auth/refresh", body={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status == 200, refreshed.body
    claims = verified_claims(refreshed.body["id_token"])
    assert claims["email"] == attacker and claims["email_verified"] is True
    # ... and /me shows each user their own verified address only.
    me = Api(files_module, {"sub": attacker_id, "email": claims["email"], "email_verified": "true",
                            "token_use": "id"})("GET", "/me")
    assert me.status == 200 and me.body["email"] == attacker
    rows = db.execute("SELECT user_id::text AS user_id, email FROM users WHERE user_id IN (%s, %s)",
                      (attacker_id, victim_id)).fetchall()
    assert {r["user_id"]: r["email"] for r in rows} == {attacker_id: attacker, victim_id: victim}


def test_a_verified_email_change_moves_the_account(auth_api: Api, db: Any) -> None:
    import os

    import boto3

    old, new = fresh_email(), fresh_email()
    user_id = register_and_confirm(auth_api, old)
    tokens = login(auth_api, old)
    idp = boto3.client("cognito-idp", endpoint_url=os.environ["AWS_ENDPOINT_URL_COGNITO_IDP"],
                       region_name=os.environ.get("AWS_REGION", "us-east-1"))
    idp.update_user_attributes(AccessToken=tokens["access_token"],
                               UserAttributes=[{"Name": "email", "Value": new}])
    # Until verified, the original stays active
    assert verified_claims(login(auth_api, old)["id_token"])["email"] == old
    idp.verify_user_attribute(AccessToken=tokens["access_token"], AttributeName="email",
                              Code=mailbox.verification_code(new))
    # Once verified, the new address logs in and the row follows at the next login
    claims = verified_claims(login(auth_api, new)["id_token"])
    assert claims["sub"] == user_id and claims["email"] == new and claims["email_verified"] is True
    row = db.execute("SELECT email FROM users WHERE user_id = %s", (user_id,)).fetchone()
    assert row["email"] == new


def test_an_unverified_email_claim_is_refused(files_module: Any) -> None:
    claims = {"sub": str(uuid.uuid4()), "email": fresh_email(), "email_verified": "false", "token_use": "id"}
    reply = Api(files_module, claims)("GET", "/me")
    assert reply.status == 403 and reply.error_code == "email_not_verified"


def answer(reply: Any) -> tuple[int, str]:
    """A reply as an observer compares it: status and body (JSON), ids replaced by their version."""
    body = dict(reply.body) if isinstance(reply.body, dict) else reply.body
    if isinstance(body, dict) and "user_id" in body:
        body["user_id"] = str(uuid.UUID(body["user_id"]).version)
    return reply.status, json.dumps(body, sort_keys=True)


def test_registering_a_taken_address_answers_as_a_new_one_and_mails_the_owner(
        auth_api: Api, db: Any) -> None:
    confirmed, unconfirmed, new = fresh_email(), fresh_email(), fresh_email()
    owner_id = register_and_confirm(auth_api, confirmed)
    assert auth_api("POST", "/auth/register", body={"email": unconfirmed, "password": PASSWORD}).status == 201
    codes_before = len(mailbox.messages_to(unconfirmed, subject_contains="confirmation code"))
    users_before = db.execute("SELECT count(*) AS n FROM users").fetchone()["n"]

    # When someone registers the confirmed, the unconfirmed and a new address
    replies = {address: auth_api("POST", "/auth/register",
                                 body={"email": address, "password": "Another-Horse-7"})
               for address in (confirmed, unconfirmed, new)}
    # Then all three answers are the same: 201, a fresh id, confirmation required
    assert {answer(r) for r in replies.values()} == {
        (201, json.dumps({"confirmation_required": True, "user_id": "4"}))}
    assert replies[confirmed].body["user_id"] != owner_id
    # And the confirmed account's owner is told by mail, nothing else changed: same password, no row
    notice = mailbox.messages_to(confirmed, subject_contains="tried to register")
    assert len(notice) == 1, notice
    text = str(notice[0]["Body"].get("text_part"))
    assert "already has one" in text and "log in" in text and "Forgot password" in text
    login(auth_api, confirmed)  # the old password still works; the tried one logs nobody in
    tried = auth_api("POST", "/auth/login", body={"email": confirmed, "password": "Another-Horse-7"})
    assert (tried.status, tried.error_code) == (403, "user_not_confirmed")  # as after a new sign-up
    assert db.execute("SELECT count(*) AS n FROM users").fetchone()["n"] <= users_before + 1  # new's none
    assert db.execute("SELECT 1 FROM users WHERE user_id = %s", (replies[confirmed].body["user_id"],)
                      ).fetchone() is None
    # And the unconfirmed one's owner gets a new confirmation code, which confirms the account
    code = mailbox.confirmation_code(unconfirmed, not_before=codes_before)
    assert auth_api("POST", "/auth/confirm", body={"email": unconfirmed, "code": code}).status == 200


def test_a_weak_password_is_refused_alike_for_taken_and_new_addresses(auth_api: Api) -> None:
    taken = fresh_email()
    register_and_confirm(auth_api, taken)
    for address in (taken, fresh_email()):
        reply = auth_api("POST", "/auth/register", body={"email": address, "password": "alllowercase1"})
        assert (reply.status, reply.error_code) == (422, "weak_password"), address
        reset = auth_api("POST", "/auth/reset", body={"email": address, "code": "123456", "password": "weak"})
        assert (reset.status, reset.error_code) == (422, "weak_password"), address
    assert mailbox.messages_to(taken, subject_contains="tried to register") == []


def test_confirm_answers_alike_for_unknown_confirmed_and_wrong_codes(auth_api: Api) -> None:
    confirmed, unconfirmed = fresh_email(), fresh_email()
    register_and_confirm(auth_api, confirmed)
    auth_api("POST", "/auth/register", body={"email": unconfirmed, "password": PASSWORD})
    real_code = mailbox.confirmation_code(unconfirmed)
    wrong_code = "000000" if real_code != "000000" else "111111"
    replies = [auth_api("POST", "/auth/confirm", body={"email": address, "code": code})
               for address, code in ((fresh_email(), "123456"), (confirmed, "123456"),
                                     (confirmed, wrong_code), (unconfirmed, wrong_code))]
    assert len({answer(r) for r in replies}) == 1, [answer(r) for r in replies]
    assert (replies[0].status, replies[0].error_code) == (422, "invalid_code")


def test_resend_and_forgot_answer_alike_for_every_address(auth_api: Api) -> None:
    confirmed, unconfirmed = fresh_email(), fresh_email()
    register_and_confirm(auth_api, confirmed)
    auth_api("POST", "/auth/register", body={"email": unconfirmed, "password": PASSWORD})
    for route in ("/auth/resend", "/auth/forgot"):
        replies = [auth_api("POST", route, body={"email": address})
                   for address in (confirmed, unconfirmed, fresh_email())]
        assert {answer(r) for r in replies} == {(202, json.dumps({"accepted": True}))}, route


@pytest.mark.parametrize(("body", "code"), [
    ({"email": "x@example.com", "password": "short"}, "weak_password"),
    ({"email": "x@example.com", "password": "alllowercase1"}, "weak_password"),
    ({"email": "not-an-email", "password": PASSWORD}, "validation_failed"),
    ({"email": "x@example.com"}, "validation_failed"),
])
def test_register_rejects_bad_input(auth_api: Api, body: dict[str, str], code: str, db: Any) -> None:
    if "@example.com" in body["email"]:
        body = {**body, "email": fresh_email()}
    reply = auth_api("POST", "/auth/register", body=body)
    assert reply.status == 422 and reply.error_code == code, reply.body
    assert db.execute("SELECT 1 FROM users WHERE email = %s", (body["email"],)).fetchone() is None


def test_wrong_password_or_unknown_user_is_401(auth_api: Api) -> None:
    email = fresh_email()
    register_and_confirm(auth_api, email)
    wrong_password = {"email": email, "password": PASSWORD + "x"}
    for body in (wrong_password, {"email": fresh_email(), "password": PASSWORD}):
        reply = auth_api("POST", "/auth/login", body=body)
        assert reply.status == 401 and reply.error_code == "invalid_credentials"


def test_bad_refresh_token_is_401(auth_api: Api) -> None:
    reply = auth_api("POST", "/auth/refresh", body={"refresh_token": "not-a-token"})
    assert reply.status == 401 and reply.error_code == "invalid_credentials"


def test_logout_revokes_the_refresh_token(auth_api: Api) -> None:
    email = fresh_email()
    register_and_confirm(auth_api, email)
    tokens = login(auth_api, email)
    assert auth_api("POST", "/auth/refresh", body={"refresh_token": tokens["refresh_token"]}).status == 200
    # When the user logs out with their refresh token
    out = auth_api("POST", "/auth/logout", body={"refresh_token": tokens["refresh_token"]})
    assert out.status == 204, out.body
    # Then Cognito refuses that refresh token (and so does the API), and logging out again is no error
    refused = auth_api("POST", "/auth/refresh", body={"refresh_token": tokens["refresh_token"]})
    assert refused.status == 401 and refused.error_code == "invalid_credentials"
    assert auth_api("POST", "/auth/logout", body={"refresh_token": tokens["refresh_token"]}).status == 204
    # And a new login works as before
    assert auth_api("POST", "/auth/refresh", body={"refresh_token": login(auth_api, email)["refresh_token"]}
                    ).status == 200


def test_logout_with_a_token_that_was_never_issued_is_accepted(auth_api: Api) -> None:
    assert auth_api("POST", "/auth/logout", body={"refresh_token": "not-a-token"}).status == 204
    assert auth_api("POST", "/auth/logout", body={}).status == 422


def test_logging_in_after_registering_a_taken_address_answers_as_for_a_new_one(auth_api: Api) -> None:
    """Register an address with a password of one's own, then log in with it: a new address says
    "confirm first" (403), and so must a taken one, or the pair of calls tells it is taken."""
    confirmed, unconfirmed, new = fresh_email(), fresh_email(), fresh_email()
    register_and_confirm(auth_api, confirmed)
    auth_api("POST", "/auth/register", body={"email": unconfirmed, "password": PASSWORD})
    probe = "Probing-Horse-42"
    answers = []
    for address in (confirmed, unconfirmed, new):
        assert auth_api("POST", "/auth/register", body={"email": address, "password": probe}).status == 201
        answers.append(answer(auth_api("POST", "/auth/login", body={"email": address, "password": probe})))
    assert len(set(answers)) == 1 and answers[0][0] == 403, answers
    # while the owners' own passwords still log in, and another wrong password is still a 401
    login(auth_api, confirmed)
    wrong = auth_api("POST", "/auth/login", body={"email": confirmed, "password": "Other-Horse-43"})
    assert (wrong.status, wrong.error_code) == (401, "invalid_credentials")
