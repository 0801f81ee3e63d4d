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

# cfn-lint and checkov (uv.lock's iac group) in their own venv: checkov's dependency tree must not
# meet the app's, and the lock resolves that group apart (pyproject.toml, [tool.uv] conflicts).
IAC_VENV := .local/iac-tools
IAC_STAMP := $(IAC_VENV)/.installed-$(LOCK_HASH)

.PHONY: synth cdk-tooling grafana iac-tooling gates

$(CDK_STAMP):
	@mkdir -p $(CDK_PREFIX)
	@# --prefix also moves npm's global config to $(CDK_PREFIX)/etc/npmrc; keep the machine's
	@# (its registry and CA settings) by naming it, as read without --prefix
	npm install --prefix $(CDK_PREFIX) --globalconfig "$$(npm config get globalconfig)" \
		--no-audit --no-fund --loglevel=error aws-cdk@$(CDK_CLI_VERSION)
	@rm -f $(CDK_PREFIX)/.cdk-*; touch $@

cdk-tooling: $(CDK_STAMP) ## install the pinned aws-cdk CLI into .local/node (git-ignored)

$(IAC_STAMP): pyproject.toml uv.lock | $(UV_STAMP)
	@test -n "$(PY313)" || { echo "Python 3.13 not found"; exit 1; }
	UV_PROJECT_ENVIRONMENT=$(IAC_VENV) $(UV) sync --locked --only-group iac --python $(PY313)
	@rm -f $(IAC_VENV)/.installed-*; touch $@

iac-tooling: $(IAC_STAMP) ## install the pinned cfn-lint and checkov into .local/iac-tools (git-ignored)
	@$(IAC_VENV)/bin/cfn-lint --version >/dev/null 2>&1 && $(IAC_VENV)/bin/checkov --version >/dev/null 2>&1 || { \
		echo "$(IAC_VENV): cfn-lint or checkov does not run (a venv built in another checkout keeps that" \
		"checkout's paths in its scripts): rm -rf $(IAC_VENV) && make iac-tooling"; exit 1; }

gates: iac-tooling ## cfn-lint and checkov on every template in cdk.out, root and *.nested.template.json (after a synth): 0 findings or fail
	$(SYNTH_PYTHON) -m infra.gates $(CDK_OUT) --tools $(IAC_VENV)/bin

# Offline synth has no credentials: stand-ins for the settings only a deployment knows (infra/README.md,
# "Settings"); a real deploy passes its own.
SYNTH_CONTEXT ?= $(foreach s,dev prod,-c fileshare:$(s):account=123456789012 -c fileshare:$(s):region=us-east-1 \
	-c fileshare:$(s):availabilityZones=us-east-1a$(comma)us-east-1b) \
	-c fileshare:prod:webOrigin=https://files.fileshare-ci.dev -c fileshare:prod:publicBaseUrl=https://files.fileshare-ci.dev \
	-c fileshare:prod:alarmEmail=oncall@fileshare-ci.dev
comma := ,

synth: cdk-tooling iac-tooling $(VENV_STAMP) $(WEB_BUNDLE) ## cdk synth both stages offline (pip bundling, the web bundle, cdk-nag, cfn-lint, checkov)
	@test -x $(SYNTH_PYTHON) || { echo "$(SYNTH_PYTHON) missing: run 'make venv' first"; exit 1; }
	@start=$$(date +%s); \
	$(CDK) synth --quiet --no-notices --no-version-reporting --output $(CDK_OUT) \
		--app "$(SYNTH_PYTHON) app.py" -c stage=all $(SYNTH_CONTEXT) && \
	echo "cdk synth: $$(( $$(date +%s) - start )) s"
	$(SYNTH_PYTHON) -m infra.grafana
	$(SYNTH_PYTHON) -m infra.report $(CDK_OUT) --quiet-acks
	$(SYNTH_PYTHON) -m infra.gates $(CDK_OUT) --tools $(IAC_VENV)/bin

grafana: ## regenerate infra/dashboards/fileshare.json from infra/panels.py
	$(SYNTH_PYTHON) -m infra.grafana
