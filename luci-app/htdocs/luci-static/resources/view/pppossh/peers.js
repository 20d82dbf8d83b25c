'use strict';
'require view';
'require dom';
'require rpc';
'require ui';
'require pppossh.messages as msgs';

// Network > pppossh server: the routers (peers) allowed to connect to this server.
// Everything goes through the pppossh rpcd plugin, which checks every value again.  Each
// result and error is shown next to the button that caused it; the backend answers codes
// and values, pppossh/messages.js words them.  Backend values go into E() inside arrays:
// LuCI turns a bare string child into innerHTML.

var callPeerList = rpc.declare({ object: 'pppossh', method: 'peer_list' });
var callPeerAdd = rpc.declare({ object: 'pppossh', method: 'peer_add', params: [ 'name', 'key', 'ip', 'routes', 'mode', 'unit', 'bridge' ] });
var callPeerDel = rpc.declare({ object: 'pppossh', method: 'peer_del', params: [ 'name' ] });
var callPeerApply = rpc.declare({ object: 'pppossh', method: 'peer_apply' });

function show(id, level, content) {
	dom.content(document.getElementById(id), msgs.note(level, content));
}

return view.extend({
	load: function() {
		return callPeerList().catch(function(err) { return err; });
	},

	renderTable: function(peers) {
		var rows = [
			E('tr', { 'class': 'tr table-titles' }, [
				E('th', { 'class': 'th' }, [ _('Name') ]),
				E('th', { 'class': 'th' }, [ _('Key fingerprint') ]),
				E('th', { 'class': 'th' }, [ _('Addresses (server → peer)') ]),
				E('th', { 'class': 'th' }, [ _('Link') ]),
				E('th', { 'class': 'th' }, [ _('Routes') ]),
				E('th', { 'class': 'th' }, [ _('Enabled') ]),
				E('th', { 'class': 'th cbi-section-actions' }, [ '' ])
			])
		];
		peers.forEach(L.bind(function(p) {
			rows.push(E('tr', { 'class': 'tr', 'data-peer': p.name }, [
				E('td', { 'class': 'td' }, [ p.name ]),
				E('td', { 'class': 'td' }, [ E('code', [ p.fingerprint ]) ]),
				E('td', { 'class': 'td' }, [ p.bridge ? _('bridge %s').format(p.bridge) : '%s → %s'.format(p.ipaddr, p.peeraddr) ]),
				E('td', { 'class': 'td' }, [ p.device ? _('%s (sshtun)').format(p.device) : _('PPP') ]),
				E('td', { 'class': 'td' }, [ p.routes.join(', ') || '-' ]),
				E('td', { 'class': 'td' }, [ p.enabled ? _('yes') : _('no') ]),
				E('td', { 'class': 'td cbi-section-actions' }, [
					E('button', { 'class': 'btn cbi-button cbi-button-remove', 'data-delete': p.name,
						'click': ui.createHandlerFn(this, 'handleDelete', p.name) }, [ _('Delete') ])
				])
			]));
		}, this));
		if (!peers.length)
			rows.push(E('tr', { 'class': 'tr placeholder' }, [
				E('td', { 'class': 'td', 'colspan': 7 }, [ E('em', [ _('No peers yet: add one below.') ]) ])
			]));
		return E('table', { 'class': 'table', 'id': 'pppossh-peers' }, rows);
	},

	refresh: function() {
		return callPeerList().then(L.bind(function(res) {
			if (msgs.failed(res))
				return show('pppossh-table-out', 'danger', msgs.describe(res));
			document.getElementById('pppossh-peers').replaceWith(this.renderTable(res.peers || []));
		}, this), function(err) {
			show('pppossh-table-out', 'danger', msgs.describe(err));
		});
	},

	handleDelete: function(name) {
		return callPeerDel(name).then(L.bind(function(res) {
			if (msgs.failed(res))
				return show('pppossh-table-out', 'danger', msgs.describe(res, { name: name }));
			show('pppossh-table-out', 'success', _('Removed peer %s; apply to shut its key out.').format(name));
			return this.refresh();
		}, this), function(err) {
			show('pppossh-table-out', 'danger', msgs.describe(err));
		});
	},

	handleAdd: function() {
		var name = document.getElementById('pppossh-new-name').value.trim(),
		    key = document.getElementById('pppossh-new-key').value.trim(),
		    ip = document.getElementById('pppossh-new-ip').value.trim(),
		    routes = document.getElementById('pppossh-new-routes').value.split(/[\s,]+/).filter(function(r) { return r; }),
		    mode = document.getElementById('pppossh-new-mode').value,
		    unit = mode != 'ppp' ? document.getElementById('pppossh-new-unit').value.trim() : '',
		    bridge = mode == 'tap' ? document.getElementById('pppossh-new-bridge').value.trim() : '';
		return callPeerAdd(name, key, ip, routes, mode, unit, bridge).then(L.bind(function(res) {
			if (msgs.failed(res))
				return show('pppossh-add-out', 'danger', msgs.describe(res, { name: name }));
			var p = res.peer;
			show('pppossh-add-out', 'success', p.device
				? _('Added peer %s (%s on the server\'s %s: on the router, proto sshtun with mode %s and remote_unit %s); apply to let it in.').format(p.name, p.bridge ? _('in bridge %s').format(p.bridge) : p.peeraddr, p.device, p.mode, p.device.replace(/^t(un|ap)/, ''))
				: _('Added peer %s (%s); apply to let it in.').format(p.name, p.peeraddr));
			[ 'name', 'key', 'ip', 'routes', 'unit', 'bridge' ].forEach(function(f) { document.getElementById('pppossh-new-' + f).value = ''; });
			return this.refresh();
		}, this), function(err) {
			show('pppossh-add-out', 'danger', msgs.describe(err));
		});
	},

	handleApply: function() {
		return callPeerApply().then(function(res) {
			if (msgs.failed(res))
				return show('pppossh-add-out', 'danger', msgs.describe(res));
			var notes = res.notes || [];
			show('pppossh-add-out', notes.length ? 'warning' : 'success', [
				N_(res.peers, '%d enabled peer in %s: %s', '%d enabled peers in %s: %s').format(res.peers, res.authorized_keys,
					res.changed.length ? _('updated') : _('unchanged'))
			].concat(notes.map(function(note) { return E('p', {}, note); })));
		}, function(err) {
			show('pppossh-add-out', 'danger', msgs.describe(err));
		});
	},

	render: function(res) {
		if (msgs.failed(res))
			return E('div', { 'id': 'pppossh-load-error' }, [ msgs.note('warning', msgs.describe(res)) ]);
		var field = function(label, input) {
			return E('div', { 'class': 'cbi-value' }, [
				E('label', { 'class': 'cbi-value-title' }, [ label ]),
				E('div', { 'class': 'cbi-value-field' }, [ input ])
			]);
		};
		return E([], [
			E('h2', [ _('pppossh server: peers') ]),
			E('p', { 'class': 'cbi-section-descr' }, [
				_('Routers allowed to connect. Each peer\'s key can start nothing but pppd with that peer\'s addresses, or a tun peer\'s nothing but its own tun device.')
			]),
			E('div', { 'class': 'cbi-section' }, [
				this.renderTable(res.peers || []),
				E('div', { 'id': 'pppossh-table-out', 'class': 'pppossh-out' })
			]),
			E('div', { 'class': 'cbi-section' }, [
				E('h3', [ _('Add a peer') ]),
				field(_('Name'), E('input', { 'id': 'pppossh-new-name', 'class': 'cbi-input-text', 'placeholder': 'branch-1' })),
				field(_('Public key'), E('textarea', { 'id': 'pppossh-new-key', 'class': 'cbi-input-textarea', 'rows': 3, 'style': 'width:100%',
					'placeholder': _('Paste the output of "pppossh pubkey" on the router') })),
				field(_('Addresses'), E('input', { 'id': 'pppossh-new-ip', 'class': 'cbi-input-text', 'placeholder': _('server:peer, empty = from the pool') })),
				field(_('Routes behind the peer'), E('input', { 'id': 'pppossh-new-routes', 'class': 'cbi-input-text', 'placeholder': '192.168.10.0/24' })),
				field(_('Link'), E('select', { 'id': 'pppossh-new-mode', 'class': 'cbi-input-select' }, [
					E('option', { 'value': 'ppp' }, [ _('PPP (the router uses proto pppossh)') ]),
					E('option', { 'value': 'tun' }, [ _('tun device (proto sshtun, OpenSSH\'s sshd)') ]),
					E('option', { 'value': 'tap' }, [ _('tap device, Ethernet (proto sshtun mode tap, OpenSSH\'s sshd)') ])
				])),
				field(_('Tun or tap unit'), E('input', { 'id': 'pppossh-new-unit', 'class': 'cbi-input-text', 'placeholder': _('tun and tap peers: empty = the first free') })),
				field(_('Bridge'), E('input', { 'id': 'pppossh-new-bridge', 'class': 'cbi-input-text', 'placeholder': _('tap peers: the server\'s bridge to join (then no addresses), e.g. br0') })),
				E('div', { 'class': 'cbi-page-actions' }, [
					E('button', { 'class': 'btn cbi-button cbi-button-add', 'id': 'pppossh-add',
						'click': ui.createHandlerFn(this, 'handleAdd') }, [ _('Add peer') ]), ' ',
					E('button', { 'class': 'btn cbi-button cbi-button-apply', 'id': 'pppossh-apply',
						'click': ui.createHandlerFn(this, 'handleApply') }, [ _('Apply') ]),
					E('div', { 'id': 'pppossh-add-out', 'class': 'pppossh-out', 'style': 'text-align:left' })
				])
			])
		]);
	},

	handleSave: null,
	handleSaveApply: null,
	handleReset: null
});
