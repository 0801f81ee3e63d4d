"""Each function's role as CDK synthesizes it, resolved to the local names, and the decision AWS
would make on one call.

``extract`` reads the dev stage of a synthesized assembly (``infra.templates``: nested stacks
folded in) and keeps, per function, the statements of every policy attached to its role, with their
intrinsics (``Ref``, ``Fn::GetAtt``, ``Fn::Join``...) still in place, plus what the resolver needs to
know of the resources they name. ``Role.load`` resolves them for one namespace of the local stack:
the upload bucket's ARN becomes ``arn:aws:s3:::fileshare-test-uploads``, the MSK cluster's
``arn:aws:kafka:<region>:000000000000:cluster/fileshare-dev/local``, a topic's name its local name,
and so on, so that the ARN a local call builds (``lambdarun.iam.calls``) is compared with the ARN
the role grants.

``Role.decide`` matches actions and resources with moto's IAM evaluator (``IAMPolicyStatement``,
wildcards as AWS resolves them) and evaluates the conditions itself: moto ignores condition
operators it does not know, which would allow silently. A condition on an operator or a key this
module cannot evaluate makes its statement not apply (an ``Allow`` does not allow, a ``Deny`` still
denies) and is reported in the decision.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ACCOUNT_ID = "000000000000"
LOCAL_CLUSTER_ID = "local"  # the UUID part of the local MSK cluster's ARN
LOCAL_SOCKET_API_ID = "local"  # the local WebSocket API's id (lambdarun.sockets) in its ARNs
#: Actions every Lambda role carries that no local call exercises (log delivery, VPC ENIs, X-Ray):
#: kept out of the usage report's "granted" column.
PLATFORM_ACTION_PREFIXES = ("logs:", "ec2:", "xray:")


@dataclass(frozen=True)
class Decision:
    allowed: bool
    action: str
    resource: str
    reason: str = ""  # why not: "no identity-based policy allows", "explicit deny", "unevaluable: ..."
    unevaluable: tuple[str, ...] = ()


def extract(assembly_dir: Path, stage: str = "dev") -> dict[str, Any]:
    """The roles of ``stage``'s functions in a synthesized assembly, intrinsics unresolved."""
    from infra.templates import merged, read_assembly

    template = merged(read_assembly(assembly_dir)[f"Fileshare-{stage}"])
    resources: dict[str, Any] = template["Resources"]
    prefix = f"fileshare-{stage}-"
    role_of: dict[str, str] = {}
    cloud_env: dict[str, Any] = {}
    for props in (r["Properties"] for r in resources.values() if r["Type"] == "AWS::Lambda::Function"):
        name = props.get("FunctionName")
        role = props.get("Role", {}).get("Fn::GetAtt", [None])[0]
        if isinstance(name, str) and name.startswith(prefix) and role:
            role_of[name.removeprefix(prefix)] = role
            cloud_env.update(props.get("Environment", {}).get("Variables", {}))
    statements: dict[str, list[Any]] = {name: [] for name in role_of}
    for lid, res in resources.items():
        props = res.get("Properties", {})
        if res["Type"] == "AWS::IAM::Policy":
            attached = [r.get("Ref") for r in props.get("Roles", []) if isinstance(r, dict)]
            for name, role in role_of.items():
                if role in attached:
                    statements[name].extend(_statements(props["PolicyDocument"]))
        elif res["Type"] == "AWS::IAM::Role" and lid in role_of.values():
            for name, role in role_of.items():
                if role == lid:
                    for inline in props.get("Policies", []):
                        statements[name].extend(_statements(inline["PolicyDocument"]))
    kept_types = ("AWS::S3::Bucket", "AWS::MSK::ServerlessCluster", "AWS::MSK::Cluster",
                  "AWS::OpenSearchService::Domain", "AWS::Cognito::UserPool", "AWS::SQS::Queue",
                  "AWS::SecretsManager::Secret", "AWS::SecretsManager::SecretTargetAttachment",
                  "AWS::ApiGatewayV2::Api", "AWS::ApiGatewayV2::Stage")
    index = {lid: {"Type": res["Type"], "Properties": _names_only(res.get("Properties", {}))}
             for lid, res in resources.items() if res["Type"] in kept_types}
    return {"stage": stage, "functions": statements, "resources": index,
            "email_sender": cloud_env.get("EMAIL_SENDER"), "events_topic": cloud_env.get("EVENTS_TOPIC")}


