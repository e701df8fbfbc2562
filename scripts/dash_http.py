"""Drive a running Dash app over HTTP as its browser renderer does, for tests, the load script and the faults.

``DashClient`` opens the page (layout, callback graph, the page's signed ``end_id``), then fires callbacks the
way dash-renderer does: when a property changes, every server callback with it as an Input is called with
the current values of its Inputs and States, all of them at once (in parallel, as a browser sends them);
returned components join the page (their callbacks fire as on first render) and changed outputs cascade. Background callbacks are followed through their job handle until
they answer, with their progress recorded. Clientside callbacks are not run (they never reach the server).

It speaks to any ``requests.Session``-like object, so locust's ``HttpSession`` can count each callback under
its output's name. Why not a browser: a browser per simulated user costs ~200 MB and a core, so 200 users
would measure chromium; the server sees exactly these requests either way.
"""

from __future__ import annotations

import html
import json
import re
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

MAX_CASCADE = 50  # waves of callbacks per change: far above the app's longest chain, a stop for a loop


def id_key(component_id: Any) -> str:
    """A component id as Dash writes it in the callback graph and responses: dict ids as sorted, compact JSON."""
    if isinstance(component_id, dict):
        return json.dumps(component_id, sort_keys=True, separators=(",", ":"))
    return str(component_id)


def _split_output(output: str) -> list[tuple[str, str]]:
    """'..a.b...c.d..' or 'a.b' -> [(id, property)], without allow_duplicate's '@hash'."""
    parts = output[2:-2].split("...") if output.startswith("..") else [output]
    pairs = []
    for part in parts:
        component, prop = part.rsplit(".", 1)
        pairs.append((component, prop.split("@", 1)[0]))
    return pairs


class CallbackError(RuntimeError):
    """The server answered a callback with an error status."""


