'use strict';
'require baseclass';
'require dom';
'require rpc';
'require uci';
'require ui';
'require pppossh.messages as msgs';

// What the protocol forms of pppossh and sshtun share (protocol/pppossh.js and
// protocol/sshtun.js, generated from pppossh/templates/luci-protocol.js.j2): the backend
// calls, the key and host-key widgets, the live status and the connection check.
//
// The forms sit in LuCI's one modal dialog (Network > Interfaces > Edit): every result and
// error is shown inside it, next to the button that caused it; ui.addNotification would
// land behind the dialog.  Questions are asked in place too, as another modal would close
// this one with its unsaved edits.  The backend answers codes and values; the words come
// from pppossh/messages.js, through _().

var callStatus = rpc.declare({ object: 'pppossh', method: 'status', params: [ 'interface' ] });
var callKeygen = rpc.declare({ object: 'pppossh', method: 'keygen', params: [ 'interface', 'force' ] });
var callPubkey = rpc.declare({ object: 'pppossh', method: 'pubkey', params: [ 'interface' ] });
var callFetchHostkey = rpc.declare({ object: 'pppossh', method: 'fetch_hostkey', params: [ 'interface' ] });
var callPinHostkey = rpc.declare({ object: 'pppossh', method: 'pin_hostkey', params: [ 'interface', 'fingerprint' ] });
var callCheck = rpc.declare({ object: 'pppossh', method: 'check', params: [ 'interface', 'start' ] });

// what the page knows of the interface, for the messages
function context(section_id) {
	return {
		iface: section_id,
		server: uci.get('network', section_id, 'server'),
		port: +(uci.get('network', section_id, 'port') || 22),
		user: uci.get('network', section_id, 'sshuser')
	};
}

// the message area next to a button shows the latest result of that button
function show(area, level, content) {
	dom.content(area, msgs.note(level, content));
}

function showFailure(area, res, section_id) {
	show(area, 'danger', msgs.describe(res, context(section_id)));
}

// show a value the backend just stored in the form's own widget, so that saving the form
// keeps it
function setListWidget(section_id, option, values) {
	var el = document.getElementById('cbid.network.%s.%s'.format(section_id, option));
	var widget = el ? dom.findClassInstance(el) : null;
	if (widget && widget.setValue) {
		widget.setValue(values);
		el.dispatchEvent(new CustomEvent('widget-change', { bubbles: true }));
	}
}

// LuCI removes a flag whose box shows the default; one the admin wrote explicitly stays, so
// that saving an untouched dialog changes nothing
function removeUnlessDefault(section_id) {
	var value = uci.get('network', section_id, this.option);
	if (value != null && value !== this.default)
		uci.unset('network', section_id, this.option);
}

// a list value with a default writes it only when the admin chose another value before
function writeUnlessDefault(section_id, value) {
	if (value == this.default && uci.get('network', section_id, this.option) == null)
		return;
	uci.set('network', section_id, this.option, value);
}

// navigator.clipboard exists on https:// and localhost only; on a router's plain http://
// page the selected text is copied the old way, and the button says when it could not be
function copyButton(text, textarea) {
	return E('button', {
		'class': 'btn cbi-button',
		'click': function(ev) {
			ev.preventDefault();
			var button = ev.currentTarget;
			var say = function(ok) { button.textContent = ok ? _('Copied') : _('Select the text and copy it'); };
			if (navigator.clipboard && navigator.clipboard.writeText) {
				navigator.clipboard.writeText(text).then(function() { say(true); }, function() { say(false); });
				return;
			}
			textarea.select();
			var ok = false;
			try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
			say(ok);
		}
	}, [ _('Copy') ]);
}

function keyBox(id, text) {
	if (!text)
		return E('div', { 'id': id, 'class': 'pppossh-pubkey' }, [ E('em', [ _('No key yet: generate one.') ]) ]);
	var area = E('textarea', { 'readonly': 'readonly', 'rows': 3, 'style': 'width:100%', 'class': 'cbi-input-textarea' });
	area.value = text;
	return E('div', { 'id': id, 'class': 'pppossh-pubkey' }, [ area, copyButton(text, area) ]);
}

