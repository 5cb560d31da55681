#!/usr/bin/env python3
"""Vessel's test runner (make check).

Runs, two at a time by default:
  - every build/tests/unit/test-* GTest binary with --tap (each ok / not ok is one test;
    a crash is a failure),
  - every build/tests/guest/riscv/*.elf payload on build/vessel -M virt -bios none
    (pass = exit status 0 and a line starting with PASS, within 60 s),
  - every function test_* of every tests/**/test_*.py module, each in its own process
    (raising testlib.Skip or unittest.SkipTest skips it). A module may set TIMEOUT (seconds
    per test, default 600) and PARALLEL = False (its tests then run alone, after the others).

Prints PASS / FAIL / SKIP lines, the output of failed tests, and a last line
"N passed, N failed[, N skipped]"; exits 1 when anything failed.
"""

import argparse
import fnmatch
import importlib.util
import inspect
import os
import re
import signal
import subprocess
import sys
import threading
import traceback
import unittest
from concurrent.futures import ThreadPoolExecutor

TESTS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(TESTS)
BUILD = os.path.join(ROOT, "build")
VESSEL = os.path.join(BUILD, "vessel")
UNIT_DIR = os.path.join(BUILD, "tests", "unit")
PAYLOAD_DIR = os.path.join(BUILD, "tests", "guest", "riscv")

UNIT_TIMEOUT = 120
PAYLOAD_TIMEOUT = 60
PY_TIMEOUT = 600
SKIP_EXIT = 77
FAIL_MARK = "@@vessel-test-fail@@ "
SKIP_MARK = "@@vessel-test-skip@@ "


class Result:
    """The outcome of one test: status is PASS, FAIL or SKIP."""

    def __init__(self, name, status, reason="", output=""):
        self.name = name
        self.status = status
        self.reason = reason
        self.output = output


def run_bounded(argv, timeout, cwd=ROOT):
    """Runs argv in its own process group with stdout and stderr merged and stdin closed.
    Returns (exit status or None on timeout, output). When the process ends (or times out)
    its whole group is killed, so leftovers cannot hold the output open."""
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, cwd=cwd, env=env,
                                start_new_session=True)
    except OSError as e:
        return -1000, "cannot run %s: %s\n" % (argv[0], e.strerror)
    chunks = []
    reader = threading.Thread(target=lambda: chunks.append(proc.stdout.read()), daemon=True)
    reader.start()
    try:
        status = proc.wait(timeout)
    except subprocess.TimeoutExpired:
        status = None
    kill_group(proc.pid)
    proc.wait()
    reader.join(10)
    proc.stdout.close()
    return status, b"".join(chunks).decode("utf-8", "replace")


def kill_group(pgid):
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def describe_status(status, timeout):
    if status is None:
        return "timed out after %d s" % timeout
    if status == -1000:
        return "could not be started"
    if status < 0:
        try:
            return "killed by %s" % signal.Signals(-status).name
        except ValueError:
            return "killed by signal %d" % -status
    return "exit status %d" % status


class Selector:
    """-k patterns: glob when the pattern has * ? or [, otherwise substring; any may match."""

    def __init__(self, patterns):
        self.patterns = patterns or []

    def __call__(self, name):
        if not self.patterns:
            return True
        for p in self.patterns:
            if any(c in p for c in "*?[") and fnmatch.fnmatchcase(name, p):
                return True
            if p in name:
                return True
        return False


# ---- GTest unit binaries -------------------------------------------------------------------

TAP_LINE = re.compile(r"^(not ok|ok)\s+\d+\s*(.*?)\s*(?:#\s*(SKIP|TODO)\b\s*(.*))?$",
                      re.IGNORECASE)
TAP_PLAN = re.compile(r"^1\.\.(\d+)")


def unit_binaries():
    if not os.path.isdir(UNIT_DIR):
        return []
    found = []
    for name in sorted(os.listdir(UNIT_DIR)):
        path = os.path.join(UNIT_DIR, name)
        if re.fullmatch(r"test-[^.]+", name) and os.path.isfile(path) \
                and os.access(path, os.X_OK):
            found.append(path)
    return found


def unit_job(binary, select):
    """A callable running one GTest binary (only the selected paths), or None when none is."""
    prefix = "unit/" + os.path.basename(binary)
    _, out = run_bounded([binary, "-l"], UNIT_TIMEOUT)
    paths = [p.strip() for p in out.splitlines() if p.strip().startswith("/")]
    argv = [binary, "--tap"]
    if not select(prefix):
        paths = [p for p in paths if select(prefix + p)]
        if not paths:
            return None
        for p in paths:
            argv += ["-p", p]

    def run():
        status, out = run_bounded(argv, UNIT_TIMEOUT)
        return parse_tap(prefix, paths, status, out)
    return run


