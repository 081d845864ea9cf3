#!/bin/sh
# The image's install step (Dockerfile, final stage), also run as it is by
# tests/integration/test_container_image.py in a fresh virtual environment.
#   install.sh VENV DIST
# makes the virtual environment VENV and installs into it the wheels build.sh wrote to DIST, from
# there only: no index is asked, nothing is resolved or compiled; `pip check` then proves that every
# requirement of every package is among them.
set -eu
venv=$1
dist=$2
python -m venv "$venv"
"$venv/bin/pip" install --quiet --no-index --no-deps "$dist"/*.whl
"$venv/bin/pip" check