def _statements(document: Mapping[str, Any]) -> list[Any]:
    found = document.get("Statement", [])
    return list(found) if isinstance(found, list) else [found]


def _names_only(props: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in props.items() if k in ("BucketName", "ClusterName", "DomainName",
                                                       "UserPoolName", "QueueName", "Name",
                                                       "StageName")}


@dataclass
class Resolver:
    """Resolves a statement's intrinsics to the local stack's names (one namespace)."""

    stage: str
    region: str
    resources: Mapping[str, Any]
    local: Mapping[str, str]  # bucket, user_pool_id, topic_prefix..., from the namespace and env
    unresolved: set[str] = field(default_factory=set)

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) != 1:
            return {k: self.resolve(v) for k, v in value.items()}
        ((fn, arg),) = value.items()
        if fn == "Ref":
            return self._ref(arg)
        if fn == "Fn::GetAtt":
            lid, attr = arg if isinstance(arg, list) else arg.split(".", 1)
            return self._get_att(lid, attr)
        if fn == "Fn::Join":
            sep, parts = arg
            return sep.join(str(self.resolve(p)) for p in parts)
        if fn == "Fn::Select":
            index, items = arg
            return self.resolve(items)[int(index)]
        if fn == "Fn::Split":
            sep, text = arg
            return str(self.resolve(text)).split(sep)
        if fn == "Fn::Sub":
            template = arg if isinstance(arg, str) else arg[0]
            return re.sub(r"\$\{([^}]+)\}", lambda m: str(self._sub(m.group(1))), template)
        return {fn: self.resolve(arg)}

    def _sub(self, name: str) -> Any:
        if "." in name and not name.startswith("AWS::"):
            lid, attr = name.split(".", 1)
            return self._get_att(lid, attr)
        return self._ref(name)

    def _ref(self, lid: str) -> str:
        pseudo = {"AWS::Partition": "aws", "AWS::AccountId": ACCOUNT_ID, "AWS::Region": self.region,
                  "AWS::URLSuffix": "amazonaws.com", "AWS::StackName": f"Fileshare-{self.stage}"}
        if lid in pseudo:
            return pseudo[lid]
        return self._arn_or_name(lid, "Ref")

    def _get_att(self, lid: str, attr: str) -> str:
        return self._arn_or_name(lid, attr)

    def _arn_or_name(self, lid: str, attr: str) -> str:
        res = self.resources.get(lid)
        if res is None:
            self.unresolved.add(lid)
            return f"arn:local:unresolved:{lid}"
        kind, acct, region = res["Type"], ACCOUNT_ID, self.region
        if kind == "AWS::S3::Bucket":
            bucket = self.local["bucket"] if self._is_upload_bucket(lid) else f"{lid.lower()}-not-local"
            return bucket if attr == "Ref" else f"arn:aws:s3:::{bucket}"
        if kind.startswith("AWS::MSK::"):
            return f"arn:aws:kafka:{region}:{acct}:cluster/{self.cluster_name}/{LOCAL_CLUSTER_ID}"
        if kind == "AWS::OpenSearchService::Domain":
            return f"arn:aws:es:{region}:{acct}:domain/local"
        if kind == "AWS::Cognito::UserPool":
            pool = self.local.get("user_pool_id", "local")
            return pool if attr == "Ref" else f"arn:aws:cognito-idp:{region}:{acct}:userpool/{pool}"
        if kind == "AWS::SQS::Queue":
            name = str(self.resolve(res["Properties"].get("QueueName", lid)))
            local = self.local["queue_prefix"] + name.removeprefix(f"fileshare-{self.stage}")
            if name == f"fileshare-{self.stage}-uploads" and self.local.get("upload_queue"):
                local = self.local["upload_queue"]  # the queue the processor is given (a test's own)
            return f"https://sqs/{local}" if attr == "Ref" else f"arn:aws:sqs:{region}:{acct}:{local}"
        if kind == "AWS::ApiGatewayV2::Api":  # the WebSocket API: the local gateway's (lambdarun.sockets)
            api = LOCAL_SOCKET_API_ID
            return api if attr in ("Ref", "ApiId") else f"arn:aws:apigateway:{region}::/apis/{api}"
        if kind == "AWS::ApiGatewayV2::Stage":
            return str(self.resolve(res["Properties"].get("StageName", lid)))
        if kind.startswith("AWS::SecretsManager::"):  # the database secret the function is given
            given = self.local.get("database_secret_arn")
            return given or f"arn:aws:secretsmanager:{region}:{acct}:secret:{lid}"
        self.unresolved.add(lid)
        return f"arn:local:unresolved:{lid}"

    def _is_upload_bucket(self, lid: str) -> bool:
        name = self.resources[lid]["Properties"].get("BucketName")
        return str(self.resolve(name) if name else "").startswith(f"fileshare-{self.stage}-uploads")

    @property
    def cluster_name(self) -> str:
        for res in self.resources.values():
            if res["Type"].startswith("AWS::MSK::"):
                return str(self.resolve(res["Properties"].get("ClusterName", "local")))
        return "local"


