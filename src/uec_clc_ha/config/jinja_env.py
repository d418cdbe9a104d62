"""The Jinja2 environment over conf/: strict, pure, no I/O beyond loading templates.

Used by uec_clc_ha.config.render and uec_clc_ha.config.settings_file.  Templates are found in
the installed package (uec_clc_ha/templates, which setup.py maps from conf/)
or, when running from the source tree, in conf/ beside src/.
"""

import functools
import os

import jinja2

PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))      # .../uec_clc_ha
SEARCH = (os.path.join(PACKAGE_DIR, "templates"),
          os.path.join(os.path.dirname(os.path.dirname(PACKAGE_DIR)), "conf"))


def template_dir():
    for d in SEARCH:
        if os.path.isdir(d):
            return d
    raise FileNotFoundError(f"no template directory among {', '.join(SEARCH)}")


@functools.lru_cache(maxsize=1)
def environment():
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(template_dir()),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    env.filters["split_lines"] = str.splitlines
    return env


def render(name, **context):
    return environment().get_template(name).render(**context)
