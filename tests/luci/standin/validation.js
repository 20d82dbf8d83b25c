/*
 * LuCI stand-in for the pppossh browser tests: LuCI.validation.
 *
 * Follows openwrt/luci modules/luci-base/htdocs/luci-static/resources/validation.js: a
 * datatype expression such as host(0), range(5,600) or ip4addr(nomask in quotes) is
 * compiled into [ function, args ] pairs; create(field, type, optional, vfunc) returns a
 * validator whose validate() checks the field value (an empty value is valid only when
 * optional), then the custom vfunc, marks the field with the class cbi-input-invalid and a
 * tooltip, and fires validation-success or validation-failure on it.  An unknown datatype
 * raises a SyntaxError at compile time, as in LuCI (ui.addValidator then gives up).
 *
 * Only the datatypes the pppossh form uses, and what they build on, are implemented.
 *
 * No quote characters in this comment: the class loader scans quoted strings from the top.
 */
'use strict';
'require baseclass';

function integerOf(x) {
	return /^-?\d+$/.test(x) ? +x : NaN;
}

function decimalOf(x) {
	return /^-?\d+(?:\.\d+)?$/.test(x) ? +x : NaN;
}

function ipv4Of(x) {
	var m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(x);
	if (!m)
		return null;
	var parts = m.slice(1).map(Number);
	return parts.every(function(p) { return p <= 255; }) ? parts : null;
}

