"""Write every generated file under a directory, for inspection.

`uec-clc-ha-ctl [--settings FILE] render --root DIR`: the files land at
DIR/etc/..., with their final modes.  Settings are validated and the files
verified first (`--no-verify` skips the real checkers); invalid settings
write nothing.
"""

from uec_clc_ha.config import pipeline
from uec_clc_ha.errors import UsageError, VerifyError
from uec_clc_ha.host.system import System

NAME = "render"
HELP = "write all generated files under a directory"


def arguments(p):
    p.add_argument("--root", dest="render_root", metavar="DIR", required=False,
                   help="directory to write under (default: the global --root, which must not be /)")
    p.add_argument("--no-verify", action="store_true", help="skip the real checkers")


def run(args, system, out):
    target = System(args.render_root) if args.render_root else system
    if target.is_live:
        raise UsageError("render writes a tree for inspection: give --root DIR (use `apply` to install)")
    raw = pipeline.load_raw(system, args.settings)
    built = pipeline.build(system, raw)
    if not args.no_verify:
        problems = pipeline.check(system, built)
        if problems:
            raise VerifyError(problems)
    for change in pipeline.apply(target, pipeline.plan(target, built.files)):
        print(f"wrote {target.path(change.path)}", file=out)
    return 0