function askInPlace(container, question, yesLabel, yesId, onYes) {
	var box = E('div', { 'class': 'alert-message notice pppossh-question' }, [
		E('div', {}, question),
		E('div', { 'class': 'right' }, [
			E('button', { 'class': 'btn cbi-button', 'click': function(ev) {
				ev.preventDefault();
				dom.content(container, null);
			} }, [ _('Cancel') ]), ' ',
			// LuCI disables the button until the answer is in; the answer replaces the box
			E('button', { 'class': 'btn cbi-button cbi-button-positive', 'id': yesId,
				'click': ui.createHandlerFn(this, function(ev) {
					ev.preventDefault();
					return Promise.resolve(onYes()).finally(function() {
						if (container.contains(box))
							container.removeChild(box);
					});
				}) }, [ yesLabel ])
		])
	]);
	dom.content(container, box);
}

function renderCheck(res, section_id) {
	var ctx = context(section_id);
	return E('ul', { 'class': 'pppossh-check' }, (res.steps || []).map(function(step) {
		var said = msgs.step(step, ctx),
		    state = step.ok === true ? 'ok' : (step.ok === false ? 'fail' : 'skipped'),
		    mark = { ok: '✔', fail: '✘', skipped: '–' }[state],
		    color = { ok: 'green', fail: 'red', skipped: 'gray' }[state];
		return E('li', { 'class': 'pppossh-step pppossh-step-' + state, 'data-step': step.name,
		                 'data-code': step.code || null, 'style': 'color:' + color }, [
			E('strong', [ mark, ' ', msgs.stepTitle(step.name) ]), ' '
		].concat(said.text, [
			said.fix ? E('div', { 'class': 'pppossh-fix', 'style': 'color:inherit;margin-left:1.5em' }, [ _('Fix: %s').format(said.fix) ]) : ''
		]));
	}));
}

function formatBytes(n) {
	if (n == null) return '-';
	var units = [ 'B', 'KiB', 'MiB', 'GiB' ], i = 0;
	while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
	return (i ? n.toFixed(1) : n) + ' ' + units[i];
}

function renderStatus(st, section_id) {
	var ctx = context(section_id);
	if (msgs.failed(st))
		return msgs.note('warning', msgs.describe(st, ctx));
	var state = st.up ? msgs.phase('up') : msgs.phase(st.phase);
	if (st.phase == 'backoff' && st.next_wait != null)
		state = _('%s, next attempt in %d s').format(state, st.next_wait);
	var rows = [
		[ _('State'), state ],
		[ _('Uptime'), st.uptime != null ? '%t'.format(st.uptime) : '-' ],
		[ _('Received / sent'), formatBytes(st.rx_bytes) + ' / ' + formatBytes(st.tx_bytes) ],
		[ _('Addresses'), st.up ? '%s → %s'.format(st.local, st.remote) : '-' ]
	];
	if (st.last_error && st.last_error.code && !st.up)
		rows.push([ _('Last error'), E('span', {}, msgs.lastError(st.last_error, ctx)) ]);
	return E('table', { 'class': 'table pppossh-status' }, rows.map(function(r) {
		return E('tr', { 'class': 'tr' }, [ E('td', { 'class': 'td left', 'width': '33%' }, [ r[0] ]), E('td', { 'class': 'td left' }, [ r[1] ]) ]);
	}));
}


function writeKeepalive(section_id, value) {
	var f_opt = this.map.lookupOption('_keepalive_failure', section_id),
	    i_opt = this.map.lookupOption('_keepalive_interval', section_id),
	    f = (f_opt != null) ? f_opt[0].formvalue(section_id) : '',
	    i = (i_opt != null) ? i_opt[0].formvalue(section_id) : '',
	    placeholder = function(o) { return o ? o[0].placeholder : ''; },
	    same = function(o, v) { return o == null || String(o[0].cfgvalue(section_id) || '') === String(v || ''); };

	if (same(f_opt, f) && same(i_opt, i))
		return;  /* neither field was edited: the option stays as it is */

	if ((f == null || f === '') && (i == null || i === ''))
		uci.unset('network', section_id, 'keepalive');  /* the default */
	else if (+f === 0 && f !== '' && f != null)
		uci.set('network', section_id, 'keepalive', '0');  /* off */
	else
		uci.set('network', section_id, 'keepalive', '%d %d'.format(
			(f == null || f === '') ? +placeholder(f_opt) : +f,
			(i == null || i === '' || +i < 1) ? +placeholder(i_opt) : +i));
}

