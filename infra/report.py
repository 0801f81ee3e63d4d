"""Report on a synthesized cloud assembly: stacks, resource counts per template (root and nested,
with the headroom to our budget and to CloudFormation's 500), Lambda package sizes against Lambda's
limits, and every cdk-nag acknowledgment with its reason.

``python -m infra.report [cdk.out]`` prints it and writes ``<cdk.out>/fileshare-report.json``; it exits
1 when a function (code + layers, unzipped) exceeds 250 MB.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from infra.templates import BUDGET_RESOURCES, MAX_RESOURCES, read_assembly

# No CDK import here: the report reads the cloud assembly's JSON only (fast, no jsii/Node).
PLUGIN = "AwsSolutions"

UNZIPPED_LIMIT = 250 * 1024 * 1024  # function code + all layers, unzipped
MB = 1024 * 1024


@dataclass(frozen=True)
class FunctionSize:
    stack: str
    function: str
    code_bytes: int
    layer_bytes: dict[str, int]

    @property
    def total(self) -> int:
        return self.code_bytes + sum(self.layer_bytes.values())


@dataclass(frozen=True)
class Ack:
    path: str
    rule: str
    reason: str


def acknowledgments(stack_metadata: dict[str, list[dict[str, Any]]]) -> list[Ack]:
    """cdk-nag acknowledgments recorded in a cloud assembly's ``<stack>.metadata.json``."""
    found: list[Ack] = []
    for path, entries in stack_metadata.items():
        for entry in entries:
            data = entry.get("data")
            if entry.get("type") != "aws:cdk:acknowledged-rules" or not isinstance(data, dict):
                continue
            for rule_id, reason in data.items():
                if str(rule_id).startswith(f"{PLUGIN}::"):
                    found.append(Ack(path, str(rule_id).split("::", 1)[1], str(reason)))
    return sorted(found, key=lambda a: (a.path, a.rule))


def dir_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def _asset_hash(s3_key: Any) -> str | None:
    if isinstance(s3_key, str) and s3_key.endswith(".zip"):
        return s3_key[: -len(".zip")]
    return None


def function_sizes(assembly: Path, stack: str, template: dict[str, Any]) -> list[FunctionSize]:
    resources = template["Resources"]

    def asset_size(s3_key: Any) -> int:
        digest = _asset_hash(s3_key)
        return dir_size(assembly / f"asset.{digest}") if digest else 0

    layers = {
        logical: asset_size(res["Properties"]["Content"].get("S3Key"))
        for logical, res in resources.items()
        if res["Type"] == "AWS::Lambda::LayerVersion"
    }
    sizes = []
    for res in resources.values():
        if res["Type"] != "AWS::Lambda::Function":
            continue
        props = res["Properties"]
        if "FunctionName" not in props:  # CDK's own (custom resource providers): not our packages
            continue
        layer_refs = [ref["Ref"] for ref in props.get("Layers", []) if isinstance(ref, dict) and "Ref" in ref]
        sizes.append(
            FunctionSize(
                stack=stack,
                function=str(props.get("FunctionName", "?")),
                code_bytes=asset_size(props.get("Code", {}).get("S3Key")),
                layer_bytes={ref: layers.get(ref, 0) for ref in layer_refs},
            )
        )
    return sorted(sizes, key=lambda s: s.function)


def build_report(assembly: Path) -> dict[str, Any]:
    report: dict[str, Any] = {"stacks": {}, "functions": [], "acknowledgments": []}
    for name, stage in read_assembly(assembly).items():
        template = stage.root
        counts = Counter(res["Type"] for res in template["Resources"].values())
        report["stacks"][name] = {
            "resources": sum(counts.values()),
            "by_type": dict(sorted(counts.items())),
            "templates": {
                path: {"resources": len(t["Resources"]), "headroom": BUDGET_RESOURCES - len(t["Resources"])}
                for path, t in stage.files().items()
            },
        }
        for nested_path, nested in stage.nested.values():
            for size in function_sizes(assembly, f"{name}/{nested_path}", nested):
                report["functions"].append({**asdict(size), "total_bytes": size.total})
        for size in function_sizes(assembly, name, template):
            report["functions"].append({**asdict(size), "total_bytes": size.total})
        metadata_file = assembly / f"{name}.metadata.json"
        if metadata_file.exists():
            acks: list[Ack] = acknowledgments(json.loads(metadata_file.read_text()))
            report["acknowledgments"] += [asdict(a) for a in acks]
    layer_sizes: dict[str, int] = {}
    for fn in report["functions"]:
        layer_sizes.update(fn["layer_bytes"])
    report["layers"] = layer_sizes
    report["unzipped_limit_bytes"] = UNZIPPED_LIMIT
    return report


def render(report: dict[str, Any]) -> str:
    lines = [f"Stacks (resources per template; budget {BUDGET_RESOURCES}, "
             f"CloudFormation's limit {MAX_RESOURCES}):"]
    for name, info in report["stacks"].items():
        lines.append(f"  {name}: {info['resources']} resources in the root template")
        for path, counted in info["templates"].items():
            lines.append(f"    {path}: {counted['resources']} ({counted['headroom']} below the budget)")
    lines.append("Layers (unzipped):")
    for logical, size in sorted(report["layers"].items()):
        lines.append(f"  {logical}: {size / MB:.1f} MB")
    lines.append(f"Functions (code + layers, unzipped; limit {UNZIPPED_LIMIT / MB:.0f} MB):")
    for fn in report["functions"]:
        flag = "" if fn["total_bytes"] <= UNZIPPED_LIMIT else "  OVER LIMIT"
        lines.append(
            f"  {fn['stack']}/{fn['function']}: code {fn['code_bytes'] / 1024:.1f} KB, "
            f"total {fn['total_bytes'] / MB:.1f} MB ({100 * fn['total_bytes'] / UNZIPPED_LIMIT:.0f}%){flag}"
        )
    if report["acknowledgments"]:
        lines.append(
            f"cdk-nag acknowledgments ({len(report['acknowledgments'])}), grouped by rule and reason:"
        )
        groups: dict[tuple[str, str], list[str]] = {}
        for ack in report["acknowledgments"]:
            rule = ack["rule"].split("[", 1)[0]
            groups.setdefault((rule, ack["reason"]), []).append(f"{ack['path']} {ack['rule'][len(rule) :]}")
        for (rule, reason), where in sorted(groups.items()):
            lines.append(f"  {rule} x{len(where)}: {reason}")
            lines += [f"      {w.strip()}" for w in where]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("assembly", nargs="?", default="cdk.out")
    parser.add_argument("--quiet-acks", action="store_true", help="count acknowledgments, do not list them")
    args = parser.parse_args(argv)
    assembly = Path(args.assembly)
    report = build_report(assembly)
    (assembly / "fileshare-report.json").write_text(json.dumps(report, indent=2) + "\n")
    shown = dict(report, acknowledgments=[]) if args.quiet_acks else report
    print(render(shown))
    if args.quiet_acks:
        count = len(report["acknowledgments"])
        print(f"cdk-nag acknowledgments: {count} (see {assembly}/fileshare-report.json)")
    over = [fn for fn in report["functions"] if fn["total_bytes"] > UNZIPPED_LIMIT]
    if over:
        print(f"{len(over)} function(s) exceed Lambda's 250 MB unzipped limit", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
