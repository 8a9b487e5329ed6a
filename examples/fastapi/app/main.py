"""The FastAPI app. Served by gunicorn with uvicorn workers (see app/asgi.py and the Dockerfile)."""

from fastapi import FastAPI, HTTPException
from fastapi.responses import JSONResponse

from . import backends
from .items import Catalogue, ItemError, parse_item

VERSION = "1.0.0"

app = FastAPI(title="slipway-fastapi-sample", version=VERSION)
catalogue = Catalogue()


@app.get("/health")
def health():
    """200 while every configured backend answers (none configured: 200), 503 otherwise."""
    found = backends.status()
    if not all(found.values()):
        return JSONResponse(status_code=503, content={"status": "fail", "backends": found})
    return {"status": "ok", "version": VERSION, **({"backends": found} if found else {})}


@app.get("/items")
def list_items():
    return [item.as_dict() for item in catalogue.all()]


@app.get("/items/{sku}")
def get_item(sku: str):
    item = catalogue.get(sku)
    if item is None:
        raise HTTPException(status_code=404, detail="no item %s" % sku)
    return item.as_dict()


@app.post("/items", status_code=201)
def add_item(payload: dict):
    try:
        return catalogue.add(parse_item(payload)).as_dict()
    except ItemError as err:
        raise HTTPException(status_code=422, detail=str(err)) from err