class DashClient:
    def __init__(self, http, base_url: str = "", named_requests: bool = False, poll_interval_s: float = 0.3,
                 timeout_s: float = 600) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.named = named_requests  # locust's HttpSession groups requests by a ``name`` keyword
        self.poll_interval_s = poll_interval_s
        self.timeout_s = timeout_s
        self.props: dict[tuple[str, str], Any] = {}
        self.present: set[str] = set()
        self.progress: list[dict] = []  # progress updates of background callbacks, in order
        self.end_id: str | None = None
        self.deps: list[dict] = []
        self.jobs: dict[str, list[dict]] = {}  # running background job -> its cancel inputs

    # --- transport -------------------------------------------------------------------------------------------
    def _request(self, method: str, path: str, label: str, **kw):
        if self.named:
            kw["name"] = label
        response = self.http.request(method, self.base_url + path, timeout=self.timeout_s, **kw)
        if not 200 <= response.status_code < 400:  # 0: locust's code for a connection that failed
            raise CallbackError(f"{label}: HTTP {response.status_code}: {response.text[:300]}")
        return response

    # --- page ------------------------------------------------------------------------------------------------
    def open(self, search: str = "") -> "DashClient":
        """Load the page as a browser does and fire the initial callbacks."""
        page = self._request("GET", "/", "page").text
        config = json.loads(html.unescape(re.search(r'id="_dash-config"[^>]*>(.*?)</script>', page, re.S).group(1)))
        self.end_id = config.get("end_id")
        self.deps = [d for d in self._request("GET", "/_dash-dependencies", "dependencies").json()
                     if not d.get("clientside_function")]
        self._add_tree(self._request("GET", "/_dash-layout", "layout").json())
        self.props[("location", "search")] = search
        self.props[("location", "pathname")] = "/"
        self.props[("location", "href")] = f"{self.base_url or 'http://localhost'}/{search}"
        self._run([(dep, {f"{i['id']}.{i['property']}" for i in dep["inputs"]})
                   for dep in self._initial_calls(self.present)])
        return self

    def _add_tree(self, node: Any) -> set[str]:
        """Record every component in a layout subtree with its props; return the ids added."""
        added: set[str] = set()
        if isinstance(node, list):
            for child in node:
                added |= self._add_tree(child)
        elif isinstance(node, dict) and "props" in node and "type" in node:
            props = node["props"]
            if "id" in props:
                key = id_key(props["id"])
                added.add(key)
                self.present.add(key)
                for prop, value in props.items():
                    self.props.setdefault((key, prop), value)
            for value in props.values():
                added |= self._add_tree(value)
        return added

    # --- callbacks -------------------------------------------------------------------------------------------
    def change(self, component_id: Any, prop: str, value: Any) -> None:
        """The user sets a property (a click, a dropdown choice); every callback it feeds runs, and cascades."""
        key = id_key(component_id)
        self.props[(key, prop)] = value
        self._run([(dep, {f"{key}.{prop}"}) for dep in self._dependents({(key, prop)})])

    def get(self, component_id: Any, prop: str) -> Any:
        return self.props.get((id_key(component_id), prop))

    def _inputs_present(self, dep: dict) -> bool:
        return all(self._is_wildcard(i["id"]) or i["id"] in self.present for i in dep["inputs"])

    @staticmethod
    def _is_wildcard(dep_id: str) -> bool:
        return dep_id.startswith("{") and '["ALL"]' in dep_id

    def _initial_calls(self, new_ids: set[str]) -> list[dict]:
        return [d for d in self.deps if not d.get("prevent_initial_call") and self._inputs_present(d)
                and any(i["id"] in new_ids for i in d["inputs"])]

    def _dependents(self, changed: set[tuple[str, str]]) -> list[dict]:
        return [d for d in self.deps if self._inputs_present(d)
                and any((i["id"], i["property"]) in changed for i in d["inputs"])]

    def _values(self, specs: list[dict]) -> list:
        values = []
        for spec in specs:
            if self._is_wildcard(spec["id"]):
                pattern = json.loads(spec["id"])
                matched = [json.loads(k) for k in sorted(self.present) if k.startswith("{")]
                matched = [m for m in matched if m.keys() == pattern.keys()
                           and all(v == ["ALL"] or m[k] == v for k, v in pattern.items())]
                values.append([{"id": m, "property": spec["property"], "value": self.props.get((id_key(m), spec["property"]))}
                               for m in matched])
            else:
                values.append({"id": spec["id"], "property": spec["property"],
                               "value": self.props.get((spec["id"], spec["property"]))})
        return values

    def _body(self, dep: dict, changed: list[str]) -> dict:
        outputs = [{"id": i, "property": p} for i, p in _split_output(dep["output"])]
        return {"output": dep["output"], "outputs": outputs if dep["output"].startswith("..") else outputs[0],
                "inputs": self._values(dep["inputs"]), "state": self._values(dep.get("state", [])),
                "changedPropIds": changed}

    def call(self, dep: dict, changed: list[str]) -> dict:
        """POST one callback (following a background job to its end); its response's ``response`` part."""
        label = ",".join(f"{i}.{p}" for i, p in _split_output(dep["output"])[:1])
        body = self._body(dep, changed)
        params = {"endId": self.end_id} if self.end_id else {}
        inputs = [{"id": i["id"], "property": i["property"]} for i in dep["inputs"]]
        cancels = [job for job, cancel in list(self.jobs.items()) if any(c in inputs for c in cancel)]
        if cancels:  # as the renderer does: a callback on a job's cancel input names the job to stop
            params["cancelJob"] = cancels
        answer = self._request("POST", "/_dash-update-component", label, json=body, params=params)
        if answer.status_code == 204:
            return {}
        data = answer.json()
        if "cacheKey" in data:  # a background callback: poll its job as the renderer does
            job = data["job"]
            self.jobs[job] = data.get("cancel") or []
            try:
                data = self._follow(label, body, {**params, "cacheKey": data["cacheKey"], "job": job})
            finally:
                self.jobs.pop(job, None)
        for component, props in data.get("sideUpdate", {}).items():
            data.setdefault("response", {}).setdefault(component, {}).update(props)
        return data.get("response", {})

    def _follow(self, label: str, body: dict, params: dict) -> dict:
        blank = {**body, "inputs": [_blank(i) for i in body["inputs"]], "state": [_blank(s) for s in body["state"]]}
        deadline = time.monotonic() + self.timeout_s
        while time.monotonic() < deadline:
            time.sleep(self.poll_interval_s)
            answer = self._request("POST", "/_dash-update-component", f"{label} (poll)", json=blank, params=params)
            if answer.status_code == 204:
                return {}
            data = answer.json()
            if "progress" in data:
                self.progress.append(data["progress"])
            if "response" in data or "sideUpdate" in data:
                return data
        raise TimeoutError(f"{label}: no answer within {self.timeout_s} s")

    def _run(self, first: list[tuple[dict, set[str]]]) -> None:
        """Fire callbacks in waves, as the renderer does: every callback whose inputs changed is sent at once
        (in parallel, each once however many of its inputs changed); their answers make the next wave."""
        wave = first
        for _ in range(MAX_CASCADE):
            if not wave:
                return
            merged: dict[str, tuple[dict, set[str]]] = {}
            for dep, changed_ids in wave:
                merged.setdefault(dep["output"], (dep, set()))[1].update(changed_ids)
            calls = list(merged.values())
            if len(calls) == 1:
                responses = [self.call(calls[0][0], sorted(calls[0][1]))]
            else:
                with ThreadPoolExecutor(max_workers=len(calls)) as pool:
                    responses = list(pool.map(lambda call: self.call(call[0], sorted(call[1])), calls))
            changed: set[tuple[str, str]] = set()
            added: set[str] = set()
            for response in responses:
                for component, props in response.items():
                    for prop, value in props.items():
                        if self.props.get((component, prop)) != value:
                            changed.add((component, prop))
                        self.props[(component, prop)] = value
                        if prop == "children":
                            added |= self._add_tree(value)
            changed_ids = {f"{c}.{p}" for c, p in changed}
            wave = [(dep, changed_ids) for dep in self._dependents(changed)]
            wave += [(dep, {f"{i['id']}.{i['property']}" for i in dep["inputs"]}) for dep in self._initial_calls(added)]
        raise RuntimeError(f"more than {MAX_CASCADE} waves of callbacks from one change: a loop?")


def _blank(spec):
    """The renderer sends a background job's polls with every value nulled (the job already has them)."""
    if isinstance(spec, list):
        return [_blank(s) for s in spec]
    return {**spec, "value": None}
