"""The baseline: a bare Pyramid "hello" app, served by waitress like dragonhoard."""
from __future__ import annotations

import argparse

import waitress
from pyramid.config import Configurator
from pyramid.response import Response


def hello(request):
    return Response("hello")


def make_app():
    with Configurator() as config:
        config.add_route("hello", "/")
        config.add_view(hello, route_name="hello")
    return config.make_wsgi_app()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--listen", default="127.0.0.1:6590")
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    waitress.serve(make_app(), listen=args.listen, threads=args.threads, _quiet=True)
