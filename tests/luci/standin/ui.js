/*
 * LuCI stand-in for the pppossh browser tests: LuCI.ui.
 *
 * Follows openwrt/luci modules/luci-base/htdocs/luci-static/resources/ui.js:
 * - ui.showModal(title, children, ...classes) and ui.hideModal(): ONE modal overlay
 *   (#modal_overlay > div.modal) whose content each showModal() replaces;
 * - ui.addNotification(title, children, ...classes): a div.alert-message with a Dismiss
 *   button, inserted at the top of #maincontent;
 * - ui.createHandlerFn(ctx, fn or method name, ...args): an event handler that disables
 *   the clicked element and adds the class spinning until the promise fn returns settles;
 * - ui.addValidator(field, datatype, optional, vfunc, ...events) on top of validation;
 * - widgets bound to their node with dom.bindClassInstance, so dom.findClassInstance()
 *   finds them from any inner node, each with getValue/setValue/isValid/triggerValidation:
 *   Textfield, Textarea, Checkbox, Select, Dropdown (simplified: a select element inside),
 *   Combobox, DynamicList, Hiddenfield; the outer node carries the id LuCI gives it (for a
 *   form option cbid.CONFIG.SECTION.OPTION) and the input widget.cbid.CONFIG.SECTION.OPTION;
 * - ui.tabs (initTabGroup, switchTab, updateTabs) and ui.instantiateView(path).
 *
 * Test hook, not in LuCI: addValidator writes the datatype into a data-type attribute of
 * the validated field (older LuCI templates carried data-type the same way).
 *
 * No quote characters in this comment: the class loader scans quoted strings from the top.
 */
'use strict';
'require validation';
'require dom';

var modalDiv = null;

var UIElement = L.Class.extend({
	__name__: 'LuCI.ui.AbstractElement',

	getValue: function() {
		if (dom.matches(this.node, 'select') || dom.matches(this.node, 'input'))
			return this.node.value;
		return null;
	},

	setValue: function(value) {
		if (dom.matches(this.node, 'select') || dom.matches(this.node, 'input'))
			this.node.value = value;
	},

	isValid: function() {
		return (this.validState !== false);
	},

	triggerValidation: function() {
		if (typeof(this.vfunc) != 'function')
			return false;

		var before = this.isValid();
		this.vfunc();
		return (before != this.isValid());
	},

	registerEvents: function(target, synevent, events) {
		var node = this.node;
		events.forEach(function(ev) {
			target.addEventListener(ev, function() {
				node.dispatchEvent(new CustomEvent(synevent, { bubbles: true }));
			});
		});
	},

	setUpdateEvents: function(target) {
		var events = Array.prototype.slice.call(arguments, 1),
		    datatype = this.options.datatype,
		    optional = Object.prototype.hasOwnProperty.call(this.options, 'optional') ? this.options.optional : true,
		    validate = this.options.validate;

		this.registerEvents(target, 'widget-update', events);

		if (!datatype && !validate)
			return;

		this.vfunc = L.ui.addValidator.apply(L.ui, [ target, datatype || 'string', optional, validate ].concat(events));

		this.node.addEventListener('validation-success', L.bind(function() { this.validState = true; }, this));
		this.node.addEventListener('validation-failure', L.bind(function() { this.validState = false; }, this));
	},

	setChangeEvents: function(target) {
		var node = this.node, events = Array.prototype.slice.call(arguments, 1);

		events.forEach(function(ev) {
			target.addEventListener(ev, function() { node.setAttribute('data-changed', true); });
		});

		this.registerEvents(target, 'widget-change', events);
	}
});

