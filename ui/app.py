"""The dashboard: a Starlette app of server-rendered pages and the JSON API they use.

Pages work without JavaScript (forms, links, <details>); static/app.js adds live lines
and type-to-search. Every route reads the store through `Sessions`; nothing here
writes to it, and no store credential ever reaches a page.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from starlette.applications import Starlette
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from uploader import __version__
from uploader.catalog import AGENTS, SORT_KEYS

from . import api, pages, render
from .resources import resource_dir
from .security import Guard
from .service import Sessions


@dataclass
class UIConfig:
    token: str | None = None
    dist: Path | None = None  # a custom static bundle served at / instead of the pages
    store_description: str = ""


def templates() -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(resource_dir("templates"))),
        autoescape=True,
    )
    env.filters.update(size=render.size, when=render.when, ratio=render.ratio, number=render.number)
    env.globals.update(version=__version__, agents=AGENTS, sort_keys=SORT_KEYS)
    return Jinja2Templates(env=env)


def create_app(sessions: Sessions, config: UIConfig | None = None) -> Starlette:
    config = config or UIConfig()
    app_state: dict[str, Any] = {
        "sessions": sessions,
        "templates": templates(),
        "config": config,
        "started": time.time(),
    }
    routes: list[Route | Mount] = [
        Route("/healthz", api.healthz),
        Route("/metrics", api.metrics),
        *api.routes(),
        Mount("/static", StaticFiles(directory=str(resource_dir("static"))), name="static"),
    ]
    if config.dist is not None:
        routes.append(Mount("/", StaticFiles(directory=str(config.dist), html=True), name="dist"))
    else:
        routes.extend(pages.routes())
    app = Starlette(routes=routes, exception_handlers=api.exception_handlers())
    app.state.ui = app_state
    app.add_middleware(Guard, token=config.token)
    return app
