"""The files index definition: core OpenSearch features only, strict, versioned names."""

from __future__ import annotations

import json

from fileshare.search import index as search_index
from fileshare.search import query as search

# Features that need modules the minimal local node lacks (analysis-common, mapper-extras, ...).
_NOT_CORE = ("search_as_you_type", "edge_ngram", "ngram", "asciifolding", "word_delimiter",
             "rank_feature", "token_count", "scaled_float", "painless")


def test_mapping_uses_only_core_features() -> None:
    body = json.dumps(search_index.index_body())
    for feature in _NOT_CORE:
        assert feature not in body, feature


def test_mapping_is_strict_and_has_the_acl_field() -> None:
    mappings = search_index.index_body()["mappings"]
    props = mappings["properties"]
    assert mappings["dynamic"] == "strict"
    assert props["readers"] == {"type": "keyword"}
    assert props["owner_id"] == {"type": "keyword"}
    assert props["size"] == {"type": "long"}
    assert {props[f]["type"] for f in ("created_at", "updated_at", "expires_at")} == {"date"}
    name = props["name"]
    assert name["analyzer"] == "standard" and "index_prefixes" in name
    assert name["fields"]["keyword"]["type"] == "keyword"


def test_versioned_names_and_queries() -> None:
    assert search_index.versioned_name("files", 3) == "files-v3"
    query = search.name_query("rep")["multi_match"]
    assert query["type"] == "bool_prefix" and set(query["fields"]) == set(search_index.NAME_FIELDS)
    assert search.visible_to("u1") == {"term": {"readers": "u1"}}
