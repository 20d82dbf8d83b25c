# pppossh: VPN over SSH as an OpenWrt netifd protocol.
#
# Inside the OpenWrt build tree (TOPDIR is set) this is the package recipe of `pppossh` (the
# client: netifd protocol, keys, trust, check, rpcd backend) and `pppossh-server` (peers and
# server-setup, which bring jinja2).  `luci-app/Makefile` is the recipe of luci-app-pppossh.
# Anywhere else it offers the developer targets: `make check` (every test), `make demo`
# (a real tunnel between two network namespaces), `make bench`, `make generate`, `make lint`,
# `make stage` (the packages' install steps below, run into build/stage/<package>).

# --- What each package installs ----------------------------------------------------------
# Used by the OpenWrt build and, with host tools, by `make stage`: the tests run the staged
# trees with exactly the Python packages each recipe depends on (tests/test_packaging.py).
# Modules are installed byte-compiled only, as the python3 feed's own packages are
# (OpenWrt's Python never writes bytecode itself).  gen.py and the templates of the
# generated files are for developers and stay off the router.

PPPOSSH_CLIENT_PY := $(filter-out gen.py,$(notdir $(wildcard pppossh/*.py))) \
	admin config plan ppp run uci
PPPOSSH_SERVER_TEMPLATES := __init__.py authorized_keys_block.j2 login-shell.sh.j2 \
	peer-up.sh.j2 server-setup.sh.j2 sshd-tun.conf.j2 sudoers.j2 tun-devices.service.j2 \
	tun-devices.sh.j2

# $(1): the package's root: bytecode in place of every source file, named in tracebacks by
# its path on the router (compileall -d /), as the feed's Py3Package does
define pppossh/Compile
	$(FIND) $(1) -name __pycache__ -prune -exec rm -rf {} +
	$(call Python3/CompileAll,$(1))
	$(call Python3/DeleteSourceFiles,$(1))
endef

define Package/pppossh/install
	$(INSTALL_DIR) $(1)/lib/netifd/proto
	$(INSTALL_BIN) ./files/lib/netifd/proto/pppossh.sh ./files/lib/netifd/proto/sshtun.sh \
		$(1)/lib/netifd/proto/
	$(INSTALL_DIR) $(1)/usr/bin
	$(INSTALL_BIN) ./files/usr/bin/pppossh $(1)/usr/bin/
	$(INSTALL_DIR) $(1)/usr/libexec/rpcd
	$(INSTALL_BIN) ./files/usr/libexec/rpcd/pppossh $(1)/usr/libexec/rpcd/
	$(INSTALL_DIR) $(1)/etc/hotplug.d/iface
	$(INSTALL_DATA) ./files/etc/hotplug.d/iface/95-pppossh $(1)/etc/hotplug.d/iface/
	$(INSTALL_DIR) $(1)$(PYTHON3_PKG_DIR)/pppossh
	$(CP) $(addprefix ./pppossh/,$(PPPOSSH_CLIENT_PY)) $(1)$(PYTHON3_PKG_DIR)/pppossh/
	$(call pppossh/Compile,$(1))
	$(INSTALL_DIR) -m0700 $(1)/etc/pppossh/keys
endef

define Package/pppossh-server/install
	$(INSTALL_DIR) $(1)/etc/config
	$(INSTALL_CONF) ./files/etc/config/pppossh $(1)/etc/config/
	$(INSTALL_DIR) $(1)$(PYTHON3_PKG_DIR)/pppossh/templates
	$(CP) ./pppossh/server $(1)$(PYTHON3_PKG_DIR)/pppossh/
	$(INSTALL_DATA) $(addprefix ./pppossh/templates/,$(PPPOSSH_SERVER_TEMPLATES)) \
		$(1)$(PYTHON3_PKG_DIR)/pppossh/templates/
	$(call pppossh/Compile,$(1))
endef

ifneq ($(TOPDIR),)

include $(TOPDIR)/rules.mk

PKG_NAME:=pppossh
PKG_VERSION:=0.1.0
PKG_RELEASE:=1
PKG_LICENSE:=GPL-2.0-only

# Nothing to build with pip: the install steps above copy and byte-compile the modules.
# Without this, python3-package.mk would replace the install step by a wheel install.
PYTHON3_PKG_BUILD:=0

include $(INCLUDE_DIR)/package.mk
include $(TOPDIR)/feeds/packages/lang/python/python3-package.mk

define Package/pppossh/Default
  SECTION:=net
  CATEGORY:=Network
  PKGARCH:=all
endef

define Package/pppossh
  $(call Package/pppossh/Default)
  TITLE:=VPN over SSH: PPP through dbclient or OpenSSH, as a netifd protocol
  DEPENDS:=+ppp +resolveip +python3-light @(DROPBEAR_DBCLIENT||PACKAGE_openssh-client)
endef

define Package/pppossh/description
 Adds the netifd protocol 'pppossh': a PPP link carried by an SSH connection, with
 per-interface keys, pinned server host keys, back-off on reconnect and clear errors.
 Also runs standalone ('pppossh up IFACE'). The server role is in pppossh-server.
endef

define Package/pppossh/conffiles
/etc/pppossh/keys/
endef

define Package/pppossh-server
  $(call Package/pppossh/Default)
  TITLE:=VPN over SSH: server role of pppossh (peers, forced-command logins)
  DEPENDS:=+pppossh +python3-jinja2
endef

define Package/pppossh-server/description
 The far end of pppossh: the routers allowed to connect are 'peer' sections in
 /etc/config/pppossh, written into authorized_keys as forced commands that can only
 start pppd ('pppossh peer add', 'pppossh peer apply', 'pppossh server-setup').
endef

define Package/pppossh-server/conffiles
/etc/config/pppossh
endef

define Build/Compile
endef

$(eval $(call BuildPackage,pppossh))
$(eval $(call BuildPackage,pppossh-server))

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
	passwd gawk chromium dnsmasq-base systemd systemd-container

.PHONY: all deps venv check test lint generate demo bench stage clean install

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

# The test-bed scenarios keep one core busy in the user-mode-linux guest for most of the run:
# the other tests run beside them on the second core, and the bed's report follows theirs.
TESTBED_LOG ?= build/testbed.log
test: venv
	@mkdir -p $(dir $(TESTBED_LOG))
	@$(PY) -m pytest -q -m testbed -p no:cacheprovider >$(TESTBED_LOG) 2>&1 & bed=$$!; \
	$(PY) -m pytest -q -m "not testbed"; rest=$$?; \
	wait $$bed; bedrc=$$?; \
	echo "--- test bed ($(TESTBED_LOG)):"; cat $(TESTBED_LOG); \
	echo "other tests: exit $$rest; test bed: exit $$bedrc"; \
	[ $$rest -eq 0 ] && [ $$bedrc -eq 0 ]

check: deps venv lint test

demo: deps venv
	$(SUDO) $(PY) tests/uml/demo.py

bench: deps venv stage
	$(PY) bench/footprint.py
	$(PY) bench/startup.py
	$(PY) bench/helper.py
	$(SUDO) $(PY) bench/run.py
	$(SUDO) $(PY) bench/faults.py

# Plain Linux: pppossh in its own venv under $(INSTALL_ROOT), the command in $(PREFIX)/sbin,
# and the systemd unit pppossh@.service (systemctl enable --now pppossh@vpn) naming it.
PREFIX ?= /usr/local
INSTALL_ROOT ?= /opt/pppossh
UNITDIR ?= /etc/systemd/system
CONFDIR ?= /etc/config
install:
	$(PYTHON) -m venv $(DESTDIR)$(INSTALL_ROOT)
	$(DESTDIR)$(INSTALL_ROOT)/bin/pip install -q .
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(UNITDIR) $(DESTDIR)$(CONFDIR)
	ln -sfn $(INSTALL_ROOT)/bin/pppossh $(DESTDIR)$(PREFIX)/sbin/pppossh
	sed -e 's|@PPPOSSH@|$(PREFIX)/sbin/pppossh|' -e 's|@CONFDIR@|$(CONFDIR)|' pppossh/systemd/pppossh@.service \
		>$(DESTDIR)$(UNITDIR)/pppossh@.service
	@echo "installed; then: pppossh connect ... or, at boot: systemctl enable --now pppossh@IFACE"

# The packages' install steps (top of this file) with the host's tools in place of the build
# tree's: each package into $(STAGE)/<package>, byte-compiled by $(STAGE_PYTHON).
STAGE ?= build/stage
STAGE_PYTHON ?= $(PY)
PYTHON3_PKG_DIR := /usr/lib/python3/site-packages
INSTALL_DIR := install -d -m0755
INSTALL_BIN := install -m0755
INSTALL_DATA := install -m0644
INSTALL_CONF := install -m0600
CP := cp -fpR
FIND := find

define Python3/CompileAll
	$(STAGE_PYTHON) -m compileall -q -r 20 -b -d '/' $(1)
endef

define Python3/DeleteSourceFiles
	$(FIND) $(1) -type f -name '*.py' -delete
endef

stage:
	rm -rf $(STAGE)/pppossh $(STAGE)/pppossh-server $(STAGE)/luci-app-pppossh
	$(call Package/pppossh/install,$(STAGE)/pppossh)
	$(call Package/pppossh-server/install,$(STAGE)/pppossh-server)
	# luci.mk's layout (htdocs under /www, root as it is), without its optional JS minifying
	$(INSTALL_DIR) $(STAGE)/luci-app-pppossh/www
	$(CP) luci-app/htdocs/. $(STAGE)/luci-app-pppossh/www/
	$(CP) luci-app/root/. $(STAGE)/luci-app-pppossh/

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis build *.egg-info

endif
