#!/usr/bin/env python3
"""The layering is enforced by the build, not by convention.

Each library sees only the headers of the libraries it links (the include
views of certbridge_library in the top CMakeLists.txt). This compiles a
one-line probe with the exact command a library's own source is compiled
with (from compile_commands.json): a header the layering allows must compile,
a forbidden one must fail as "No such file". Usage: layering_test.py BUILD_DIR
"""
import json
import os
import shlex
import subprocess
import sys
import tempfile

# (a source of the library, header it may include, headers it must not see)
RULES = [
    ("server/common/log.cc", "server/common/errors.h",
     ["server/http/http_transport.h", "server/backends/vendor.h"]),
    # Trace context is a value type of common: CallContext holds it, not
    # the other way round.
    ("server/common/trace_context.cc", "server/common/uuid.h",
     ["server/backends/call_context.h", "server/http/http_transport.h"]),
    ("server/http/multipart.cc", "server/common/log.h",
     ["server/backends/vendor.h", "server/service/certificate_service.h"]),
    ("server/backends/rest_exchange.cc", "server/http/http_transport.h",
     ["server/backends/leegality/leegality_stub.h",
      "server/backends/apinizer/apinizer_json.h",
      "server/service/certificate_service.h"]),
    # Vendors do not see each other.
    ("server/backends/leegality/leegality_stub.cc",
     "server/backends/rest_exchange.h",
     ["server/backends/apinizer/apinizer_json.h"]),
    ("server/backends/apinizer/apinizer_stub.cc",
     "server/backends/rest_exchange.h",
     ["server/backends/leegality/leegality_json.h"]),
    # The inventory uses the connection's stack, never the service's RPCs or
    # a vendor's internals (it reaches vendors through vendor.h).
    ("server/inventory/inventory_poller.cc", "server/backends/vendor.h",
     ["server/service/certificate_service.h",
      "server/observability/prometheus_metrics.h",
      "server/backends/apinizer/apinizer_json.h",
      "server/backends/leegality/leegality_stub.h"]),
    # The client shares no server internals beyond common.
    ("client/command_line.cc", "server/common/errors.h",
     ["server/backends/vendor.h", "server/http/http_transport.h"]),
    # certctl sees the client library; the library sees neither certctl nor
    # server internals beyond common.
    ("client/commands.cc", "client/library/certificate_client.h",
     ["server/backends/vendor.h"]),
    ("client/library/certificate_client.cc", "server/common/errors.h",
     ["client/commands.h", "client/vendors/cli_vendor.h",
      "server/backends/vendor.h", "server/service/certificate_service.h"]),
]


def compiler_args(entry, probe):
    args = shlex.split(entry["command"]) if "command" in entry else entry["arguments"]
    # Drop launchers (cmake -E env ..., ccache): start at the compiler.
    start = next(i for i, a in enumerate(args)
                 if os.path.basename(a).endswith(("c++", "g++", "clang++")))
    out, skip = [], False
    for a in args[start:]:
        if skip:
            skip = False
            continue
        if a in ("-o", "-c", "-MF", "-MT", "-MQ"):
            skip = True
            continue
        if a in ("-MD", "-MMD"):
            continue
        out.append(a)
    return out + ["-fsyntax-only", probe]


def compiles(entry, header, workdir):
    probe = os.path.join(workdir, "probe.cc")
    with open(probe, "w") as f:
        f.write('#include "%s"\n' % header)
    r = subprocess.run(compiler_args(entry, probe), cwd=entry["directory"],
                       capture_output=True, text=True)
    return r.returncode == 0, r.stderr


def main():
    build = sys.argv[1]
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(os.path.join(build, "compile_commands.json")) as f:
        db = {os.path.relpath(e["file"], root): e for e in json.load(f)}
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        for source, allowed, forbidden in RULES:
            entry = db.get(source)
            if entry is None:
                failures.append("%s is not in compile_commands.json" % source)
                continue
            ok, err = compiles(entry, allowed, tmp)
            if not ok:
                failures.append("%s cannot include %s (allowed):\n%s" %
                                (source, allowed, err[-2000:]))
            for header in forbidden:
                ok, err = compiles(entry, header, tmp)
                if ok:
                    failures.append("%s can include %s: the layering leaks" %
                                    (source, header))
                elif "No such file" not in err:
                    failures.append("%s including %s failed for another "
                                    "reason:\n%s" % (source, header, err[-2000:]))
                else:
                    print("ok: %s cannot see %s" % (source, header))
    for f in failures:
        print("FAIL: " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
