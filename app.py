#!/usr/bin/env python3
"""CDK entry point: ``cdk synth`` / ``cdk deploy Fileshare-prod -c stage=prod`` (see infra/synth.mk)."""

from infra.app import build_app

build_app().synth()