var UITextfield = UIElement.extend({
	__name__: 'LuCI.ui.Textfield',

	__init__: function(value, options) {
		this.value = value;
		this.options = Object.assign({ optional: true, password: false }, options);
	},

	render: function() {
		var frame = E('div', { 'id': this.options.id });

		if (this.options.password) {
			/* a decoy field against password managers, as LuCI adds */
			frame.classList.add('nowrap');
			frame.appendChild(E('input', { 'type': 'password', 'style': 'position:absolute; left:-100000px',
				'aria-hidden': true, 'tabindex': -1 }));
		}

		frame.appendChild(E('input', {
			'id': this.options.id ? 'widget.' + this.options.id : null,
			'name': this.options.name,
			'type': this.options.password ? 'password' : 'text',
			'class': this.options.password ? 'cbi-input-password' : 'cbi-input-text',
			'readonly': this.options.readonly ? '' : null,
			'maxlength': this.options.maxlength,
			'placeholder': this.options.placeholder,
			'value': this.value
		}));

		if (this.options.password)
			frame.appendChild(E('button', { 'class': 'cbi-button cbi-button-neutral', 'title': _('Reveal/hide password'),
				'click': function(ev) {
					var input = this.previousElementSibling;
					input.type = (input.type === 'password') ? 'text' : 'password';
					ev.preventDefault();
				} }, [ '∗' ]));

		return this.bind(frame);
	},

	inputNode: function() {
		return this.node.childNodes[this.options.password ? 1 : 0];
	},

	bind: function(frame) {
		this.node = frame;
		var input = this.inputNode();
		this.setUpdateEvents(input, 'keyup', 'blur');
		this.setChangeEvents(input, 'change');
		dom.bindClassInstance(frame, this);
		return frame;
	},

	getValue: function() {
		return this.inputNode().value;
	},

	setValue: function(value) {
		this.inputNode().value = value;
	}
});

var UITextarea = UIElement.extend({
	__name__: 'LuCI.ui.Textarea',

	__init__: function(value, options) {
		this.value = value;
		this.options = Object.assign({ optional: true, wrap: false, cols: null, rows: null }, options);
	},

	render: function() {
		var frame = E('div', { 'id': this.options.id });

		frame.appendChild(E('textarea', {
			'id': this.options.id ? 'widget.' + this.options.id : null,
			'name': this.options.name,
			'class': 'cbi-input-textarea',
			'readonly': this.options.readonly ? '' : null,
			'placeholder': this.options.placeholder,
			'style': !this.options.cols ? 'width:100%' : null,
			'cols': this.options.cols,
			'rows': this.options.rows,
			'wrap': this.options.wrap ? '' : null
		}, [ (this.value != null) ? String(this.value) : '' ]));

		if (this.options.monospace)
			frame.firstElementChild.style.fontFamily = 'monospace';

		return this.bind(frame);
	},

	bind: function(frame) {
		this.node = frame;
		this.setUpdateEvents(frame.firstElementChild, 'keyup', 'blur');
		this.setChangeEvents(frame.firstElementChild, 'change');
		dom.bindClassInstance(frame, this);
		return frame;
	},

	getValue: function() {
		return this.node.firstElementChild.value;
	},

	setValue: function(value) {
		this.node.firstElementChild.value = value;
	}
});

var UICheckbox = UIElement.extend({
	__name__: 'LuCI.ui.Checkbox',

	__init__: function(value, options) {
		this.value = value;
		this.options = Object.assign({ value_enabled: '1', value_disabled: '0' }, options);
	},

	render: function() {
		var frame = E('div', { 'id': this.options.id, 'class': 'cbi-checkbox' });

		frame.appendChild(E('input', {
			'id': this.options.id ? 'widget.' + this.options.id : null,
			'name': this.options.name,
			'type': 'checkbox',
			'value': this.options.value_enabled,
			'checked': (this.value == this.options.value_enabled) ? '' : null
		}));

		frame.appendChild(E('label', { 'for': this.options.id ? 'widget.' + this.options.id : null }));

		return this.bind(frame);
	},

	box: function() {
		return this.node.querySelector('input[type="checkbox"]');
	},

	bind: function(frame) {
		this.node = frame;
		this.setUpdateEvents(this.box(), 'click', 'blur');
		this.setChangeEvents(this.box(), 'change');
		dom.bindClassInstance(frame, this);
		return frame;
	},

	isChecked: function() {
		return this.box().checked;
	},

	getValue: function() {
		return this.isChecked() ? this.options.value_enabled : this.options.value_disabled;
	},

	setValue: function(value) {
		this.box().checked = (value == this.options.value_enabled);
	}
});

