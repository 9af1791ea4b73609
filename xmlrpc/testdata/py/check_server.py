#!/usr/bin/env python3
"""Checks an rpcwire XML-RPC server with Python's stock xmlrpc.client.

usage: check_server.py URL

The server must serve funcs.NewRegistry() (fun_add, fib and the system.*
methods). Prints one line per check and "ALL OK" at the end; exits 1 with
the failed check's message otherwise. Run by interop_test.go.
"""
import sys
import threading
from xmlrpc.client import Fault, MultiCall, ServerProxy

URL = sys.argv[1]
TIMEOUT = 10  # seconds per check, so a broken server fails instead of hanging


def proxy():
    # ServerProxy is not thread-safe: one per thread.
    return ServerProxy(URL)


def expect_fault(call, code, text):
    try:
        call()
    except Fault as f:
        assert f.faultCode == code, f"want fault code {code}, got {f.faultCode}: {f.faultString}"
        assert text in f.faultString, f"want {text!r} in fault string {f.faultString!r}"
        return f
    raise AssertionError(f"want fault {code}, got a result")


def check(name, fn):
    fn()
    print("ok", name, flush=True)


def concurrent():
    threads, calls = 8, 50
    errors = []

    def worker(w):
        s = proxy()
        try:
            for i in range(calls):
                got = s.fun_add(w, i * 1000)
                if got != w + i * 1000:
                    errors.append(f"fun_add({w}, {i * 1000}) = {got}")
        except Exception as e:  # noqa: BLE001 - report whatever broke
            errors.append(repr(e))

    ts = [threading.Thread(target=worker, args=(w,)) for w in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(TIMEOUT)
        assert not t.is_alive(), "a thread is stuck"
    assert not errors, errors


def multicall():
    s = proxy()
    m = MultiCall(s)
    m.fun_add(2, 3)
    m.fib(7)
    m.fib(-1)
    it = iter(m())
    assert next(it) == 5
    assert next(it) == 13
    f = expect_fault(lambda: next(it), -32602, "negative")
    assert f


def main():
    import socket
    socket.setdefaulttimeout(TIMEOUT)
    s = proxy()
    check("fun_add(2, 3) == 5", lambda: assert_eq(s.fun_add(2, 3), 5))
    check("fib(7) == 13", lambda: assert_eq(s.fib(7), 13))
    check("fun_add(2**31-1, 1) == 2**31", lambda: assert_eq(s.fun_add(2**31 - 1, 1), 2**31))
    check("fib(90)", lambda: assert_eq(s.fib(90), 2880067194370816120))
    check("fib(-1) is fault -32602", lambda: expect_fault(lambda: s.fib(-1), -32602, "negative"))
    check("unknown method is fault -32601", lambda: expect_fault(lambda: s.no_such_method(), -32601, "no_such_method"))
    check("wrong argument count is fault -32602", lambda: expect_fault(lambda: s.fun_add(1), -32602, ""))
    check("system.listMethods", lambda: assert_in_all(["fun_add", "fib", "system.multicall"], s.system.listMethods()))
    check("system.methodSignature", lambda: assert_eq(s.system.methodSignature("fun_add"), [["int", "int", "int"]]))
    check("system.methodHelp", lambda: assert_in("Fibonacci", s.system.methodHelp("fib")))
    check("system.multicall", multicall)
    check("8 threads x 50 calls", concurrent)
    print("ALL OK", flush=True)


def assert_eq(got, want):
    assert got == want, f"want {want!r}, got {got!r}"


def assert_in(part, whole):
    assert part in whole, f"want {part!r} in {whole!r}"


def assert_in_all(parts, whole):
    for p in parts:
        assert_in(p, whole)


if __name__ == "__main__":
    main()