def parse_tap(prefix, paths, status, out):
    """Results of a --tap run; when the binary dies without a "not ok", the first listed path
    without a result is the one that crashed."""
    results = []
    reported = set()
    planned = None
    failed = False
    bail = ""
    for line in out.splitlines():
        line = line.strip()
        m = TAP_LINE.match(line)
        if m:
            ok, desc, directive, why = m.groups()
            path = desc if desc.startswith("/") else "/" + desc
            reported.add(path)
            if directive:
                results.append(Result(prefix + path, "SKIP", why or directive.lower(), out))
            elif ok.lower() == "ok":
                results.append(Result(prefix + path, "PASS", output=out))
            else:
                failed = True
                results.append(Result(prefix + path, "FAIL", "not ok", out))
        elif TAP_PLAN.match(line):
            planned = int(TAP_PLAN.match(line).group(1))
        elif line.startswith("Bail out!"):
            bail = line
    missing = [p for p in paths if p not in reported]
    if status != 0 and not failed:
        reason = describe_status(status, UNIT_TIMEOUT)
        if bail:
            reason += ": " + bail
        if len(missing) > 1:
            reason += " (%d later tests not run)" % (len(missing) - 1)
        name = prefix + missing[0] if missing else prefix
        results.append(Result(name, "FAIL", reason, out))
    elif status == 0 and planned is not None and planned > len(results):
        results.append(Result(prefix, "FAIL", "planned %d tests, %d reported"
                              % (planned, len(results)), out))
    return results


# ---- bare-metal guest payloads -------------------------------------------------------------

def payload_job(elf):
    name = "guest/riscv/" + os.path.basename(elf)[:-len(".elf")]

    def run():
        if not os.access(VESSEL, os.X_OK):
            return [Result(name, "FAIL", "build/vessel is not built")]
        argv = [VESSEL, "-M", "virt", "-bios", "none", "-nographic", "-kernel", elf]
        status, out = run_bounded(argv, PAYLOAD_TIMEOUT)
        if status == 0 and re.search(r"(?m)^PASS\b", out):
            return [Result(name, "PASS", output=out)]
        if status == 0:
            return [Result(name, "FAIL", "no PASS line in the output", out)]
        return [Result(name, "FAIL", describe_status(status, PAYLOAD_TIMEOUT), out)]
    return run


def payloads():
    if not os.path.isdir(PAYLOAD_DIR):
        return []
    return sorted(os.path.join(PAYLOAD_DIR, f) for f in os.listdir(PAYLOAD_DIR)
                  if f.endswith(".elf"))


# ---- python test modules -------------------------------------------------------------------

def python_modules():
    found = []
    for dirpath, dirnames, filenames in os.walk(TESTS):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "__")))
        for f in sorted(filenames):
            if f.startswith("test_") and f.endswith(".py"):
                found.append(os.path.join(dirpath, f))
    return found