/* loose IPv6 syntax check: hex groups, at most one "::", an optional IPv4 tail */
function ipv6Of(x) {
	var v4tail = /^(.*:)(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/.exec(x);
	if (v4tail) {
		if (!ipv4Of(v4tail[2]))
			return null;
		x = v4tail[1] + '0:0';
	}

	if (!/^[0-9a-fA-F:]+$/.test(x))
		return null;

	var halves = x.split('::');
	if (halves.length > 2)
		return null;

	var head = halves[0] ? halves[0].split(':') : [],
	    tail = (halves.length > 1 && halves[1]) ? halves[1].split(':') : [],
	    groups = head.concat(tail);

	if (!groups.every(function(g) { return /^[0-9a-fA-F]{1,4}$/.test(g); }))
		return null;

	if (halves.length == 1 ? groups.length != 8 : groups.length > 7)
		return null;

	return groups;
}

var Validator = baseclass.extend({
	__init__: function(field, type, optional, vfunc, factory) {
		this.field = field;
		this.optional = optional;
		this.vfunc = vfunc;
		this.factory = factory;
		this.vstack = factory.compile(type);
	},

	assert: function(ok, message) {
		if (!ok) {
			this.field.classList.add('cbi-input-invalid');
			this.error = message;
			return false;
		}

		this.field.classList.remove('cbi-input-invalid');
		this.error = null;
		return true;
	},

	apply: function(name, value, args) {
		var fn = (typeof(name) == 'function') ? name : this.factory.types[name];

		if (typeof(fn) != 'function')
			return false;

		if (value != null)
			this.value = value;

		return fn.apply(this, args);
	},

	fail: function(message) {
		this.field.classList.add('cbi-input-invalid');
		this.field.setAttribute('data-tooltip', message);
		this.field.setAttribute('data-tooltip-style', 'error');
		this.field.dispatchEvent(new CustomEvent('validation-failure', { bubbles: true, detail: { message: message } }));
		return false;
	},

	validate: function() {
		/* a detached field is not validated */
		if (!this.field.closest('body') && !this.field.closest('[data-field]'))
			return true;

		this.field.classList.remove('cbi-input-invalid');
		this.value = (this.field.value != null) ? this.field.value : '';
		this.error = null;

		var ok = (this.value.length === 0)
			? this.assert(this.optional, _('non-empty value'))
			: this.vstack[0].apply(this, this.vstack[1]);

		if (ok !== true)
			return this.fail(_('Expecting: %s').format(this.error));

		if (typeof(this.vfunc) == 'function') {
			ok = this.vfunc(this.value);

			if (ok !== true) {
				this.assert(false, ok);
				return this.fail(ok);
			}
		}

		this.field.removeAttribute('data-tooltip');
		this.field.removeAttribute('data-tooltip-style');
		this.field.dispatchEvent(new CustomEvent('validation-success', { bubbles: true }));
		return true;
	}
});

var ValidatorFactory = baseclass.extend({
	create: function(field, type, optional, vfunc) {
		return new Validator(field, type, optional, vfunc, this);
	},

	/* "a(b,c(1))" -> [ a, [ b, null, c, [ 1 ] ] ]: functions followed by their argument lists */
	compile: function(code) {
		var stack = [], depth = 0, start = 0;

		code += ',';

		for (var i = 0; i < code.length; i++) {
			var c = code.charAt(i);

			if (c == '\\') {
				i++;
				continue;
			}

			if (c == '(' || c == ',') {
				if (depth == 0) {
					var token = code.substring(start, i).replace(/\\(.)/g, '$1').trim();

					if (token.length) {
						if (!isNaN(token))
							stack.push(parseFloat(token));
						else if (/^(['"]).*\1$/.test(token))
							stack.push(token.substring(1, token.length - 1));
						else if (typeof(this.types[token]) == 'function')
							stack.push(this.types[token], null);
						else
							L.raise('SyntaxError', 'Unhandled token "%s"', token);
					}

					start = i + 1;
				}

				if (c == '(')
					depth++;
			}
			else if (c == ')') {
				if (--depth == 0) {
					if (typeof(stack[stack.length - 2]) != 'function')
						L.raise('SyntaxError', 'Argument list follows non-function');

					stack[stack.length - 1] = this.compile(code.substring(start, i));
					start = i + 1;
				}
			}
		}

		return stack;
	},

	parseInteger: integerOf,
	parseDecimal: decimalOf,
	parseIPv4: ipv4Of,
	parseIPv6: ipv6Of,

	types: {
		string: function() { return true; },
		file: function() { return true; },
		directory: function() { return true; },

		integer: function() {
			return this.assert(!isNaN(integerOf(this.value)), _('valid integer value'));
		},

		uinteger: function() {
			return this.assert(integerOf(this.value) >= 0, _('positive integer value'));
		},

		range: function(min, max) {
			var v = decimalOf(this.value);
			return this.assert(v >= +min && v <= +max, _('value between %f and %f').format(min, max));
		},

		min: function(min) {
			return this.assert(decimalOf(this.value) >= +min, _('value greater or equal to %f').format(min));
		},

		max: function(max) {
			return this.assert(decimalOf(this.value) <= +max, _('value smaller or equal to %f').format(max));
		},

		port: function() {
			var p = integerOf(this.value);
			return this.assert(p >= 0 && p <= 65535, _('valid port value'));
		},

		ip4prefix: function() {
			return this.assert(!isNaN(this.value) && this.value >= 0 && this.value <= 32, _('valid IPv4 prefix value (0-32)'));
		},

		ip6prefix: function() {
			return this.assert(!isNaN(this.value) && this.value >= 0 && this.value <= 128, _('valid IPv6 prefix value (0-128)'));
		},

		ip4addr: function(nomask) {
			var m = nomask ? /^(\d+\.\d+\.\d+\.\d+)$/.exec(this.value)
			               : /^(\d+\.\d+\.\d+\.\d+)(?:\/(\d+\.\d+\.\d+\.\d+)|\/(\d{1,2}))?$/.exec(this.value);
			var ok = m && ipv4Of(m[1]) && (m[2] ? ipv4Of(m[2]) : (m[3] ? this.apply('ip4prefix', m[3]) : true));
			return this.assert(!!ok, nomask ? _('valid IPv4 address') : _('valid IPv4 address or network'));
		},

		ip6addr: function(nomask) {
			var m = nomask ? /^([0-9a-fA-F:.]+)$/.exec(this.value)
			               : /^([0-9a-fA-F:.]+)(?:\/(\d{1,3}))?$/.exec(this.value);
			var ok = m && ipv6Of(m[1]) && (m[2] ? this.apply('ip6prefix', m[2]) : true);
			return this.assert(!!ok, nomask ? _('valid IPv6 address') : _('valid IPv6 address or prefix'));
		},

		ipaddr: function(nomask) {
			return this.assert(this.apply('ip4addr', null, [ nomask ]) || this.apply('ip6addr', null, [ nomask ]),
				nomask ? _('valid IP address') : _('valid IP address or prefix'));
		},

		cidr4: function(negative) {
			var m = /^(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})\/(-)?(\d{1,2})$/.exec(this.value);
			return this.assert(!!(m && ipv4Of(m[1]) && (negative || !m[2]) && this.apply('ip4prefix', m[3])), _('valid IPv4 CIDR'));
		},

		cidr6: function(negative) {
			var m = /^([0-9a-fA-F:.]+)\/(-)?(\d{1,3})$/.exec(this.value);
			return this.assert(!!(m && ipv6Of(m[1]) && (negative || !m[2]) && this.apply('ip6prefix', m[3])), _('valid IPv6 CIDR'));
		},

		cidr: function(negative) {
			return this.assert(this.apply('cidr4', null, [ negative ]) || this.apply('cidr6', null, [ negative ]),
				_('valid IPv4 or IPv6 CIDR'));
		},

		hostname: function(strict) {
			var v = this.value;
			var ok = v.length <= 253 &&
				(/^[a-zA-Z0-9_]+$/.test(v) || (/^[a-zA-Z0-9_][a-zA-Z0-9_\-.]*[a-zA-Z0-9]$/.test(v) && /[^0-9.]/.test(v))) &&
				(!strict || !/^_/.test(v));
			return this.assert(ok, _('valid hostname'));
		},

		host: function(ipv4only) {
			return this.assert(this.apply('hostname') || this.apply(ipv4only == 1 ? 'ip4addr' : 'ipaddr', null, [ 'nomask' ]),
				_('valid hostname or IP address'));
		},

		or: function() {
			var errors = [];

			for (var i = 0; i < arguments.length; i += 2) {
				if (typeof(arguments[i]) != 'function') {
					if (arguments[i] == this.value)
						return this.assert(true);
					errors.push('"%s"'.format(arguments[i]));
					i--;
				}
				else if (arguments[i].apply(this, arguments[i + 1])) {
					return this.assert(true);
				}
				else {
					errors.push(this.error);
				}
			}

			return this.assert(false, _('One of the following: %s').format('\n - ' + errors.join('\n - ')));
		},

		and: function() {
			for (var i = 0; i < arguments.length; i += 2) {
				if (typeof(arguments[i]) != 'function') {
					if (arguments[i] != this.value)
						return this.assert(false, '"%s"'.format(arguments[i]));
					i--;
				}
				else if (!arguments[i].apply(this, arguments[i + 1])) {
					return this.assert(false, this.error);
				}
			}

			return this.assert(true);
		}
	}
});

return ValidatorFactory;
