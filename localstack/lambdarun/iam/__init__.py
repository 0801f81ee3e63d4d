"""Least privilege, enforced locally: every AWS call a function makes is checked against that
function's role as CDK synthesizes it (``roles``: the dev stage's IAM policies with their ARNs
resolved to the local names), and refused the way AWS refuses it (``hooks``: botocore calls and
presigns, OpenSearch HTTP, the Kafka client). The decision itself is moto's policy evaluator with
the conditions it cannot evaluate reported, never silently allowed (``policy``). ``report`` lists,
per function, the actions a run used against the ones granted.
"""
