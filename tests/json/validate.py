#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Validate vhuctl -j documents against the JSON Schema in doc/json.

    validate.py --schemas DIR --commands FILE [--expect-invalid] INPUT...

DIR holds common.schema.json and one <command>.schema.json per command;
FILE lists the commands of the command table, one per line (the build
writes it: completions/commands).  An INPUT is a file of documents, one
per line, either bare or as {"test": NAME, "document": DOC} (the corpus
that tests/bats/helpers.bash collects), or a directory of such *.jsonl
files.

A document is checked against the schema of its vhuctl.command; a batch
step against the step envelope plus its command's $defs/members (set and
state, the steps of batch itself: batch.schema.json's $defs/set_members
and $defs/state_members).  A name
that is not a command (a usage error) may carry the envelope only.  Every
command must have a schema, and every schema a command.

Exit status 0 when everything validates (with --expect-invalid: when
every document fails, each for a reason printed), 1 otherwise.
Needs python3-jsonschema (Debian 12: 4.10), draft 2020-12.
"""
import argparse
import json
import os
import pathlib
import sys

try:
    import jsonschema
    from jsonschema import Draft202012Validator, RefResolver
except ImportError:
    sys.exit("validate.py: python3-jsonschema is missing (scripts/deps test installs it)")


def load_schemas(d):
    store = {}
    for p in sorted(pathlib.Path(d).glob("*.schema.json")):
        with open(p) as f:
            try:
                s = json.load(f)
            except ValueError as e:
                raise SystemExit("%s: not JSON: %s" % (p, e))
        try:
            Draft202012Validator.check_schema(s)
        except jsonschema.SchemaError as e:
            raise SystemExit("%s: not a valid draft 2020-12 schema: %s" % (p, e.message))
        store[p.name] = s
    if "common.schema.json" not in store:
        raise SystemExit("%s: no common.schema.json" % d)
    return store


class Checker:
    def __init__(self, schema_dir, commands):
        self.dir = pathlib.Path(schema_dir).resolve()
        self.base = self.dir.as_uri() + "/"
        self.store = load_schemas(self.dir)
        self.commands = commands
        # Relative $refs ("common.schema.json#/$defs/mask") resolve in
        # this store, keyed as if the files were read from DIR.
        self.uri_store = {self.base + n: s for n, s in self.store.items()}
        self.validators = {}

    def problems(self):
        out = []
        for c in self.commands:
            if c + ".schema.json" not in self.store:
                out.append("command %s has no schema: add doc/json/%s.schema.json (copy the schema of a "
                           "similar command and describe the members it prints)" % (c, c))
        for n in self.store:
            c = n[: -len(".schema.json")]
            if n != "common.schema.json" and c not in self.commands:
                out.append("doc/json/%s describes no command of the command table" % n)
        return out

    def validator(self, key, schema, base_name):
        v = self.validators.get(key)
        if v is None:
            resolver = RefResolver(base_uri=self.base + base_name, referrer=schema, store=self.uri_store)
            v = Draft202012Validator(schema, resolver=resolver)
            self.validators[key] = v
        return v

    def doc_validator(self, command):
        if command in self.commands:
            name = command + ".schema.json"
            return self.validator(("doc", command), self.store[name], name)
        # Not a command: a usage error, which has the envelope alone.
        schema = {"$ref": "common.schema.json#/$defs/document", "unevaluatedProperties": False,
                  "properties": {"vhuctl": {"properties": {"exit_status": {"const": 64}}}}}
        return self.validator(("doc", None), schema, "unknown-command")

    def step_validator(self, command):
        if command in BATCH_STEPS:
            schema = {"$ref": "common.schema.json#/$defs/step",
                      "allOf": [{"$ref": "batch.schema.json#/$defs/%s_members" % command}],
                      "unevaluatedProperties": False}
            return self.validator(("step", command), schema, "step-" + command)
        if command in self.commands:
            schema = {"$ref": "common.schema.json#/$defs/step",
                      "allOf": [{"$ref": command + ".schema.json#/$defs/members"}],
                      "unevaluatedProperties": False}
            return self.validator(("step", command), schema, "step-" + command)
        schema = {"$ref": "common.schema.json#/$defs/step", "unevaluatedProperties": False,
                  "properties": {"exit_status": {"const": 64}}}
        return self.validator(("step", None), schema, "step-unknown")

    def check(self, doc):
        """Errors of one document, as strings (empty: valid)."""
        errs = []
        cmd = doc.get("vhuctl", {}).get("command") if isinstance(doc, dict) else None
        if not isinstance(cmd, str):
            return ["no vhuctl.command string: not a vhuctl document"]
        for e in ordered(self.doc_validator(cmd).iter_errors(doc)):
            errs.append("%s: %s" % (path(e), e.message))
        if cmd == "batch" and isinstance(doc.get("steps"), list):
            for i, step in enumerate(doc["steps"]):
                if not isinstance(step, dict):
                    continue
                sv = self.step_validator(step.get("command"))
                for e in ordered(sv.iter_errors(step)):
                    errs.append("steps[%d] (%s): %s: %s" % (i, step.get("command"), path(e), e.message))
        return errs


# Steps of batch itself (not commands of the table): batch.schema.json
# describes them as $defs/<name>_members.
BATCH_STEPS = ("set", "state")


def ordered(errors):
    # A member whose value is wrong is also "unevaluated" (a failed
    # subschema evaluates nothing): name the real problem first.
    return sorted(errors, key=lambda e: (e.validator == "unevaluatedProperties", list(map(str, e.absolute_path))))


def path(e):
    p = "".join("[%d]" % x if isinstance(x, int) else "." + x for x in e.absolute_path)
    return p or "(top)"


def read_inputs(inputs):
    for inp in inputs:
        p = pathlib.Path(inp)
        files = sorted(p.glob("*.jsonl")) if p.is_dir() else [p]
        for f in files:
            with open(f) as fh:
                for n, line in enumerate(fh, 1):
                    if not line.strip():
                        continue
                    where = "%s:%d" % (f.name, n)
                    try:
                        d = json.loads(line)
                    except ValueError as e:
                        yield where, None, "not JSON: %s" % e
                        continue
                    if isinstance(d, dict) and set(d) == {"test", "document"}:
                        where = "%s (%s)" % (where, d["test"])
                        d = d["document"]
                    yield where, d, None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--schemas", required=True)
    ap.add_argument("--commands", required=True)
    ap.add_argument("--expect-invalid", action="store_true")
    ap.add_argument("inputs", nargs="*")
    a = ap.parse_args()
    with open(a.commands) as f:
        commands = [l.strip() for l in f if l.strip()]
    ck = Checker(a.schemas, commands)
    bad = ck.problems()
    for p in bad:
        print("FAIL: " + p)
    ndocs = nbad = 0
    per_cmd = {}
    for where, doc, err in read_inputs(a.inputs):
        ndocs += 1
        errs = [err] if err else ck.check(doc)
        if isinstance(doc, dict):
            seen = [doc.get("vhuctl", {}).get("command", "?")]
            seen += [s.get("command") for s in doc.get("steps", []) if isinstance(s, dict)]
            for c in seen:
                per_cmd[c] = per_cmd.get(c, 0) + 1
        if a.expect_invalid:
            if errs:
                print("invalid as expected: %s: %s" % (where, errs[0]))
            else:
                nbad += 1
                print("FAIL: %s: validates, but should not" % where)
        elif errs:
            nbad += 1
            print("FAIL: %s: %s" % (where, json.dumps(doc)[:400]))
            for e in errs[:10]:
                print("    " + e)
    print("%d documents, %d commands seen, %d problems" % (ndocs, len(per_cmd), nbad + len(bad)))
    if not a.expect_invalid:
        print("commands in no document or batch step of this input: %s" %
              (" ".join(c for c in commands if c not in per_cmd) or "none"))
    return 1 if (nbad or bad) else 0


if __name__ == "__main__":
    sys.exit(main())
