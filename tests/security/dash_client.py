"""Drive Dash callbacks over HTTP as a browser (or a forged request) does: POST /_dash-update-component."""

from __future__ import annotations

import json
import re
import time


def callback_key(app, *output_ids: str) -> str:
    """The callback-map key of the one callback whose outputs include every ``id.property`` given."""
    def parts(key):
        return {part.split("@")[0] for part in key.strip(".").split("...")}

    found = [key for key in app.callback_map if set(output_ids) <= parts(key)]
    if len(found) > 1:  # another callback sets the same outputs with allow_duplicate: the original one
        found = [key for key in found if "@" not in key]
    assert len(found) == 1, (output_ids, found)
    return found[0]


def _spec(item: dict, values: dict) -> dict | list:
    key = f"{item['id']}.{item['property']}"
    if item["id"].startswith("{"):  # a pattern (ALL): no components of it on this forged page
        return []
    return {"id": item["id"], "property": item["property"], "value": values.get(key)}


def end_id(client) -> str:
    page = client.get("/").get_data(as_text=True)
    return re.search(r'"end_id":\s*"([^"]+)"', page).group(1)


def post(client, app, key: str, values: dict, changed: list[str], timeout_s: float = 60):
    """POST one callback with these input/state values; for a background one, poll until it answers.

    Returns the Flask response of the last request (its JSON has the outputs, or the status tells a refusal).
    """
    entry = app.callback_map[key]
    outputs = [{"id": o.split(".")[0], "property": o.split(".")[1].split("@")[0]}
               for o in key.strip(".").split("...")]
    body = {
        "output": key,
        "outputs": outputs if len(outputs) > 1 else outputs[0],
        "inputs": [_spec(i, values) for i in entry["inputs"]],
        "state": [_spec(s, values) for s in entry["state"]],
        "changedPropIds": changed,
    }
    query = {"endId": end_id(client)}
    deadline = time.time() + timeout_s
    while True:
        response = client.post("/_dash-update-component", query_string=query, data=json.dumps(body),
                               content_type="application/json")
        if response.status_code != 200 or not entry.get("background"):
            return response
        data = response.get_json()
        if "cacheKey" in data and "job" in data and "response" not in data:
            query.update(cacheKey=data["cacheKey"], job=data["job"])
        elif "response" in data:
            return response
        assert time.time() < deadline, "the background callback did not answer in time"
        time.sleep(0.3)
