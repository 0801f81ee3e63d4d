"""Configuration the local Kafka and OpenSearch nodes are started with (pure functions, no JVM)."""

from __future__ import annotations

import base64
from pathlib import Path

from stackctl.services import kafka, opensearch


def _properties(text: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))
    return {key: value for key, value in pairs}


def test_cluster_id_looks_like_kafkas_own() -> None:
    ids = {kafka.new_cluster_id() for _ in range(200)}
    assert len(ids) == 200
    for cluster_id in ids:
        assert len(cluster_id) == 22 and not cluster_id.startswith("-")
        assert len(base64.urlsafe_b64decode(cluster_id + "==")) == 16


def test_server_properties_single_kraft_node_without_auto_create(tmp_path: Path) -> None:
    props = _properties(kafka.server_properties(log_dir=tmp_path, port=9092, controller_port=9093))
    assert props["process.roles"] == "broker,controller"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:9093"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093"
    assert props["advertised.listeners"] == "PLAINTEXT://127.0.0.1:9092"
    assert props["auto.create.topics.enable"] == "false"
    assert props["log.dirs"] == str(tmp_path)
    # Internal topics must fit on one broker, or consumer groups never work.
    assert props["offsets.topic.replication.factor"] == "1"
    assert props["transaction.state.log.replication.factor"] == "1"


def test_events_topic_has_three_partitions() -> None:
    from fileshare.bootstrap import app_topics

    topics = {spec.name: spec for spec in app_topics("fileshare.events")}
    assert topics["fileshare.events"].partitions == 3


def test_opensearch_node_is_single_loopback_without_auto_create(tmp_path: Path) -> None:
    yml = opensearch.opensearch_yml(data=tmp_path / "data", logs=tmp_path / "logs")
    settings = dict(line.split(": ", 1) for line in yml.splitlines() if not line.startswith("#"))
    assert settings["discovery.type"] == "single-node"
    assert settings["network.host"] == "127.0.0.1"
    assert settings["http.port"] == "9200"
    assert settings["action.auto_create_index"] == "false"
    assert settings["path.data"] == str(tmp_path / "data")
    assert "plugins.security.disabled" not in settings  # unknown without the plugin: node won't start


def test_opensearch_heap_is_fixed_and_not_pre_touched(tmp_path: Path) -> None:
    options = opensearch.jvm_options(heap="512m", error_dir=tmp_path).splitlines()
    assert "-Xms512m" in options and "-Xmx512m" in options
    assert "-XX:-AlwaysPreTouch" in options
    assert "18-:-Djava.security.manager=allow" in options


def test_jar_artifact_strips_the_version() -> None:
    assert opensearch.jar_artifact("lucene-core-9.12.3.jar") == "lucene-core"
    assert opensearch.jar_artifact("zstd-jni-1.5.5-5.jar") == "zstd-jni"
    assert opensearch.jar_artifact("netty-codec-4.1.135.Final.jar") == "netty-codec"
    assert opensearch.jar_artifact("opensearch-scripting-painless-spi-2.19.6.jar") == (
        "opensearch-scripting-painless-spi")


def test_modules_get_a_descriptor_and_only_the_grants_they_need() -> None:
    modules = {module.name: module for module in opensearch.MODULES}
    painless = modules["lang-painless"]
    descriptor = dict(line.split("=", 1) for line in painless.descriptor().splitlines())
    assert descriptor["classname"] == "org.opensearch.painless.PainlessPlugin"
    assert descriptor["opensearch.version"] == opensearch.OPENSEARCH_VERSION
    assert 'RuntimePermission "createClassLoader"' in painless.security_policy()
    assert modules["analysis-common"].descriptor().count("extended.plugins=lang-painless") == 1
    assert modules["reindex"].permissions == ()
    assert "<artifactId>opensearch</artifactId>" in modules["reindex"].pom()  # server excluded
