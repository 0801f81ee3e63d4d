"""Code of the project's own CloudFormation custom resources (deployed as Lambda functions)."""