def load_module(path):
    """Imports a test module by path, with tests/ on sys.path so that it can import testlib."""
    if TESTS not in sys.path:
        sys.path.insert(0, TESTS)
    rel = os.path.relpath(path, TESTS)[:-3]
    spec = importlib.util.spec_from_file_location(rel.replace(os.sep, "."), path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_functions(module):
    funcs = [f for n, f in inspect.getmembers(module, inspect.isfunction)
             if n.startswith("test_") and f.__module__ == module.__name__]
    return sorted(funcs, key=lambda f: f.__code__.co_firstlineno)


def python_jobs(path, select):
    """(parallel jobs, serial jobs) for one module; an import error is one failed test."""
    modname = os.path.relpath(path, TESTS)[:-3]
    try:
        module = load_module(path)
    except BaseException:
        if not select(modname):
            return [], []
        out = traceback.format_exc()
        reason = "import failed: " + out.strip().splitlines()[-1]
        return [lambda: [Result(modname, "FAIL", reason, out)]], []
    timeout = getattr(module, "TIMEOUT", PY_TIMEOUT)
    jobs = []
    for func in test_functions(module):
        name = "%s::%s" % (modname, func.__name__)
        if select(name):
            jobs.append(python_job(name, path, func.__name__, timeout))
    if getattr(module, "PARALLEL", True):
        return jobs, []
    return [], jobs


def python_job(name, path, func, timeout):
    def run():
        argv = [sys.executable, os.path.abspath(__file__), "--run-one", path, func]
        status, out = run_bounded(argv, timeout)
        lines = out.splitlines()
        marks = [ln for ln in lines if ln.startswith((FAIL_MARK, SKIP_MARK))]
        body = "\n".join(ln for ln in lines if not ln.startswith((FAIL_MARK, SKIP_MARK)))
        if status == 0:
            return [Result(name, "PASS", output=body)]
        if status == SKIP_EXIT and marks and marks[-1].startswith(SKIP_MARK):
            return [Result(name, "SKIP", marks[-1][len(SKIP_MARK):], body)]
        if marks and marks[-1].startswith(FAIL_MARK):
            return [Result(name, "FAIL", marks[-1][len(FAIL_MARK):], body)]
        return [Result(name, "FAIL", describe_status(status, timeout), body)]
    return run


def run_one(path, func_name):
    """Child side of python_job: runs one test function and reports through markers."""
    sys.dont_write_bytecode = True
    try:
        func = getattr(load_module(path), func_name)
        func()
    except unittest.SkipTest as e:
        sys.stdout.flush()
        print(SKIP_MARK + (str(e).splitlines() or ["skipped"])[0], flush=True)
        return SKIP_EXIT
    except BaseException as e:
        traceback.print_exc()
        sys.stderr.flush()
        first = (str(e).splitlines() or [""])[0]
        print(FAIL_MARK + type(e).__name__ + (": " + first if first else ""), flush=True)
        return 1
    return 0


# ---- driver --------------------------------------------------------------------------------

class Reporter:
    def __init__(self, verbose):
        self.verbose = verbose
        self.lock = threading.Lock()
        self.results = []
        self.shown = set()   # ids of outputs already printed (a GTest binary's is shared)

    def add(self, results):
        with self.lock:
            for r in results:
                self.results.append(r)
                line = "%s %s" % (r.status, r.name)
                if r.status != "PASS" and r.reason:
                    line += ": " + r.reason
                print(line, flush=True)
                if self.verbose and r.output and id(r.output) not in self.shown:
                    self.shown.add(id(r.output))
                    print(indent(r.output), flush=True)

    def finish(self):
        failed = [r for r in self.results if r.status == "FAIL"]
        printed = False
        for r in failed:
            if r.output and not self.verbose and id(r.output) not in self.shown:
                self.shown.add(id(r.output))
                print("\n---- output of %s ----" % r.name)
                print(indent(tail(r.output)))
                printed = True
        npass = sum(r.status == "PASS" for r in self.results)
        nskip = sum(r.status == "SKIP" for r in self.results)
        if printed:
            print()
        summary = "%d passed, %d failed" % (npass, len(failed))
        if nskip:
            summary += ", %d skipped" % nskip
        print(summary, flush=True)
        return 1 if failed else 0


def tail(text, lines=80):
    all_lines = text.rstrip("\n").splitlines()
    if len(all_lines) <= lines:
        return "\n".join(all_lines)
    return "[... %d lines ...]\n" % (len(all_lines) - lines) + "\n".join(all_lines[-lines:])


def indent(text):
    return "\n".join("    " + ln for ln in text.rstrip("\n").splitlines())


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--run-one":
        return run_one(sys.argv[2], sys.argv[3])
    ap = argparse.ArgumentParser(description="Runs Vessel's unit, payload and python tests.")
    ap.add_argument("-k", dest="patterns", action="append", metavar="PATTERN",
                    help="run only tests whose name contains PATTERN (or matches it as a glob);"
                         " repeatable")
    ap.add_argument("-v", dest="verbose", action="store_true",
                    help="print the output of every test")
    ap.add_argument("-j", dest="jobs", type=int, default=2, help="parallel jobs (default 2)")
    args = ap.parse_args()
    sys.dont_write_bytecode = True
    select = Selector(args.patterns)

    parallel, serial = [], []
    for b in unit_binaries():
        job = unit_job(b, select)
        if job:
            parallel.append(job)
    for elf in payloads():
        if select("guest/riscv/" + os.path.basename(elf)[:-len(".elf")]):
            parallel.append(payload_job(elf))
    for path in python_modules():
        p, s = python_jobs(path, select)
        parallel += p
        serial += s

    reporter = Reporter(args.verbose)
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        list(pool.map(lambda job: reporter.add(job()), parallel))
    for job in serial:
        reporter.add(job())
    return reporter.finish()


if __name__ == "__main__":
    sys.exit(main())