def _localize(text: str, renames: Mapping[str, str], topics: Mapping[str, str], physical: Any) -> str:
    """Cloud names inside a resolved string -> local ones: the upload bucket's cloud name, the
    search domain's, the sender's address and domain, and Kafka topic and group names (``topics``:
    the events topic the function is configured with; others by ``physical``, the namespace's)."""
    for cloud, local in renames.items():
        text = text.replace(cloud, local)

    def kafka_name(match: re.Match[str]) -> str:
        name = match.group(2)
        if ":topic/" in match.group(1) and name in topics:
            return match.group(1) + topics[name]
        return match.group(1) + physical(name)
    return re.sub(r"(:(?:topic|group|transactional-id)/[^/]+/[^/]+/)(.+)$", kafka_name, text)


@dataclass
class Role:
    """One function's statements, resolved; ``decide`` is what AWS would answer."""

    function: str
    statements: list[dict[str, Any]]
    unresolved: frozenset[str] = frozenset()

    @classmethod
    def load(cls, roles: Mapping[str, Any], function: str, *, region: str, local: Mapping[str, str],
             physical: Any) -> Role | None:
        raw = roles["functions"].get(function)
        if raw is None:
            return None
        resolver = Resolver(roles["stage"], region, roles["resources"], local)
        resolved = resolver.resolve(raw)
        renames = {f"fileshare-{roles['stage']}-uploads-{ACCOUNT_ID}-{region}": local["bucket"]}
        for res in roles["resources"].values():
            domain = res["Properties"].get("DomainName")
            if res["Type"] == "AWS::OpenSearchService::Domain" and isinstance(domain, str):
                renames[f":domain/{domain}"] = ":domain/local"
        topics = {}
        if roles.get("events_topic") and local.get("events_topic"):
            topics[roles["events_topic"]] = local["events_topic"]
        sender = roles.get("email_sender")
        if isinstance(sender, str) and "@" in sender and local.get("email_sender"):  # no sender: no SES
            renames[sender] = local["email_sender"]
            cloud_domain, local_domain = sender.rsplit("@", 1)[-1], local["email_sender"].rsplit("@", 1)[-1]
            renames[f"identity/{cloud_domain}"] = f"identity/{local_domain}"
        text = json.dumps(resolved)
        statements = _walk_strings(json.loads(text), lambda s: _localize(s, renames, topics, physical))
        return cls(function, statements, frozenset(resolver.unresolved))

    def granted_actions(self) -> set[str]:
        found: set[str] = set()
        for st in self.statements:
            if st.get("Effect") == "Allow":
                actions = st.get("Action", [])
                found.update([actions] if isinstance(actions, str) else actions)
        return {a for a in found if not a.startswith(PLATFORM_ACTION_PREFIXES)}

    def decide(self, action: str, resource: str, context: Mapping[str, str] | None = None,
               modelled: frozenset[str] = frozenset()) -> Decision:
        """AWS's answer for ``action`` on ``resource``. ``context`` holds the condition keys the call
        carries; ``modelled`` names the keys the call would carry if it had them (a key in neither is
        one this runtime does not model, so a condition on it is unevaluable)."""
        from moto.iam.access_control import IAMPolicyStatement, PermissionResult

        allowed, unevaluable = False, []
        for st in self.statements:
            bare = {k: v for k, v in st.items() if k != "Condition"}
            if IAMPolicyStatement(bare).is_action_permitted(action, resource) is PermissionResult.NEUTRAL:
                continue
            applies = _conditions_hold(st.get("Condition") or {}, context or {}, modelled)
            if applies is None:
                unevaluable.append(json.dumps(st.get("Condition"), sort_keys=True))
                if st.get("Effect") == "Deny":
                    return Decision(False, action, resource, "explicit deny (unevaluable condition)",
                                    tuple(unevaluable))
                continue
            if not applies:
                continue
            if st.get("Effect") == "Deny":
                return Decision(False, action, resource, "explicit deny in an identity-based policy")
            allowed = True
        if allowed:
            return Decision(True, action, resource, unevaluable=tuple(unevaluable))
        reason = "no identity-based policy allows the action"
        if unevaluable:
            reason += " (a condition here could not be evaluated locally)"
        return Decision(False, action, resource, reason, tuple(unevaluable))


