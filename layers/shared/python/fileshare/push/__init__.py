"""Push to browsers over the WebSocket API: who is connected, what they are sent, what they missed.

- ``connections``: the live connections per user, in Redis (why Redis: below).
- ``tokens``: ``$connect`` verifies the Cognito id token (signature against the pool's JWKS, issuer,
  audience, ``token_use``, expiry), as the REST API's authorizer does.
- ``messages``: one event -> the message each reader is sent: the change itself (file id, status,
  name, version, the notice's text for its recipient, who did it) and its resume cursor (the
  event's outbox ``seq``).
- ``delivery``: posts through the stage's ``@connections`` API (boto3 ``apigatewaymanagementapi``
  at ``PUSH_ENDPOINT``); a gone connection (410) is removed.
- ``replay``: a reconnecting client sends its last cursor and gets what it missed from the outbox,
  as long as the outbox still holds it and it is not too much; otherwise it is told to reload.

Readers are the owner plus the file's current share recipients, read when the event is pushed: a
viewer whose share was revoked is sent nothing more about that file, live or replayed.
"""
