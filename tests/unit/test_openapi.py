"""docs/openapi.json is what the request models generate, and it describes the wire contract."""

from __future__ import annotations

import json
from pathlib import Path

from stillframe.api.openapi import REGENERATE, document

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def test_committed_document_matches_the_code() -> None:
    # Given the committed document; When the models generate it again; Then nothing differs
    assert COMMITTED.read_text(encoding="utf-8") == document(), f"docs/openapi.json is stale; run: {REGENERATE}"


def test_document_carries_the_models_wire_names_and_constraints() -> None:
    # Given the generated document
    spec = json.loads(document())
    schemas = spec["components"]["schemas"]
    # Then every KVS operation is a POST with its request model as the JSON body
    body = spec["paths"]["/getImages"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/GetImagesRequest"}
    assert {"/createStream", "/describeStream", "/listStreams", "/deleteStream", "/getDataEndpoint"} <= set(
        spec["paths"]
    )
    assert "/listFragments" in spec["paths"]
    # And members are named as on the wire, with the service model's rules
    images = schemas["GetImagesRequest"]
    assert set(images["required"]) == {"ImageSelectorType", "StartTimestamp", "EndTimestamp", "Format"}
    assert images["properties"]["Format"]["enum"] == ["JPEG", "PNG"]
    interval = images["properties"]["SamplingInterval"]
    assert (interval["minimum"], interval["default"]) == (200, 3000)
    name = schemas["CreateStreamRequest"]["properties"]["StreamName"]
    assert (name["minLength"], name["maxLength"]) == (1, 256)


def test_the_routes_and_the_document_agree_with_the_operation_table() -> None:
    # Given the one operation table, the resolver's routes and the generated document
    from stillframe.api.app import app
    from stillframe.domain.operations import OPERATIONS
    from stillframe.domain.playback import PLAYBACK_PATHS

    routes = {(route.method, route.path): route for route in app._static_routes + app._dynamic_routes}
    paths = json.loads(document())["paths"]
    # Then every row has exactly one POST route and one documented path, every playback resource one GET, and
    # nothing else is routed
    playback = {("GET", path) for path in PLAYBACK_PATHS}
    assert set(routes) == {("POST", spec.path) for spec in OPERATIONS} | playback
    assert set(paths) == {spec.path for spec in OPERATIONS} | set(PLAYBACK_PATHS)
    assert all(set(paths[path]) == {"get"} for path in PLAYBACK_PATHS)
    # And each route validates the row's request model (PutMedia's is its headers, read by the route itself)
    for spec in OPERATIONS:
        schema = paths[spec.path]["post"].get("requestBody", {}).get("content", {}).get("application/json", {})
        expected = None if spec.from_headers else {"$ref": f"#/components/schemas/{spec.request.__name__}"}
        assert schema.get("schema") == expected, spec.name