def _walk_strings(value: Any, fn: Any) -> Any:
    if isinstance(value, str):
        return fn(value)
    if isinstance(value, list):
        return [_walk_strings(v, fn) for v in value]
    if isinstance(value, dict):
        return {k: _walk_strings(v, fn) for k, v in value.items()}
    return value


_STRING_OPERATORS = {
    "StringEquals": lambda want, got: got == want,
    "StringNotEquals": lambda want, got: got != want,
    "StringLike": lambda want, got: fnmatch.fnmatchcase(got, want),
    "StringNotLike": lambda want, got: not fnmatch.fnmatchcase(got, want),
    "ArnEquals": lambda want, got: got == want,
    "ArnLike": lambda want, got: fnmatch.fnmatchcase(got, want),
    "Bool": lambda want, got: got.lower() == str(want).lower(),
}
_NEGATED = ("StringNotEquals", "StringNotLike")


def _conditions_hold(conditions: Mapping[str, Mapping[str, Any]], context: Mapping[str, str],
                     modelled: frozenset[str]) -> bool | None:
    """True/False as AWS evaluates the condition block; None when an operator or key is one this
    runtime cannot evaluate (reported by the caller, never taken as true)."""
    for operator, checks in conditions.items():
        base = operator.removesuffix("IfExists")
        test = _STRING_OPERATORS.get(base)
        for key, wanted in checks.items():
            values = wanted if isinstance(wanted, list) else [wanted]
            if base == "Null":
                present = key in context
                if key not in context and key not in modelled:
                    return None
                if any(str(v).lower() == "true" for v in values) == present:
                    return False
                continue
            if test is None:
                return None
            if key not in context:
                if key not in modelled:
                    return None
                if operator.endswith("IfExists") or base in _NEGATED:
                    continue
                return False
            got = context[key]
            matched = any(test(str(v), got) for v in values)
            if base in _NEGATED:
                matched = all(test(str(v), got) for v in values)
            if not matched:
                return False
    return True