var UISelect = UIElement.extend({
	__name__: 'LuCI.ui.Select',

	__init__: function(value, choices, options) {
		if (!L.isObject(choices))
			choices = {};

		if (!Array.isArray(value))
			value = (value != null && value != '') ? [ value ] : [];

		this.options = Object.assign({ multiple: false, widget: 'select', orientation: 'horizontal' }, options);

		if (!this.options.multiple && value.length > 1)
			value.length = 1;

		this.values = value;
		this.choices = choices;

		if (Object.prototype.hasOwnProperty.call(choices, ''))
			this.options.optional = true;
	},

	keys: function() {
		var keys = Object.keys(this.choices);

		if (this.options.sort === true)
			keys.sort();
		else if (Array.isArray(this.options.sort))
			keys = this.options.sort;

		return keys;
	},

	render: function() {
		var frame = E('div', { 'id': this.options.id }),
		    select = E('select', {
			'id': this.options.id ? 'widget.' + this.options.id : null,
			'name': this.options.name,
			'size': this.options.size,
			'class': 'cbi-input-select',
			'multiple': this.options.multiple ? '' : null
		    });

		if (this.options.optional)
			select.appendChild(E('option', {
				'value': '',
				'selected': (this.values.length == 0 || this.values[0] == '') ? '' : null
			}, [ this.choices[''] || this.options.placeholder || _('-- Please choose --') ]));

		this.keys().forEach(function(key) {
			if (key == null || key == '')
				return;

			select.appendChild(E('option', {
				'value': key,
				'selected': (this.values.indexOf(key) > -1) ? '' : null
			}, [ this.choices[key] || key ]));
		}, this);

		frame.appendChild(select);

		return this.bind(frame);
	},

	bind: function(frame) {
		this.node = frame;
		this.setUpdateEvents(frame.firstChild, 'change', 'click', 'blur');
		this.setChangeEvents(frame.firstChild, 'change');
		dom.bindClassInstance(frame, this);
		return frame;
	},

	getValue: function() {
		return this.node.firstChild.value;
	},

	setValue: function(value) {
		if (value == null)
			value = '';

		Array.prototype.forEach.call(this.node.firstChild.options, function(opt) {
			opt.selected = (opt.value == value);
		});
	}
});

/*
 * LuCI draws its Dropdown as a custom list with hidden inputs; here it is a select element
 * (multiple when options.multiple) inside div.cbi-dropdown, with the same value contract:
 * getValue() is a string, or an array for a multiple dropdown.
 */
