"""The parity API on the Python frameworks users run, from Debian's packages (PyPI is unreachable
from the build machines): Flask on Werkzeug's server, Django on its own WSGI server with
CommonMiddleware (APPEND_SLASH), and FastAPI (Starlette) on uvicorn. Each handler appends its
reading (handler, method, id) to the file named by argv[3], as test/support/parity/api.ts reads it.

usage: python3 parity_app.py flask|django|fastapi PORT LOG
"""

import json
import sys

FRAMEWORK, PORT, LOG = sys.argv[1], int(sys.argv[2]), sys.argv[3]
ORDERS = {"GET": "orders.read", "HEAD": "orders.read", "POST": "orders.write", "DELETE": "orders.delete"}


def record(handler, method, id=None):
    with open(LOG, "a", encoding="utf-8") as f:
        f.write(json.dumps({"handler": handler, "method": method, "id": id}) + "\n")
    return {"handler": handler}


def flask_app():
    from flask import Flask, request

    app = Flask(__name__)

    @app.get("/settings")
    def settings():
        return record("settings", request.method)

    @app.route("/orders/<id>", methods=["GET", "POST", "DELETE"])
    def orders(id):
        return record(ORDERS[request.method], request.method, id)

    @app.get("/reports/")
    def reports():
        return record("reports", request.method)

    @app.get("/admin/users")
    def admin_users():
        return record("admin.users", request.method)

    app.run(host="127.0.0.1", port=PORT, threaded=True)


def django_app():
    from django.conf import settings

    settings.configure(
        DEBUG=False,
        SECRET_KEY="parity-suite-only",
        ALLOWED_HOSTS=["*"],
        ROOT_URLCONF=__name__,
        MIDDLEWARE=["django.middleware.common.CommonMiddleware"],
    )
    import django
    from django.core.servers.basehttp import WSGIServer, run
    from django.core.wsgi import get_wsgi_application
    from django.http import JsonResponse
    from django.urls import path

    # Function views, as most Django APIs write them: they run for every method.
    def view(handler):
        return lambda request: JsonResponse(record(handler, request.method))

    def orders(request, id):
        handler = ORDERS.get(request.method)
        if handler is None:
            return JsonResponse({}, status=405)
        return JsonResponse(record(handler, request.method, id))

    global urlpatterns
    urlpatterns = [
        path("settings", view("settings")),
        path("orders/<str:id>", orders),
        path("reports/", view("reports")),
        path("admin/users", view("admin.users")),
    ]
    django.setup()
    run("127.0.0.1", PORT, get_wsgi_application(), threading=True, server_cls=WSGIServer)


def fastapi_app():
    import uvicorn
    from fastapi import FastAPI, Request

    app = FastAPI()

    @app.get("/settings")
    def settings(request: Request):
        return record("settings", request.method)

    @app.get("/orders/{id}")
    @app.post("/orders/{id}")
    @app.delete("/orders/{id}")
    def orders(id: str, request: Request):
        return record(ORDERS[request.method], request.method, id)

    @app.get("/reports/")
    def reports(request: Request):
        return record("reports", request.method)

    @app.get("/admin/users")
    def admin_users(request: Request):
        return record("admin.users", request.method)

    uvicorn.run(app, host="127.0.0.1", port=PORT, log_level="warning")


{"flask": flask_app, "django": django_app, "fastapi": fastapi_app}[FRAMEWORK]()
