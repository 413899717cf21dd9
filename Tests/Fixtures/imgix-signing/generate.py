#!/usr/bin/env python3
"""Writes signed-urls.json: imgix secure URLs built by imgix's own Python client library (imgix 4.0.0 on PyPI).

The Swift tests (EdgePrivacyTests, EdgeNodeTests) read the JSON; tools/test regenerates it with the real library
before running them (and falls back to the committed file, with a warning, when PyPI cannot be reached). By hand,
from the package root:

    tools/lib/imgix-python.sh Tests/Fixtures/imgix-signing/generate.py

(which installs imgix==4.0.0 into a private virtual environment first), or with imgix 4.0.0 already installed:

    python3 Tests/Fixtures/imgix-signing/generate.py

The output is deterministic: the same library version always writes the same file.
"""
import json
import os
import sys

import imgix
from imgix import UrlBuilder
from imgix.urlhelper import UrlHelper

EXPECTED_VERSION = "4.0.0"
DOMAIN = "images.example.com"
TOKEN = "aBcD1234eFgH5678"
OTHER_TOKEN = "FOO123bar"

# (name, path as given to the library, params, token, options). Paths are what a developer passes:
# unencoded, as the file is named; the library encodes them.
CASES = [
    ("simple", "photos/cat.jpg", {"w": 400, "h": 300, "fit": "crop"}, TOKEN, {}),
    ("no parameters", "photos/cat.jpg", {}, TOKEN, {}),
    ("leading slash", "/photos/cat.jpg", {"w": 120}, TOKEN, {}),
    ("other token", "photos/cat.jpg", {"w": 400}, OTHER_TOKEN, {}),
    ("spaces in path", "photos/summer holiday/cat 1.jpg", {"w": 200}, TOKEN, {}),
    ("unicode path", "photos/ünïcødé/猫 🐈.jpg", {"w": 100}, TOKEN, {}),
    ("reserved characters kept", "photos/a&b=c;d@e,f$g.jpg", {"w": 100}, TOKEN, {}),
    ("reserved characters encoded", "photos/a+b:c(1)'x'!*~[2] #3 ?q=1 %41.jpg", {"w": 100}, TOKEN, {}),
    ("proxied absolute URL", "https://origin.example.com/photos/a b.jpg?v=2&x=1", {"w": 300}, TOKEN, {}),
    ("proxied URL, no parameters", "http://origin.example.com/cat.jpg", {}, TOKEN, {}),
    ("base64 parameters", "photos/cat.jpg",
     {"txt64": "Hello, World! ünï 🐈", "txt-font64": "Futura Condensed Medium", "mark64": "https://assets.example.com/logo.png?w=50"},
     TOKEN, {}),
    ("values needing encoding", "photos/cat.jpg", {"txt": "Hello World+1 & more = 100%", "txt-color": "#ff0000"}, TOKEN, {}),
    ("expires in the future", "photos/cat.jpg", {"w": 400, "expires": 4102444800}, TOKEN, {}),
    ("expires in the past", "photos/cat.jpg", {"w": 400, "expires": 1477789261}, TOKEN, {}),
    ("library parameter", "photos/cat.jpg", {"w": 64}, TOKEN, {"include_library_param": True}),
]


def target_of(url):
    """The request target: everything after scheme and host."""
    rest = url.split("://", 1)[1]
    return rest[rest.index("/"):]


def main():
    if imgix.__version__ != EXPECTED_VERSION:
        sys.exit(f"imgix {EXPECTED_VERSION} is required, found {imgix.__version__} (pip install imgix=={EXPECTED_VERSION})")
    cases = []
    for name, path, params, token, options in CASES:
        builder = UrlBuilder(DOMAIN, sign_key=token, include_library_param=options.get("include_library_param", False))
        signed = builder.create_url(path, params)
        unsigned = UrlBuilder(DOMAIN, include_library_param=options.get("include_library_param", False)).create_url(path, params)
        target = target_of(signed)
        cases.append({
            "name": name,
            "library": "UrlBuilder",
            "token": token,
            "path": path,
            "params": {k: str(v) for k, v in params.items()},
            "unsigned": unsigned,
            "url": signed,
            "target": target,
            "signature": signed.rsplit("s=", 1)[1],
        })
    # The older UrlHelper class encodes differently (it escapes reserved characters in values and keys the same
    # way) but signs by the same rule; its URLs must verify too.
    for name, path, params in [
        ("UrlHelper, spaces", "photos/cat 1.jpg", {"w": 200, "txt": "a b"}),
        ("UrlHelper, proxied URL", "https://origin.example.com/a b.jpg", {"h": 50}),
    ]:
        signed = str(UrlHelper(DOMAIN, path, sign_key=TOKEN, include_library_param=False, params=params))
        unsigned = str(UrlHelper(DOMAIN, path, include_library_param=False, params=params))
        cases.append({
            "name": name,
            "library": "UrlHelper",
            "token": TOKEN,
            "path": path,
            "params": {k: str(v) for k, v in params.items()},
            "unsigned": unsigned,
            "url": signed,
            "target": target_of(signed),
            "signature": signed.rsplit("s=", 1)[1],
        })
    out = {
        "generator": "Tests/Fixtures/imgix-signing/generate.py",
        "library": f"imgix {imgix.__version__} (PyPI)",
        "domain": DOMAIN,
        "cases": cases,
    }
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "signed-urls.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=2)
        f.write("\n")
    print(f"wrote {len(cases)} cases to {os.path.join(here, 'signed-urls.json')}")


if __name__ == "__main__":
    main()