var UIDropdown = UIElement.extend({
	__name__: 'LuCI.ui.Dropdown',

	__init__: function(value, choices, options) {
		if (typeof(choices) != 'object' || choices == null)
			choices = {};

		this.values = Array.isArray(value) ? value : ((value != null && value != '') ? [ value ] : []);
		this.choices = choices;
		this.options = Object.assign({
			sort: true,
			multiple: Array.isArray(value),
			optional: true,
			select_placeholder: _('-- Please choose --'),
			custom_placeholder: _('-- custom --'),
			create: false
		}, options);
	},

	render: function() {
		var keys = Object.keys(this.choices);

		if (this.options.sort === true)
			keys.sort();
		else if (Array.isArray(this.options.sort))
			keys = this.options.sort.slice();

		if (this.options.create)
			this.values.forEach(function(v) { if (keys.indexOf(v) < 0) keys.push(v); });

		var select = E('select', {
			'id': this.options.id ? 'widget.' + this.options.id : null,
			'class': 'cbi-input-select',
			'multiple': this.options.multiple ? '' : null
		});

		if (!this.options.multiple && this.options.optional)
			select.appendChild(E('option', { 'value': '' }, [ this.options.select_placeholder ]));

		keys.forEach(function(key) {
			var label = this.choices[key];
			select.appendChild(E('option', {
				'value': key,
				'selected': (this.values.indexOf(key) > -1) ? '' : null
			}, [ dom.elem(label) ? label.cloneNode(true) : (label || key) ]));
		}, this);

		var frame = E('div', { 'id': this.options.id, 'class': 'cbi-dropdown' }, [ select ]);

		if (this.options.create)
			frame.appendChild(E('input', { 'type': 'text', 'class': 'create-item-input',
				'placeholder': this.options.custom_placeholder || this.options.placeholder }));

		return this.bind(frame);
	},

	bind: function(frame) {
		this.node = frame;
		this.setUpdateEvents(frame.firstChild, 'change', 'blur');
		this.setChangeEvents(frame.firstChild, 'change');
		dom.bindClassInstance(frame, this);
		return frame;
	},

	getValue: function() {
		var select = this.node.firstChild,
		    picked = Array.prototype.filter.call(select.options, function(o) { return o.selected && o.value != ''; })
			.map(function(o) { return o.value; }),
		    typed = this.node.querySelector('.create-item-input');

		if (typed && typed.value.trim() != '')
			picked = this.options.multiple ? picked.concat([ typed.value.trim() ]) : [ typed.value.trim() ];

		return this.options.multiple ? picked : (picked.length ? picked[0] : '');
	},

	setValue: function(values) {
		var wanted = Array.isArray(values) ? values : ((values != null && values != '') ? [ values ] : []);

		if (!this.options.multiple)
			wanted = wanted.slice(0, 1);

		Array.prototype.forEach.call(this.node.firstChild.options, function(o) {
			o.selected = (wanted.indexOf(o.value) > -1);
		});
	}
});

var UICombobox = UIDropdown.extend({
	__name__: 'LuCI.ui.Combobox',

	__init__: function(value, choices, options) {
		UIDropdown.prototype.__init__.call(this, value, choices, Object.assign({
			select_placeholder: _('-- Please choose --'),
			custom_placeholder: _('-- custom --'),
			sort: true
		}, options, { multiple: false, create: true, optional: true }));
	}
});

