#!/usr/bin/python3
"""Writes the XML-RPC golden vectors: bodies exactly as Python's
xmlrpc.client produces them, plus golden.json, which says what each body
holds as Python itself reads it back (xmlrpc.client.loads).

Run from anywhere:  /usr/bin/python3 xmlrpc/testdata/golden/gen.py

Values in golden.json are tagged so that no type is lost in JSON:
{"int": 5}, {"double": 0.5}, {"boolean": true}, {"string": "x"},
{"base64": "aGk="}, {"dateTime": "2006-01-02T15:04:05"}, {"nil": null},
{"array": [...]}, {"struct": {"k": ...}}.
"""
import base64
import datetime
import json
import os
import xmlrpc.client as xc

HERE = os.path.dirname(os.path.abspath(__file__))


def tag(v):
    if v is None:
        return {"nil": None}
    if isinstance(v, bool):
        return {"boolean": v}
    if isinstance(v, int):
        return {"int": v}
    if isinstance(v, float):
        return {"double": v}
    if isinstance(v, str):
        return {"string": v}
    if isinstance(v, (bytes, bytearray)):
        return {"base64": base64.b64encode(bytes(v)).decode("ascii")}
    if isinstance(v, datetime.datetime):
        return {"dateTime": v.isoformat()}
    if isinstance(v, (list, tuple)):
        return {"array": [tag(e) for e in v]}
    if isinstance(v, dict):
        return {"struct": {k: tag(e) for k, e in v.items()}}
    raise TypeError(type(v))


NESTED = {
    "name": "nested <&>",
    "list": [1, "two", 3.5, [True, None, []], {"deep": {"deeper": [b"\x00\xff"]}}],
    "empty struct": {},
    "when": datetime.datetime(1999, 12, 31, 23, 59, 59),
}

# name -> (params, kwargs for dumps)
CALLS = {
    "call_fun_add": ((2, 3), {"methodname": "fun_add"}),
    "call_no_params": ((), {"methodname": "system.listMethods"}),
    "call_several": ((1, "two", 3.0, True, [1, 2], {"k": "v"}), {"methodname": "ns.method_1"}),
    "call_int": ((42,), {"methodname": "m"}),
    "call_int_negative": ((-17, 0, -(2**31)), {"methodname": "m"}),
    "call_int32_max": ((2**31 - 1, 1), {"methodname": "fun_add"}),
    "call_bool": ((True, False), {"methodname": "m"}),
    "call_string_escapes": (("a<b>&c 'q' \"dq\" \t tab\nline",), {"methodname": "m"}),
    "call_string_unicode": (("héllo wörld ✓ 日本 😀",), {"methodname": "m"}),
    "call_string_cr": (("a\rb\r\nc",), {"methodname": "m"}),
    "call_string_empty": (("",), {"methodname": "m"}),
    "call_double": ((0.1, -1.5, 1e21, 1.5e-7, 3.0, 5e-324, 1.7976931348623157e308), {"methodname": "m"}),
    "call_datetime": ((datetime.datetime(2006, 1, 2, 15, 4, 5),), {"methodname": "m"}),
    "call_base64": ((bytes(range(256)),), {"methodname": "m"}),
    "call_base64_empty": ((b"",), {"methodname": "m"}),
    "call_nested": ((NESTED,), {"methodname": "m", "allow_none": True}),
    "call_nil": ((None,), {"methodname": "m", "allow_none": True}),
    "call_encoding_decl": (("ü",), {"methodname": "m", "encoding": "utf-8"}),
    # Python does not escape method names, so none with & or < here.
}

RESPONSES = {
    "response_int": ((5,), {}),
    "response_string": (("Hello, world",), {}),
    "response_struct": (({"a": 1, "b": [1.5, "x"]},), {}),
    "response_nil": ((None,), {"allow_none": True}),
    "response_nested": ((NESTED,), {"allow_none": True}),
}

FAULTS = {
    "fault_python": xc.Fault(1, "<class 'Exception'>:method \"x\" is not supported"),
    "fault_escapes": xc.Fault(-32601, "no <such> method & more"),
}

# Bodies Python cannot produce but reads (peers such as Apache XML-RPC
# send them). Kept byte for byte; golden.json still holds what Python's
# loads makes of them.
HANDWRITTEN = {
    "call_apache_ext": (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<methodCall xmlns:ex="http://ws.apache.org/xmlrpc/namespaces/extensions">'
        "<methodName>m</methodName><params>"
        "<param><value><ex:i8>5000000000</ex:i8></value></param>"
        "<param><value><ex:nil/></value></param>"
        "<param><value><i8>-9223372036854775808</i8></value></param>"
        "</params></methodCall>"
    ),
    "call_bare_values": (
        "<?xml version='1.0'?>\n<!-- a comment -->\n<methodCall>\n"
        "  <methodName>m</methodName>\n  <params>\n"
        "    <param><value>bare text</value></param>\n"
        "    <param><value></value></param>\n"
        "    <param><value/></param>\n"
        "    <param><value><string><![CDATA[<cdata & stuff>]]></string></value></param>\n"
        "    <param><value><string>&#65;&#x42;&#x1F600;&apos;&quot;</string></value></param>\n"
        "  </params>\n</methodCall>\n"
    ),
}


def main():
    for old in os.listdir(HERE):
        if old.endswith(".xml"):
            os.remove(os.path.join(HERE, old))
    manifest = []

    def write(name, body):
        with open(os.path.join(HERE, name + ".xml"), "wb") as f:
            f.write(body.encode("utf-8"))

    for name, (params, kw) in CALLS.items():
        body = xc.dumps(params, **kw)
        write(name, body)
        got, method = xc.loads(body, use_builtin_types=True)
        manifest.append({"name": name, "kind": "call", "method": method, "params": [tag(v) for v in got]})

    for name, (params, kw) in RESPONSES.items():
        body = xc.dumps(params, methodresponse=True, **kw)
        write(name, body)
        got, _ = xc.loads(body, use_builtin_types=True)
        manifest.append({"name": name, "kind": "response", "result": tag(got[0])})

    for name, fault in FAULTS.items():
        body = xc.dumps(fault, methodresponse=True)
        write(name, body)
        try:
            xc.loads(body)
            raise AssertionError("fault did not raise")
        except xc.Fault as f:
            manifest.append({"name": name, "kind": "fault", "code": f.faultCode, "message": f.faultString})

    for name, body in HANDWRITTEN.items():
        write(name, body)
        got, method = xc.loads(body, use_builtin_types=True)
        manifest.append({"name": name, "kind": "call", "method": method, "params": [tag(v) for v in got]})

    with open(os.path.join(HERE, "golden.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1, ensure_ascii=False, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
