# pppossh: VPN over SSH as an OpenWrt netifd protocol.
#
# Inside the OpenWrt build tree (TOPDIR is set) this is the package recipe of `pppossh`.
# Anywhere else it offers the developer targets: `make check` (every test), `make demo`
# (a real tunnel between two network namespaces), `make bench`, `make generate`, `make lint`.

ifneq ($(TOPDIR),)

include $(TOPDIR)/rules.mk

PKG_NAME:=pppossh
PKG_VERSION:=0.1.0
PKG_RELEASE:=1
PKG_LICENSE:=GPL-2.0-only

include $(INCLUDE_DIR)/package.mk
include $(TOPDIR)/feeds/packages/lang/python/python3-package.mk

define Package/pppossh
  SECTION:=net
  CATEGORY:=Network
  TITLE:=VPN over SSH: PPP through dbclient or OpenSSH, as a netifd protocol
  DEPENDS:=+ppp +python3-light +python3-logging +python3-urllib +python3-jinja2 \
	@(DROPBEAR_DBCLIENT||PACKAGE_openssh-client)
  PKGARCH:=all
endef

define Package/pppossh/description
 Adds the netifd protocol 'pppossh': a PPP link carried by an SSH connection, with
 per-interface keys, pinned server host keys, back-off on reconnect and clear errors.
 The same package sets up the server side (forced-command authorized_keys per peer)
 and runs standalone on Linux ('pppossh up IFACE').
endef

define Package/pppossh/conffiles
/etc/config/pppossh
/etc/pppossh/keys/
endef

define Build/Compile
endef

define Package/pppossh/install
	$(INSTALL_DIR) $(1)/lib/netifd/proto
	$(INSTALL_BIN) ./files/lib/netifd/proto/pppossh.sh $(1)/lib/netifd/proto/
	$(INSTALL_DIR) $(1)/usr/bin
	$(INSTALL_BIN) ./files/usr/bin/pppossh $(1)/usr/bin/
	$(INSTALL_DIR) $(1)/usr/libexec/rpcd
	$(INSTALL_BIN) ./files/usr/libexec/rpcd/pppossh $(1)/usr/libexec/rpcd/
	$(INSTALL_DIR) $(1)$(PYTHON3_PKG_DIR)
	$(CP) ./pppossh $(1)$(PYTHON3_PKG_DIR)/
	$(FIND) $(1)$(PYTHON3_PKG_DIR)/pppossh -name __pycache__ -prune -exec rm -rf {} +
	$(INSTALL_DIR) $(1)/etc/config
	$(INSTALL_CONF) ./files/etc/config/pppossh $(1)/etc/config/
	$(INSTALL_DIR) $(1)/etc/pppossh/keys
endef

$(eval $(call BuildPackage,pppossh))

else

# ---------------------------------------------------------------------------------------------
# Developer targets (Debian 12 or newer).  `deps` installs the Debian packages the tests and
# the demo use, `venv` the Python ones; both do nothing when everything is there.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_PACKAGES := python3 python3-venv user-mode-linux ppp dropbear-bin openssh-server \
	openssh-client iperf3 iputils-ping busybox-static kmod iproute2 iptables procps sudo \
	passwd gawk chromium

.PHONY: all deps venv check test lint generate demo bench clean

all: check

deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:" $$missing; \
		$(SUDO) apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends \
			$$missing; \
	fi

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

venv: $(VENV)/.installed

lint: venv
	$(VENV)/bin/ruff check pppossh tests bench

generate: venv
	$(PY) -m pppossh.gen

test: venv
	$(PY) -m pytest -q

check: deps venv lint test

demo: deps venv
	$(SUDO) $(PY) tests/uml/demo.py

bench: deps venv
	$(SUDO) $(PY) bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis build *.egg-info

endif