var UIDynamicList = UIElement.extend({
	__name__: 'LuCI.ui.DynamicList',

	__init__: function(values, choices, options) {
		if (!Array.isArray(values))
			values = (values != null && values != '') ? [ values ] : [];

		this.values = values;
		this.choices = (typeof(choices) == 'object') ? choices : null;
		this.options = Object.assign({}, options, { multiple: false, optional: true });
	},

	render: function() {
		var list = E('div', { 'id': this.options.id, 'class': 'cbi-dynlist' }, E('div', { 'class': 'add-item' }));

		if (this.choices) {
			var cbox = new UICombobox(null, this.choices, this.options);
			list.lastElementChild.appendChild(cbox.render());
		}
		else {
			var input = E('input', {
				'id': this.options.id ? 'widget.' + this.options.id : null,
				'type': 'text',
				'class': 'cbi-input-text',
				'placeholder': this.options.placeholder
			});

			list.lastElementChild.appendChild(input);
			list.lastElementChild.appendChild(E('div', { 'class': 'cbi-button cbi-button-add' }, [ '+' ]));

			if (this.options.datatype)
				L.ui.addValidator(input, this.options.datatype, true, null, 'blur', 'keyup');
		}

		this.values.forEach(function(v) {
			this.addItem(list, v, this.choices ? this.choices[v] : null);
		}, this);

		return this.bind(list);
	},

	bind: function(list) {
		list.addEventListener('click', L.bind(this.handleClick, this));
		list.addEventListener('keydown', L.bind(this.handleKeydown, this));

		this.node = list;
		this.setUpdateEvents(list, 'cbi-dynlist-change');
		this.setChangeEvents(list, 'cbi-dynlist-change');
		dom.bindClassInstance(list, this);

		return list;
	},

	addItem: function(list, value, text, flash) {
		var exists = Array.prototype.some.call(list.querySelectorAll('.item > input[type="hidden"]'), function(h) {
			return h.value === value;
		});

		if (!exists) {
			var item = E('div', { 'class': flash ? 'item flash' : 'item', 'tabindex': 0 }, [
				E('span', {}, [ text || value ]),
				E('input', { 'type': 'hidden', 'name': this.options.name, 'value': value })
			]);
			var adder = list.querySelector('.add-item');
			adder.parentNode.insertBefore(item, adder);
		}

		list.dispatchEvent(new CustomEvent('cbi-dynlist-change', {
			bubbles: true, detail: { instance: this, element: list, value: value, add: true }
		}));
	},

	removeItem: function(list, item) {
		var value = item.querySelector('input[type="hidden"]').value;

		item.parentNode.removeChild(item);

		list.dispatchEvent(new CustomEvent('cbi-dynlist-change', {
			bubbles: true, detail: { instance: this, element: list, value: value, remove: true }
		}));
	},

	handleClick: function(ev) {
		var list = ev.currentTarget,
		    item = dom.parent(ev.target, '.item');

		if (item) {
			this.removeItem(list, item);
		}
		else if (dom.matches(ev.target, '.cbi-button-add')) {
			var input = ev.target.previousElementSibling;
			if (input.value.length && !input.classList.contains('cbi-input-invalid')) {
				this.addItem(list, input.value, null, true);
				input.value = '';
			}
		}
	},

	handleKeydown: function(ev) {
		var list = ev.currentTarget;

		if (dom.matches(ev.target, '.cbi-input-text') && ev.keyCode == 13) {
			if (ev.target.value.length && !ev.target.classList.contains('cbi-input-invalid')) {
				this.addItem(list, ev.target.value, null, true);
				ev.target.value = '';
			}
			ev.preventDefault();
		}
	},

	getValue: function() {
		var items = this.node.querySelectorAll('.item > input[type="hidden"]'),
		    input = this.node.querySelector('.add-item > input[type="text"]'),
		    values = Array.prototype.map.call(items, function(h) { return h.value; });

		/* text typed but not added yet counts, as in LuCI */
		if (input && /\S/.test(input.value) && !input.classList.contains('cbi-input-invalid') &&
		    values.indexOf(input.value) < 0)
			values.push(input.value);

		return values;
	},

	setValue: function(values) {
		if (!Array.isArray(values))
			values = (values != null && values != '') ? [ values ] : [];

		var list = this.node;

		Array.prototype.forEach.call(list.querySelectorAll('.item'), function(item) {
			if (item.parentNode === list)
				this.removeItem(list, item);
		}, this);

		values.forEach(function(v) {
			this.addItem(list, v, this.choices ? this.choices[v] : null);
		}, this);
	}
});

var UIHiddenfield = UIElement.extend({
	__name__: 'LuCI.ui.Hiddenfield',

	__init__: function(value, options) {
		this.value = value;
		this.options = Object.assign({}, options);
	},

	render: function() {
		return this.bind(E('input', { 'id': this.options.id, 'type': 'hidden', 'value': this.value }));
	},

	bind: function(node) {
		this.node = node;
		dom.bindClassInstance(node, this);
		return node;
	},

	getValue: function() {
		return this.node.value;
	},

	setValue: function(value) {
		this.node.value = value;
	}
});

