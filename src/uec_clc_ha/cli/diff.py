"""Show, as a unified diff, what `apply` would change.

`uec-clc-ha-ctl diff [--root DIR]`: exit 0 when nothing would change, 1
otherwise.  Files that hold keys or passwords are named but never shown.
"""

import difflib

from uec_clc_ha.config import pipeline

NAME = "diff"
HELP = "unified diff of what apply would change"


def arguments(p):
    pass


def describe(change, root_path):
    f = change.new
    if f.secret or b"\0" in f.content:
        what = {"create": "would be created", "update": "would change", "mode": "would get new owner/mode"}
        return [f"{f.path}: {what[change.action]} (holds secrets: content not shown; mode {f.mode:04o})\n"]
    if change.action == "mode":
        return [f"{f.path}: content unchanged; owner/mode would become {f.owner}:{f.group} {f.mode:04o}\n"]
    old = (change.old or b"").decode("utf-8", "replace").splitlines(keepends=True)
    new = f.content.decode("utf-8").splitlines(keepends=True)
    return list(difflib.unified_diff(old, new, "/dev/null" if change.old is None else root_path,
                                     root_path))


def run(args, system, out):
    raw = pipeline.load_raw(system, args.settings)
    built = pipeline.build(system, raw)
    changes = [c for c in pipeline.plan(system, built.files) if c.action != "unchanged"]
    for change in changes:
        out.writelines(describe(change, system.path(change.path)))
    return 1 if changes else 0
