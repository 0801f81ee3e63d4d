"""Fileshare's AWS CDK app: the stack, its constructs, bundling and the cdk-nag setup.

``infra.declaration`` is the one declaration of functions, routes and triggers (no CDK import);
everything else in this package imports the CDK.
"""