var tabs = L.Class.singleton({
	__name__: 'LuCI.ui.tabs',

	/* LuCI keeps the active tab per pane path in sessionStorage; here in memory */
	state: {},

	pathOf: function(pane) {
		var path = [];

		for (var node = pane ? pane.parentNode : null; node != null && node.hasAttribute; node = node.parentNode) {
			if (node.hasAttribute('data-tab'))
				path.unshift(node.getAttribute('data-tab'));
			else if (node.hasAttribute('data-section-id'))
				path.unshift(node.getAttribute('data-section-id'));
		}

		return path.join('/');
	},

	isEmptyPane: function(pane) {
		return dom.isEmpty(pane, function(n) { return n.classList.contains('cbi-tab-descr'); });
	},

	initTabGroup: function(panes) {
		if (typeof(panes) != 'object' || !('length' in panes) || panes.length === 0)
			return;

		panes = Array.prototype.filter.call(panes, function(p) { return dom.matches(p, '[data-tab]'); });

		if (!panes.length)
			return;

		var group = panes[0].parentNode,
		    menu = E('ul', { 'class': 'cbi-tabmenu' }),
		    selected = null;

		if (group.getAttribute('data-initialized') === 'true')
			return;

		panes.forEach(function(pane, i) {
			var active = pane.getAttribute('data-tab-active') === 'true';

			menu.appendChild(E('li', {
				'style': this.isEmptyPane(pane) ? 'display:none' : null,
				'class': active ? 'cbi-tab' : 'cbi-tab-disabled',
				'data-tab': pane.getAttribute('data-tab')
			}, [ E('a', { 'href': '#', 'click': L.bind(this.switchTab, this) }, [ pane.getAttribute('data-tab-title') ]) ]));

			if (active)
				selected = i;
		}, this);

		group.parentNode.insertBefore(menu, group);
		group.setAttribute('data-initialized', true);

		if (selected === null) {
			var remembered = this.state[this.pathOf(panes[0])];

			selected = 0;
			panes.forEach(function(pane, i) {
				if (pane.getAttribute('data-tab') === remembered && !this.isEmptyPane(pane))
					selected = i;
			}, this);

			while (selected < panes.length - 1 && this.isEmptyPane(panes[selected]))
				selected++;

			menu.childNodes[selected].classList.add('cbi-tab');
			menu.childNodes[selected].classList.remove('cbi-tab-disabled');
			panes[selected].setAttribute('data-tab-active', 'true');
		}

		this.updateTabs(null, group);
	},

	updateTabs: function(ev, root) {
		(root || document).querySelectorAll('[data-tab-title]').forEach(L.bind(function(pane) {
			var menu = pane.parentNode.previousElementSibling,
			    tab = menu ? menu.querySelector('[data-tab="%s"]'.format(pane.getAttribute('data-tab'))) : null,
			    errors = pane.querySelectorAll('.cbi-input-invalid').length;

			if (!tab)
				return;

			tab.style.display = this.isEmptyPane(pane) ? 'none' : '';

			if (errors) {
				tab.setAttribute('data-errors', errors);
				tab.setAttribute('data-tooltip', _('%d invalid field(s)').format(errors));
			}
			else {
				tab.removeAttribute('data-errors');
				tab.removeAttribute('data-tooltip');
			}
		}, this));
	},

	switchTab: function(ev) {
		var tab = ev.target.parentNode,
		    name = tab.getAttribute('data-tab'),
		    menu = tab.parentNode,
		    group = menu.nextElementSibling;

		ev.preventDefault();

		if (!tab.classList.contains('cbi-tab-disabled'))
			return;

		menu.querySelectorAll('[data-tab]').forEach(function(t) {
			t.classList.remove('cbi-tab', 'cbi-tab-disabled');
			t.classList.add(t.getAttribute('data-tab') === name ? 'cbi-tab' : 'cbi-tab-disabled');
		});

		group.childNodes.forEach(function(pane) {
			if (dom.matches(pane, '[data-tab]')) {
				pane.setAttribute('data-tab-active', pane.getAttribute('data-tab') === name ? 'true' : 'false');
				if (pane.getAttribute('data-tab') === name)
					this.state[this.pathOf(pane)] = name;
			}
		}, this);
	}
});

