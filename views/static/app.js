// tenantgate page behaviour: the copy button and the tenant picker. Served from /static with
// script-src 'self'; every page works without it, the picker then falls back to the text field.
(function () {
  'use strict';

  function setupCopyButtons() {
    document.querySelectorAll('[data-copy-target]').forEach(function (button) {
      button.hidden = false;
      button.addEventListener('click', function () {
        var target = document.getElementById(button.getAttribute('data-copy-target'));
        if (!target) return;
        var text = target.textContent.trim();
        var done = function () {
          button.textContent = 'Copied';
          setTimeout(function () { button.textContent = 'Copy'; }, 2000);
        };
        if (navigator.clipboard && navigator.clipboard.writeText) {
          navigator.clipboard.writeText(text).then(done, function () { selectText(target); });
        } else {
          selectText(target);
        }
      });
    });
  }

  function selectText(node) {
    var range = document.createRange();
    range.selectNodeContents(node);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  // The picker asks the server for one page of matching tenants at a time, so a network with
  // 10,000 tenants never sends 10,000 checkboxes. The chosen IDs live in the form's text field.
  function setupTenantPicker(root) {
    var searchUrl = root.getAttribute('data-search-url');
    var input = root.querySelector('[data-picker-search]');
    var results = root.querySelector('[data-picker-results]');
    var status = root.querySelector('[data-picker-status]');
    var more = root.querySelector('[data-picker-more]');
    var selectAll = root.querySelector('[data-picker-select-all]');
    var field = document.getElementById(root.getAttribute('data-field'));
    var matchingList = root.querySelector('[data-picker-matching]');
    var form = field.form;
    var offset = 0;
    var query = '';
    var timer = null;
    // Responses can arrive out of order; only the latest request may fill the list.
    var latest = 0;

    root.hidden = false;

    function chosen() {
      return new Set(field.value.split(/[\s,;]+/).filter(Boolean));
    }

    function setChosen(set) {
      field.value = Array.from(set).join('\n');
    }

    function render(ids, append) {
      if (!append) results.textContent = '';
      var current = chosen();
      ids.forEach(function (id) {
        var label = document.createElement('label');
        label.className = 'check';
        var box = document.createElement('input');
        box.type = 'checkbox';
        box.value = id;
        box.checked = current.has(id);
        box.addEventListener('change', function () {
          var set = chosen();
          if (box.checked) set.add(id); else set.delete(id);
          setChosen(set);
        });
        label.appendChild(box);
        label.appendChild(document.createTextNode(' ' + id));
        results.appendChild(label);
      });
    }

    function load(append) {
      var url = searchUrl + '?q=' + encodeURIComponent(query) + '&offset=' + offset;
      var request = ++latest;
      fetch(url, { headers: { Accept: 'application/json' }, credentials: 'same-origin' })
        .then(function (response) { return response.json(); })
        .then(function (page) {
          if (request !== latest) return;
          render(page.tenantIds, append);
          offset += page.tenantIds.length;
          status.textContent = page.total + ' matching tenant' + (page.total === 1 ? '' : 's') + (offset < page.total ? ', showing ' + offset : '');
          more.hidden = offset >= page.total;
          selectAll.hidden = page.total === 0;
          selectAll.textContent = 'Select all ' + page.total + ' matching';
        })
        .catch(function () { status.textContent = 'Searching failed; type the tenant IDs in the field below instead.'; });
    }

    input.addEventListener('input', function () {
      clearTimeout(timer);
      timer = setTimeout(function () { query = input.value.trim(); offset = 0; load(false); }, 200);
    });
    input.addEventListener('keydown', function (event) {
      if (event.key === 'Enter') { event.preventDefault(); clearTimeout(timer); query = input.value.trim(); offset = 0; load(false); }
    });
    more.addEventListener('click', function () { load(true); });
    // "Select all matching" sends the search itself; the server adds every tenant it matches.
    selectAll.addEventListener('click', function () {
      var hidden = document.createElement('input');
      hidden.type = 'hidden';
      hidden.name = root.getAttribute('data-matching-name');
      hidden.value = query;
      form.appendChild(hidden);
      var item = document.createElement('li');
      item.textContent = query === '' ? 'all tenants of the network' : 'all tenants matching "' + query + '"';
      matchingList.appendChild(item);
      matchingList.hidden = false;
      results.querySelectorAll('input[type=checkbox]').forEach(function (box) { box.checked = true; });
    });
    load(false);
  }

  document.addEventListener('DOMContentLoaded', function () {
    setupCopyButtons();
    document.querySelectorAll('[data-tenant-picker]').forEach(setupTenantPicker);
  });
})();
