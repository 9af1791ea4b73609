#!/usr/bin/env python3
"""The peers' case runner on Python's stock xmlrpc.client, as the reference.

usage: xmlrpc_client.py URL

ServerProxy(URL) with its defaults (allow_none=False, use_builtin_types=False):
runs every case of ../cases.json and prints one JSON object per line,
  {"case", "ok", "result", "fault_code", "fault_string", "error"},
as the php/, ruby/ and node/ clients do. ok is true when the case got what
cases.json wants; error is set when the call failed other than by a fault
(xmlrpc.client refusing a value, an HTTP error, an undecodable reply). The
multicall case uses xmlrpc.client.MultiCall; its per-call results (value or
Fault) are shown in the wire's shape: [value] or {faultCode, faultString}.
Results: Binary as {"base64": "..."}, DateTime as {"datetime": its value}.
Exits 0 whatever the cases did; 2 when it cannot run.
"""
import base64
import json
import os
import socket
import sys
from xmlrpc.client import Binary, DateTime, Fault, MultiCall, ProtocolError, ServerProxy

TIMEOUT = 10  # seconds per call


def to_py(v):
    """A cases.json value as xmlrpc.client encodes it."""
    if isinstance(v, dict):
        if list(v) == ["base64"]:
            return Binary(base64.b64decode(v["base64"]))
        if list(v) == ["datetime"]:
            return DateTime(v["datetime"])
        return {k: to_py(x) for k, x in v.items()}
    if isinstance(v, list):
        return [to_py(x) for x in v]
    return v


def to_json(v):
    """A decoded value as JSON terms."""
    if isinstance(v, Binary):
        return {"base64": base64.b64encode(v.data).decode()}
    if isinstance(v, DateTime):
        return {"datetime": v.value}
    if isinstance(v, Fault):
        return {"faultCode": v.faultCode, "faultString": v.faultString}
    if isinstance(v, dict):
        return {k: to_json(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [to_json(x) for x in v]
    return v


def same(want, got, subset):
    """Numbers by value, dicts in any key order (only want's keys when subset), the rest strictly."""
    num = (int, float)
    if isinstance(want, num) and isinstance(got, num) and not isinstance(want, bool) and not isinstance(got, bool):
        return want == got
    if isinstance(want, dict) and isinstance(got, dict):
        if not subset and len(want) != len(got):
            return False
        return all(k in got and same(w, got[k], subset) for k, w in want.items())
    if isinstance(want, list) and isinstance(got, list):
        return len(want) == len(got) and all(same(w, g, subset) for w, g in zip(want, got))
    return type(want) is type(got) and want == got


def run_case(url, c):
    s = ServerProxy(url)
    params = [to_py(p) for p in c["params"]]
    try:
        if c["method"] == "system.multicall":
            m = MultiCall(s)
            for call in params[0]:
                getattr(m, call["methodName"])(*call["params"])
            results = m()
            value = []
            for i in range(len(results.results)):
                try:
                    value.append([results[i]])
                except Fault as f:
                    value.append(f)
        else:
            value = getattr(s, c["method"])(*params)
    except Fault as f:
        return {"ok": f.faultCode == c.get("want_fault"), "fault_code": f.faultCode, "fault_string": f.faultString}
    except ProtocolError as e:
        return {"ok": False, "error": f"HTTP {e.errcode} {e.errmsg}"}
    except Exception as e:  # noqa: BLE001 - report whatever broke
        return {"ok": False, "error": f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"[:400]}
    result = to_json(value)
    if "want_fault" in c:
        ok = False
    elif "want_contains" in c:
        ok = isinstance(result, list) and all(w in result for w in c["want_contains"])
    else:
        ok = same(c["want"], result, c.get("subset", False))
    return {"ok": ok, "result": result}


def main():
    if len(sys.argv) < 2:
        print("usage: xmlrpc_client.py URL", file=sys.stderr)
        sys.exit(2)
    url = sys.argv[1]
    socket.setdefaulttimeout(TIMEOUT)
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cases.json"), encoding="utf-8") as f:
        cases = json.load(f)["cases"]
    for c in cases:
        out = run_case(url, c)
        line = {"case": c["case"], "ok": out["ok"], "result": out.get("result"),
                "fault_code": out.get("fault_code"), "fault_string": out.get("fault_string"), "error": out.get("error")}
        print(json.dumps(line, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