function generateKey(section_id, force, out) {
	return callKeygen(section_id, force).then(function(res) {
		if (res && res.error == 'KEY_EXISTS' && !force) {
			askInPlace(out, [
				E('strong', {}, [ _('Replace the key?') ]), ' ',
				_('This interface already has a key. A new one locks the router out of every server that knows only the old one, until the new key is added there.')
			], _('Replace'), 'pppossh-keygen-force', function() { return generateKey(section_id, true, out); });
			return;
		}
		if (msgs.failed(res))
			return showFailure(out, res, section_id);
		var box = document.getElementById('pppossh-pubkey-' + section_id);
		if (box) box.replaceWith(keyBox('pppossh-pubkey-' + section_id, res.public));
		var identities = L.toArray(uci.get('network', section_id, 'identity')).slice();
		if (identities.indexOf(res.path) < 0) {
			identities.push(res.path);
			uci.set('network', section_id, 'identity', identities);
			setListWidget(section_id, 'identity', identities);
		}
		show(out, 'success', res.created ? _('New key made: add the public key to the server.') : _('The key is in place.'));
	}, function(err) {
		showFailure(out, err, section_id);
	});
}

function fetchHostkey(section_id, out) {
	dom.content(out, E('em', [ _('Asking the server…') ]));
	return callFetchHostkey(section_id).then(function(res) {
		if (msgs.failed(res))
			return showFailure(out, res, section_id);
		var shown = E('pre', { 'id': 'pppossh-fingerprint' }, [ _('%s key, fingerprint %s').format(res.type, res.fingerprint) ]);
		if (res.matches) {
			dom.content(out, [ shown, msgs.note('success', _('This key is already pinned.')) ]);
			return;
		}
		var warning = res.pinned.length
			? E('strong', {}, [ _('The server shows a DIFFERENT key than the one pinned (%s).').format(res.pinned.join(', ')) ])
			: _('Compare the fingerprint with the one the server\'s admin sees (ssh-keygen -lf on the host key), then pin it.');
		askInPlace(out, [
			E('p', {}, [ _('%s port %d offers:').format(res.server, res.port) ]),
			shown,
			E('p', {}, [ warning ])
		], _('Pin this key'), 'pppossh-pin', function() {
			return callPinHostkey(section_id, res.fingerprint).then(function(pin) {
				if (msgs.failed(pin))
					return showFailure(out, pin, section_id);
				uci.set('network', section_id, 'hostkey', [ pin.key ]);
				setListWidget(section_id, 'hostkey', [ pin.key ]);
				dom.content(out, msgs.note('success', _('Pinned %s').format(pin.fingerprint), 'pppossh-pinned-' + section_id));
			}, function(err) {
				showFailure(out, err, section_id);
			});
		});
	}, function(err) {
		showFailure(out, err, section_id);
	});
}

// The check runs in the background on the router (it takes longer than LuCI waits for one
// call); the page starts it, then shows its steps as they come in.
function runCheck(section_id, out) {
	var display = function(res) {
		if (msgs.failed(res)) {
			showFailure(out, res, section_id);
			return false;
		}
		var head = res.running ? _('Checking…') :
			(res.ok ? _('All steps passed.') : _('Stopped at the first failing step:'));
		dom.content(out, [ E('p', {}, [ head ]), renderCheck(res, section_id) ]);
		return res.running;
	};
	var next = function() {
		return new Promise(function(resolve) { window.setTimeout(resolve, 1000); }).then(function() {
			return callCheck(section_id, false);
		}).then(function(res) {
			return display(res) ? next() : null;
		});
	};
	return callCheck(section_id, true).then(function(res) {
		return display(res) ? next() : null;
	}).catch(function(err) {
		showFailure(out, err, section_id);
	});
}

return baseclass.extend({
	context: context,
	showFailure: showFailure,
	removeUnlessDefault: removeUnlessDefault,
	writeUnlessDefault: writeUnlessDefault,
	keyBox: keyBox,
	renderStatus: renderStatus,
	writeKeepalive: writeKeepalive,
	generateKey: generateKey,
	fetchHostkey: fetchHostkey,
	runCheck: runCheck,
	callStatus: callStatus,
	callPubkey: callPubkey
});
