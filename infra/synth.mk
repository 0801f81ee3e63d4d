# CDK synthesis (included by the top-level Makefile). `make synth` needs no AWS account and no Docker:
# the aws-cdk CLI comes from npm (pinned) into .local/node, bundling is pip for the Lambda platform.
CDK_CLI_VERSION ?= 2.1148.1
CDK_PREFIX := .local/node
CDK := $(CDK_PREFIX)/node_modules/.bin/cdk
CDK_STAMP := $(CDK_PREFIX)/.cdk-$(CDK_CLI_VERSION)
CDK_OUT ?= cdk.out
SYNTH_PYTHON ?= .venv/bin/python
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export CDK_DISABLE_VERSION_CHECK := 1

.PHONY: synth cdk-tooling grafana

$(CDK_STAMP):
	@mkdir -p $(CDK_PREFIX)
	npm install --prefix $(CDK_PREFIX) --no-audit --no-fund --loglevel=error aws-cdk@$(CDK_CLI_VERSION)
	@rm -f $(CDK_PREFIX)/.cdk-*; touch $@

cdk-tooling: $(CDK_STAMP) ## install the pinned aws-cdk CLI into .local/node (git-ignored)

synth: cdk-tooling $(VENV_STAMP) ## cdk synth both stages offline (real pip bundling, cdk-nag), then report sizes
	@test -x $(SYNTH_PYTHON) || { echo "$(SYNTH_PYTHON) missing: run 'make venv' first"; exit 1; }
	@start=$$(date +%s); \
	$(CDK) synth --quiet --no-notices --no-version-reporting --output $(CDK_OUT) \
		--app "$(SYNTH_PYTHON) app.py" -c stage=all && \
	echo "cdk synth: $$(( $$(date +%s) - start )) s"
	$(SYNTH_PYTHON) -m infra.grafana
	$(SYNTH_PYTHON) -m infra.report $(CDK_OUT) --quiet-acks

grafana: ## regenerate infra/dashboards/fileshare.json from infra/panels.py
	$(SYNTH_PYTHON) -m infra.grafana
