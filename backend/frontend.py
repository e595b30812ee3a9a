"""Serving the built single-page app from `frontend/dist`: hashed assets cached long, SPA fallback."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from backend.errors import NotFound

DIST_DIR = Path(__file__).resolve().parent.parent / "frontend" / "dist"
_API_PREFIXES = ("/api/", "/health", "/docs", "/redoc", "/openapi.json")


class _ImmutableStatic(StaticFiles):
    """Vite names assets by content hash, so they never change under the same URL."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response


def mount_frontend(app: FastAPI, dist: Path = DIST_DIR) -> bool:
    """Serve the app when it has been built; returns whether it was mounted."""
    index = dist / "index.html"
    if not index.is_file():
        return False
    root = dist.resolve()
    # The set of files is fixed once built: look them up once, not on every request.
    files = {str(p.relative_to(root)): p for p in root.rglob("*") if p.is_file()}
    app.state.spa_index = index
    if (dist / "assets").is_dir():
        app.mount("/assets", _ImmutableStatic(directory=dist / "assets"), name="assets")

    @app.get("/{path:path}", include_in_schema=False)
    async def spa(path: str, request: Request) -> Response:
        if request.url.path.startswith(_API_PREFIXES):
            raise NotFound("Not found")
        candidate = files.get(path)
        if candidate is not None:
            return FileResponse(candidate)
        return FileResponse(index, headers={"Cache-Control": "no-cache"})

    return True