return L.Class.extend({
	__init__: function() {
		modalDiv = document.body.appendChild(E('div', { 'id': 'modal_overlay' },
			E('div', { 'class': 'modal', 'role': 'dialog', 'aria-modal': true })));
	},

	showModal: function(title, children) {
		var dlg = modalDiv.firstElementChild;

		dlg.setAttribute('class', 'modal');

		for (var i = 2; i < arguments.length; i++)
			dlg.classList.add(arguments[i]);

		dom.content(dlg, E('h4', {}, [ title ]));
		dom.append(dlg, children);

		document.body.classList.add('modal-overlay-active');

		return dlg;
	},

	hideModal: function() {
		document.body.classList.remove('modal-overlay-active');
	},

	addNotification: function(title, children) {
		var mc = document.querySelector('#maincontent') || document.body,
		    msg = E('div', { 'class': 'alert-message fade-in', 'style': 'display:flex' }, [
			E('div', { 'style': 'flex:10' }),
			E('div', { 'style': 'flex:1 1 auto; display:flex' }, [
				E('button', { 'class': 'btn', 'style': 'margin-left:auto; margin-top:auto',
					'click': function(ev) {
						var box = dom.parent(ev.target, '.alert-message');
						if (box && box.parentNode)
							box.parentNode.removeChild(box);
					} }, [ _('Dismiss') ])
			])
		    ]);

		if (title != null)
			dom.append(msg.firstElementChild, E('h4', {}, [ title ]));

		dom.append(msg.firstElementChild, children);

		for (var i = 2; i < arguments.length; i++)
			msg.classList.add(arguments[i]);

		mc.insertBefore(msg, mc.firstElementChild);

		return msg;
	},

	addValidator: function(field, type, optional, vfunc) {
		if (type == null)
			return;

		var events = Array.prototype.slice.call(arguments, 4);
		if (!events.length)
			events.push('blur', 'keyup');

		try {
			var validator = L.validation.create(field, type, optional, vfunc),
			    run = validator.validate.bind(validator);

			field.setAttribute('data-type', type);

			events.forEach(function(ev) { field.addEventListener(ev, run); });
			run();

			return run;
		}
		catch (e) { /* an unknown datatype leaves the field unvalidated, as in LuCI */ }
	},

	createHandlerFn: function(ctx, fn) {
		if (typeof(fn) == 'string')
			fn = ctx[fn];

		if (typeof(fn) != 'function')
			return null;

		var bound = Array.prototype.slice.call(arguments, 2),
		    argOffset = bound.length;

		return function() {
			var args = bound.concat(Array.prototype.slice.call(arguments)),
			    t = args[argOffset].target;

			t.classList.add('spinning');
			t.disabled = true;

			if (t.blur)
				t.blur();

			Promise.resolve(fn.apply(ctx, args)).finally(function() {
				t.classList.remove('spinning');
				t.disabled = false;
			});
		};
	},

	instantiateView: function(path) {
		var name = 'view.%s'.format(path.replace(/\//g, '.'));

		return L.require(name).then(function(view) {
			if (!(view instanceof L.view))
				throw new TypeError('Loaded class %s is not a descendant of View'.format(name));
			return view;
		}).catch(function(err) {
			dom.content(document.querySelector('#view'), null);
			L.error(err);
		});
	},

	tabs: tabs,

	AbstractElement: UIElement,
	Textfield: UITextfield,
	Textarea: UITextarea,
	Checkbox: UICheckbox,
	Select: UISelect,
	Dropdown: UIDropdown,
	Combobox: UICombobox,
	DynamicList: UIDynamicList,
	Hiddenfield: UIHiddenfield
});
